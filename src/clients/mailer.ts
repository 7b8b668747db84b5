/** E-mail over SMTP (nodemailer), used by notifications when SMTP_URL is set. */
import nodemailer from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export interface SmtpMailerOptions {
  /** smtp://user:pass@host:587 or smtps://… */
  url: string;
  from: string;
  /** Bounds each step (connecting, the greeting, every reply), so a stalled server fails the send instead of the activity's timeout. */
  timeoutMs: number;
}

export function createSmtpMailer({ url, from, timeoutMs }: SmtpMailerOptions): Mailer {
  const transport = nodemailer.createTransport({ url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs });
  return {
    async send({ to, subject, text }) {
      await transport.sendMail({ from, to, subject, text });
    },
  };
}
