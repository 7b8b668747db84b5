/**
 * Merchant notifications: an in-site message row always, and an e-mail over SMTP when a
 * mail transport is configured and the merchant has a contact address. One notification
 * per idempotency key; a retried activity does not send a second e-mail once one was sent.
 */
import { log } from '@temporalio/activity';
import type { Queryable } from '../../db/pool';
import { findMerchant } from '../../db/repositories/catalog/merchants';
import { insertNotification, markEmail } from '../../db/repositories/notices/notifications';
import { describeNetworkError } from '../../clients/http';
import type { Mailer } from '../../clients/mailer';

export interface CustomerNotification {
  idempotencyKey: string;
  customerId: string;
  email?: string;
  subject: string;
  body: string;
}

export interface MerchantNotification {
  idempotencyKey: string;
  merchantId: string;
  subject: string;
  body: string;
}

export interface NotificationDeps {
  db: Queryable;
  /** Absent when SMTP_URL is not set: in-site messages only. */
  mailer?: Mailer;
}

export function createNotificationActivities({ db, mailer }: NotificationDeps) {
  /** Writes the in-site message once, then sends its e-mail once (when there is an address and a transport). */
  async function notify(
    recipient: { type: 'merchant' | 'customer'; id: string; email?: string | null },
    n: { idempotencyKey: string; subject: string; body: string },
  ): Promise<{ notificationId: string; email: string }> {
    const emailTo = mailer && recipient.email ? recipient.email : undefined;
    const row = await insertNotification(db, {
      idempotencyKey: n.idempotencyKey,
      recipientType: recipient.type,
      recipientId: recipient.id,
      channel: 'in-site',
      subject: n.subject,
      body: n.body,
      emailStatus: emailTo ? 'pending' : 'not-applicable',
    });
    if (!emailTo || !mailer || row.emailStatus !== 'pending') return { notificationId: row.id, email: row.emailStatus };
    try {
      await mailer.send({ to: emailTo, subject: n.subject, text: n.body });
      await markEmail(db, row.id, 'sent');
      return { notificationId: row.id, email: 'sent' };
    } catch (error) {
      const message = describeNetworkError(error);
      await markEmail(db, row.id, 'failed', message);
      // The in-site message stands; a mail outage must not hold up fulfilment.
      log.warn('notification e-mail failed', { notificationId: row.id, recipientType: recipient.type, [`${recipient.type}Id`]: recipient.id, error: message });
      return { notificationId: row.id, email: 'failed' };
    }
  }

  return {
    async notifyMerchant(n: MerchantNotification): Promise<{ notificationId: string; email: string }> {
      const merchant = await findMerchant(db, n.merchantId);
      return notify({ type: 'merchant', id: n.merchantId, email: merchant?.contactEmail }, n);
    },
    /** Buyer messages (trial reminders): in-site always, e-mail when the order carried an address. */
    async notifyCustomer(n: CustomerNotification): Promise<{ notificationId: string; email: string }> {
      return notify({ type: 'customer', id: n.customerId, email: n.email }, n);
    },
  };
}

/** In-site messages and e-mail to merchants and buyers: idempotent per key, retried. */
export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
