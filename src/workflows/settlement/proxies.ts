/** The settlement's activities, proxied per purpose (presets in ../activity-options). */
import { proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../../activities/notices/notifications';
import type { SettlementActivities } from '../../activities/settlement';
import { BOOKKEEPING } from '../activity-options';

export const records = proxyActivities<Pick<SettlementActivities, 'recordStatementStep' | 'missingBusinessInfo' | 'issuePaymentRequest' | 'statementPage' | 'invoiceDue'>>(BOOKKEEPING);
export const notices = proxyActivities<Pick<SettlementActivities, 'remindStatementStep'> & Pick<NotificationActivities, 'notifyMerchant'>>(BOOKKEEPING);

/** The scope of a whole period in one statement: minutes on a large month, not seconds. */
export const scope = proxyActivities<Pick<SettlementActivities, 'computeSettlementScope'>>({ ...BOOKKEEPING, startToCloseTimeout: '30m' });
