/** Custom search attributes that let operators find orders in the Temporal Web UI. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const OrderIdAttribute = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
export const MerchantIdAttribute = defineSearchAttributeKey('MerchantId', SearchAttributeType.KEYWORD);
export const FulfillmentStatusAttribute = defineSearchAttributeKey('FulfillmentStatus', SearchAttributeType.KEYWORD);
/** Tenant sync workflows: the instance and the buyer tenant they sync. */
export const InstanceIdAttribute = defineSearchAttributeKey('InstanceId', SearchAttributeType.KEYWORD);
export const TenantIdAttribute = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
/** Supervision workflows: the node a supervision stands at (spec §9.1). */
export const SupervisionNodeAttribute = defineSearchAttributeKey('SupervisionNode', SearchAttributeType.KEYWORD);
/** Exit workflows: the step a merchant's exit stands at (spec §9.4), with MerchantId. */
export const ExitStepAttribute = defineSearchAttributeKey('ExitStep', SearchAttributeType.KEYWORD);
/** Settlement workflows: the period `YYYYMM` a bill run or statement settles (spec §9.2). */
export const SettlementPeriodAttribute = defineSearchAttributeKey('SettlementPeriod', SearchAttributeType.KEYWORD);

/** Every custom attribute with its type, for registering them on a server. */
export const CUSTOM_SEARCH_ATTRIBUTES = [OrderIdAttribute, MerchantIdAttribute, FulfillmentStatusAttribute, InstanceIdAttribute, TenantIdAttribute, SupervisionNodeAttribute, ExitStepAttribute, SettlementPeriodAttribute] as const;
