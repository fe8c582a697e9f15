import fs from 'node:fs';
import path from 'node:path';
import type { Transporter } from 'nodemailer';

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

/**
 * SMTP in production; in the embedded mode each mail is written to the outbox folder as an .eml file.
 * nodemailer is loaded with the first mail: most processes never send one, and start-up need not pay for it.
 */
export function createMailer(opts: { smtpUrl?: string; outboxDir: string; from: string }): Mailer {
  if (!opts.smtpUrl) fs.mkdirSync(opts.outboxDir, { recursive: true });
  let transport: Promise<Transporter> | undefined;
  const open = async (): Promise<Transporter> => {
    const { default: nodemailer } = await import('nodemailer');
    if (!opts.smtpUrl) return nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    const url = new URL(opts.smtpUrl);
    return nodemailer.createTransport({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
      secure: url.protocol === 'smtps:',
      auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
      // Fail fast when the mail server is away: callers answer 503 instead of hanging.
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: 10_000,
    });
  };
  return {
    async send(mail) {
      const info = await (await (transport ??= open())).sendMail({ from: opts.from, ...mail });
      if (!opts.smtpUrl) {
        const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${info.messageId.replace(/[^\w.-]/g, '')}.eml`;
        fs.writeFileSync(path.join(opts.outboxDir, name), (info as unknown as { message: Buffer }).message);
      }
    },
    close() {
      void transport?.then((t) => t.close());
    },
  };
}

/**
 * Sends without making the caller wait: the answer of a recovery call must not
 * depend on whether a mail went out (no account probing by timing). Retries
 * with backoff; a mail that still fails is logged (never its body: it may
 * carry a reset link).
 */
export function createMailQueue(
  mailer: Mailer,
  logger: { warn: (o: object, m: string) => void; error: (o: object, m: string) => void },
  opts: { attempts?: number; baseDelayMs?: number; onResult?: (outcome: 'sent' | 'failed') => void } = {},
) {
  const attempts = opts.attempts ?? 4;
  const baseDelay = opts.baseDelayMs ?? 1_000;
  const pending = new Set<Promise<void>>();
  const deliver = async (mail: Mail) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await mailer.send(mail);
        opts.onResult?.('sent');
        return;
      } catch (err) {
        if (attempt >= attempts) {
          opts.onResult?.('failed');
          logger.error({ err: { message: (err as Error).message }, email: { subject: mail.subject } }, 'mail could not be delivered');
          return;
        }
        logger.warn({ email: { subject: mail.subject }, attempt }, 'mail delivery failed; retrying');
        await new Promise((r) => setTimeout(r, baseDelay * 4 ** (attempt - 1)));
      }
    }
  };
  return {
    enqueue(mail: Mail): void {
      const p = deliver(mail).finally(() => pending.delete(p));
      pending.add(p);
    },
    /** Resolves when every queued mail is sent or given up (shutdown, tests). */
    idle: () => Promise.all([...pending]).then(() => undefined),
  };
}

export type MailQueue = ReturnType<typeof createMailQueue>;
