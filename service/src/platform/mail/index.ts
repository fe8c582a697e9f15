import fs from 'node:fs';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

/** SMTP in production; in the embedded mode each mail is written to the outbox folder as an .eml file. */
export function createMailer(opts: { smtpUrl?: string; outboxDir: string; from: string }): Mailer {
  let transport: Transporter;
  if (opts.smtpUrl) {
    const url = new URL(opts.smtpUrl);
    transport = nodemailer.createTransport({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
      secure: url.protocol === 'smtps:',
      auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
      // Fail fast when the mail server is away: callers answer 503 instead of hanging.
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: 10_000,
    });
  } else {
    fs.mkdirSync(opts.outboxDir, { recursive: true });
    transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  }
  return {
    async send(mail) {
      const info = await transport.sendMail({ from: opts.from, ...mail });
      if (!opts.smtpUrl) {
        const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${info.messageId.replace(/[^\w.-]/g, '')}.eml`;
        fs.writeFileSync(path.join(opts.outboxDir, name), (info as unknown as { message: Buffer }).message);
      }
    },
    close() {
      transport.close();
    },
  };
}
