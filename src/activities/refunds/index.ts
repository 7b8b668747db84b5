/** The refund capability's activities: its request and decision records. */
export { createRefundActivities, type RefundRecordDeps as RefundActivityDeps } from './records';
