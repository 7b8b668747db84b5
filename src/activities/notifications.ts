/**
 * Merchant notifications: an in-site message row always, and an e-mail over SMTP when a
 * mail transport is configured and the merchant has a contact address. One notification
 * per idempotency key; a retried activity does not send a second e-mail once one was sent.
 */
import { log } from '@temporalio/activity';
import type { Queryable } from '../db/pool';
import { findMerchant } from '../db/repositories/merchants';
import { insertNotification, markEmail } from '../db/repositories/notifications';
import type { MerchantNotification } from '../shared/types';
import { describeNetworkError } from './merchant-client';

export interface Mailer {
  send(message: { to: string; subject: string; text: string }): Promise<void>;
}

export interface NotificationDeps {
  db: Queryable;
  mailer?: Mailer;
}

export function createNotificationActivities({ db, mailer }: NotificationDeps) {
  return {
    async notifyMerchant(n: MerchantNotification): Promise<{ notificationId: string; email: string }> {
      const merchant = await findMerchant(db, n.merchantId);
      const emailTo = mailer && merchant?.contactEmail ? merchant.contactEmail : undefined;
      const row = await insertNotification(db, {
        idempotencyKey: n.idempotencyKey,
        recipientType: 'merchant',
        recipientId: n.merchantId,
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
        log.warn('notification e-mail failed', { notificationId: row.id, merchantId: n.merchantId, error: message });
        return { notificationId: row.id, email: 'failed' };
      }
    },
  };
}
