/** The supervision capability's activities: its records and reminders. */
export { createSupervisionActivities, type SupervisionRecordDeps as SupervisionActivityDeps } from './records';
