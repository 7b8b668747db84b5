/**
 * Merchant notices by e-mail over real SMTP: nodemailer (createSmtpMailer) talks to an SMTP
 * server on loopback (the smtp-server package), and the notification row records the result.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createSmtpMailer } from '../../src/clients/mailer';
import { createNotificationActivities } from '../../src/activities/notices/notifications';
import type { Db } from '../../src/db/pool';
import { activityEnv, closedPortUrl, registerMerchant, testDb, uniqueId } from './fixtures';

interface Received {
  from: string;
  to: string[];
  data: string;
}

let db: Db;
let server: SMTPServer;
let port: number;
const received: Received[] = [];

beforeAll(async () => {
  db = testDb();
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await db.close();
});

test('when SMTP is configured and the merchant has an address, then the first-failure notice arrives by e-mail once', async () => {
  const merchantId = uniqueId('M-smtp');
  await registerMerchant(db, { merchantId, productionUrl: 'https://isv.example.com/p', accessKey: 'k-smtp-0001', contactEmail: 'ops@isv.example.com' });
  const activities = createNotificationActivities({ db, mailer: createSmtpMailer({ url: `smtp://127.0.0.1:${port}`, from: 'fulfilment@marketplace.example.com', timeoutMs: 5000 }) });
  const notice = { idempotencyKey: uniqueId('notice'), merchantId, subject: 'Provisioning of order CS1 is failing', body: 'The newInstance call failed: 000005.' };

  const first = await activityEnv().run(activities.notifyMerchant, notice);
  const again = await activityEnv().run(activities.notifyMerchant, notice);

  expect(first.email).toBe('sent');
  expect(again).toEqual({ notificationId: first.notificationId, email: 'sent' });
  const mails = received.filter((m) => m.data.includes('Provisioning of order CS1 is failing'));
  expect(mails).toHaveLength(1);
  expect(mails[0]).toMatchObject({ from: 'fulfilment@marketplace.example.com', to: ['ops@isv.example.com'] });
  expect(mails[0]!.data).toContain('The newInstance call failed: 000005.');
});

test('when the SMTP server cannot be reached, then the in-site notice stands and the e-mail is marked failed', async () => {
  const merchantId = uniqueId('M-smtp');
  await registerMerchant(db, { merchantId, productionUrl: 'https://isv.example.com/p', accessKey: 'k-smtp-0002', contactEmail: 'ops@isv.example.com' });
  // Nothing listens on this port any more: the transport cannot connect.
  const closedPort = new URL(await closedPortUrl()).port;
  const activities = createNotificationActivities({ db, mailer: createSmtpMailer({ url: `smtp://127.0.0.1:${closedPort}`, from: 'fulfilment@marketplace.example.com', timeoutMs: 5000 }) });

  const result = await activityEnv().run(activities.notifyMerchant, { idempotencyKey: uniqueId('notice'), merchantId, subject: 'S', body: 'B' });

  expect(result.email).toBe('failed');
  const { rows } = await db.query<{ email_status: string; email_error: string }>('select email_status, email_error from notifications where notification_id = $1', [result.notificationId]);
  expect(rows[0]?.email_status).toBe('failed');
  expect(rows[0]?.email_error).toMatch(/ECONNREFUSED|connect/);
});

test('when the SMTP server accepts the connection but never greets, then the send gives up after the configured timeout and the e-mail is marked failed', async () => {
  const merchantId = uniqueId('M-smtp');
  await registerMerchant(db, { merchantId, productionUrl: 'https://isv.example.com/p', accessKey: 'k-smtp-0003', contactEmail: 'ops@isv.example.com' });
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const silentPort = (silent.address() as AddressInfo).port;
  const activities = createNotificationActivities({ db, mailer: createSmtpMailer({ url: `smtp://127.0.0.1:${silentPort}`, from: 'fulfilment@marketplace.example.com', timeoutMs: 300 }) });

  const started = Date.now();
  const result = await activityEnv().run(activities.notifyMerchant, { idempotencyKey: uniqueId('notice'), merchantId, subject: 'S', body: 'B' });
  const elapsed = Date.now() - started;
  sockets.forEach((socket) => socket.destroy());
  await new Promise<void>((resolve) => silent.close(() => resolve()));

  expect(sockets).toHaveLength(1);
  expect(result.email).toBe('failed');
  expect(elapsed).toBeGreaterThanOrEqual(290);
  // nodemailer's own greeting timeout is 30 s: only ours can end the send this soon.
  expect(elapsed).toBeLessThan(5000);
  const { rows } = await db.query<{ email_error: string }>('select email_error from notifications where notification_id = $1', [result.notificationId]);
  // The greeting and idle-socket timeouts are both ours and race: either one may end the send.
  expect(rows[0]?.email_error).toMatch(/^(Greeting never received|Timeout)$/);
});
