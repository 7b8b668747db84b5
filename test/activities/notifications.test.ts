/**
 * Merchant notifications on real PostgreSQL: one in-site row per idempotency key, and an
 * e-mail only when a mailer is configured and the merchant has a contact address.
 *
 * The mailers here are test implementations of the `Mailer` interface, the activity's own
 * boundary, so each case can count sends exactly; the real SMTP path (nodemailer to an SMTP
 * server on loopback) is covered in smtp.test.ts.
 */
import { createNotificationActivities } from '../../src/activities/notices/notifications';
import type { Mailer } from '../../src/clients/mailer';
import type { Db } from '../../src/db/pool';
import type { MerchantNotification } from '../../src/activities/notices/notifications';
import { activityEnv, registerMerchant, testDb, uniqueId } from './fixtures';

interface NotificationRow {
  id: string;
  recipientType: string;
  recipientId: string;
  channel: string;
  subject: string;
  body: string;
  emailStatus: string;
  emailError: string | null;
}

type SentMail = Parameters<Mailer['send']>[0];

/** Records every message it is asked to send. */
function recordingMailer(): Mailer & { sent: SentMail[] } {
  const sent: SentMail[] = [];
  return {
    sent,
    async send(message) {
      sent.push({ ...message });
    },
  };
}

/** Refuses every message, as an SMTP server that is down would. */
function refusingMailer(): Mailer & { attempts: SentMail[] } {
  const attempts: SentMail[] = [];
  return {
    attempts,
    async send(message) {
      attempts.push({ ...message });
      throw new Error('421 4.3.2 service not available');
    },
  };
}

const CONTACT = 'ops@merchant.example.com';
let db: Db;
let withContact: string;
let withoutContact: string;

beforeAll(async () => {
  db = testDb();
  withContact = uniqueId('M-mail');
  withoutContact = uniqueId('M-nomail');
  await registerMerchant(db, { merchantId: withContact, productionUrl: 'http://127.0.0.1:1/saasproduce', accessKey: 'k', contactEmail: CONTACT });
  await registerMerchant(db, { merchantId: withoutContact, productionUrl: 'http://127.0.0.1:1/saasproduce', accessKey: 'k' });
});

afterAll(async () => {
  await db?.close();
});

function notification(merchantId: string): MerchantNotification {
  const orderId = uniqueId('CS');
  return {
    idempotencyKey: `subscription:${orderId}:${orderId}-000001:provisioning-failed`,
    merchantId,
    subject: `Order ${orderId}: instance could not be provisioned`,
    body: `newInstance kept failing with 000100 for order line ${orderId}-000001.`,
  };
}

async function rowsFor(key: string): Promise<NotificationRow[]> {
  const { rows } = await db.query<NotificationRow>(
    `select notification_id::text as id, recipient_type as "recipientType", recipient_id as "recipientId", channel, subject, body,
            email_status as "emailStatus", email_error as "emailError"
       from notifications where idempotency_key = $1::text`,
    [key],
  );
  return rows;
}

describe('notifyMerchant', () => {
  test('when called twice with one idempotency key, then one in-site row and the same notificationId; without a mailer the e-mail is not applicable', async () => {
    const n = notification(withContact);
    const { run } = activityEnv();
    const activities = createNotificationActivities({ db });

    const first = await run(activities.notifyMerchant, n);
    const second = await run(activities.notifyMerchant, n);

    expect(first).toEqual({ notificationId: expect.stringMatching(/^\d+$/), email: 'not-applicable' });
    expect(second).toEqual(first);
    expect(await rowsFor(n.idempotencyKey)).toEqual([
      {
        id: first.notificationId,
        recipientType: 'merchant',
        recipientId: withContact,
        channel: 'in-site',
        subject: n.subject,
        body: n.body,
        emailStatus: 'not-applicable',
        emailError: null,
      },
    ]);
  });

  test('when the merchant has no contact address, then no e-mail is attempted even with a mailer', async () => {
    const n = notification(withoutContact);
    const mailer = recordingMailer();
    const result = await activityEnv().run(createNotificationActivities({ db, mailer }).notifyMerchant, n);

    expect(result).toEqual({ notificationId: expect.stringMatching(/^\d+$/), email: 'not-applicable' });
    expect(mailer.sent).toEqual([]);
    expect(await rowsFor(n.idempotencyKey)).toEqual([expect.objectContaining({ emailStatus: 'not-applicable', emailError: null })]);
  });

  test('when the mailer refuses, then the in-site row stands, the e-mail is failed with its error, a warning is logged, and a repeat does not resend', async () => {
    const n = notification(withContact);
    const mailer = refusingMailer();
    const { run, logs } = activityEnv();
    const activities = createNotificationActivities({ db, mailer });

    const result = await run(activities.notifyMerchant, n);

    expect(result).toEqual({ notificationId: expect.stringMatching(/^\d+$/), email: 'failed' });
    expect(mailer.attempts).toEqual([{ to: CONTACT, subject: n.subject, text: n.body }]);
    expect(await rowsFor(n.idempotencyKey)).toEqual([
      expect.objectContaining({ id: result.notificationId, channel: 'in-site', emailStatus: 'failed', emailError: '421 4.3.2 service not available' }),
    ]);
    expect(logs).toContainEqual({
      level: 'WARN',
      message: 'notification e-mail failed',
      meta: expect.objectContaining({ notificationId: result.notificationId, merchantId: withContact, error: '421 4.3.2 service not available' }),
    });

    expect(await run(activities.notifyMerchant, n)).toEqual(result);
    expect(mailer.attempts).toHaveLength(1);
  });

  test('when the mailer sends, then the e-mail is sent to the contact address once, and a repeat with the same key sends nothing', async () => {
    const n = notification(withContact);
    const mailer = recordingMailer();
    const { run } = activityEnv();
    const activities = createNotificationActivities({ db, mailer });

    const first = await run(activities.notifyMerchant, n);
    expect(first).toEqual({ notificationId: expect.stringMatching(/^\d+$/), email: 'sent' });
    expect(mailer.sent).toEqual([{ to: CONTACT, subject: n.subject, text: n.body }]);
    expect(await rowsFor(n.idempotencyKey)).toEqual([expect.objectContaining({ id: first.notificationId, emailStatus: 'sent', emailError: null })]);

    const again = await run(activities.notifyMerchant, n);
    expect(again).toEqual(first);
    expect(mailer.sent).toHaveLength(1);
    expect(await rowsFor(n.idempotencyKey)).toHaveLength(1);
  });
});
