/** The refund's activities, proxied per purpose (presets in ../activity-options). */
import { proxyActivities } from '@temporalio/workflow';
import type { OrderSystemActivities } from '../../activities/notices/order-system';
import type { RefundActivities } from '../../activities/refunds/records';
import { BOOKKEEPING, ORDER_SYSTEM_CALLBACK } from '../activity-options';

export const orderSystem = proxyActivities<Pick<OrderSystemActivities, 'notifyOrderSystem'>>(ORDER_SYSTEM_CALLBACK);
export const records = proxyActivities<Pick<RefundActivities, 'recordRefundRequested' | 'recordRefundSteps'>>(BOOKKEEPING);
