/** E-mail over SMTP (nodemailer), used by merchant notifications when SMTP_URL is set. */
import nodemailer from 'nodemailer';
import type { Mailer } from '../activities/notices/notifications';

export function createSmtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async send({ to, subject, text }) {
      await transport.sendMail({ from, to, subject, text });
    },
  };
}
