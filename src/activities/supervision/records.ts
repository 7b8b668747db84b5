/**
 * The supervision's activities: its row and timeline in PostgreSQL, and the reminders sent
 * when an order stays unaccepted (spec §9.1: weekly after 180 days, to the merchant and the
 * customer's account manager).
 */
import type { Db } from '../../db/pool';
import { insertNotification } from '../../db/repositories/notices/notifications';
import { saveSupervisionStep, type SupervisionStep } from '../../db/repositories/supervision/supervisions';

export interface SupervisionRecordDeps {
  db: Db;
}

export interface AccountManagerNotification {
  idempotencyKey: string;
  customerId: string;
  subject: string;
  body: string;
}

/** Who an account manager's in-site message is addressed to: the customer's account manager, whoever holds that role. */
export const accountManagerOf = (customerId: string): string => `account-manager:${customerId}`;

export function createSupervisionActivities({ db }: SupervisionRecordDeps) {
  return {
    /** The supervision's node and the timeline entry that moved it there, in one transaction. */
    async recordSupervisionStep(step: SupervisionStep): Promise<void> {
      await db.withTransaction((tx) => saveSupervisionStep(tx, step));
    },
    /**
     * An in-site message to the customer's account manager (an operator-side role): the order
     * system knows who that is; we address the role by the customer.
     */
    async notifyAccountManager(n: AccountManagerNotification): Promise<{ notificationId: string }> {
      const row = await insertNotification(db, {
        idempotencyKey: n.idempotencyKey,
        recipientType: 'operator',
        recipientId: accountManagerOf(n.customerId),
        channel: 'in-site',
        subject: n.subject,
        body: n.body,
        emailStatus: 'not-applicable',
      });
      return { notificationId: row.id };
    },
  };
}

export type SupervisionActivities = ReturnType<typeof createSupervisionActivities>;
