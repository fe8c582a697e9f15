import fs from 'node:fs';
import os from 'node:os';
import type { Writable } from 'node:stream';
import bunyan from 'bunyan';

export type Logger = bunyan;

/** Keys whose values never reach a log line, at any depth. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|refresh|api[-_]?key|code_verifier/i;
const REDACTED = '[REDACTED]';

/** Keys already judged: a log line has a dozen keys, all lines together a few hundred names. */
const secretKeys = new Map<string, boolean>();
function isSecret(key: string): boolean {
  let secret = secretKeys.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key);
    if (secretKeys.size < 10_000) secretKeys.set(key, secret);
  }
  return secret;
}

/**
 * The value with every secret key's value replaced. An object is copied only if something in it
 * is replaced: most lines (one per request) hold no secret, and copying each was most of the cost
 * of writing them.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) return { type: value.name, message: value.message, stack_trace: value.stack };
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = source[k];
    const r = isSecret(k) ? REDACTED : redact(v, depth + 1);
    if (r !== v && !out) {
      out = {};
      for (const earlier of keys.slice(0, i)) out[earlier] = source[earlier];
    }
    if (out) out[k] = r;
  }
  return out ?? value;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** Maps a bunyan record onto Elastic Common Schema field names. */
export function toEcs(rec: Record<string, unknown>): Record<string, unknown> {
  const { time, level, msg, name, hostname, pid, v: _v, err, ...rest } = rec;
  const ecs: Record<string, unknown> = {
    '@timestamp': time instanceof Date ? time.toISOString() : time,
    'log.level': LEVEL_NAMES[level as number] ?? String(level),
    'ecs.version': '8.11.0',
    message: msg,
    service: { name },
    host: { hostname },
    process: { pid },
    ...(redact(rest) as Record<string, unknown>),
  };
  if (err) ecs.error = redact(err);
  return ecs;
}

/** A bunyan raw stream that writes ECS JSON lines to a Writable. */
function ecsStream(out: Writable): bunyan.Stream {
  return {
    type: 'raw',
    stream: { write: (rec: object) => out.write(`${JSON.stringify(toEcs(rec as Record<string, unknown>))}\n`) } as unknown as Writable,
  };
}

/**
 * A size-bounded file for the Filebeat sidecar: when it passes maxBytes it is
 * renamed to `<file>.1` (one generation kept) and a new one is started.
 */
export class BoundedFile {
  private fd: number;
  private size: number;
  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
  ) {
    this.fd = fs.openSync(file, 'a');
    this.size = fs.fstatSync(this.fd).size;
  }
  write(line: string): boolean {
    if (this.size + line.length > this.maxBytes) {
      fs.closeSync(this.fd);
      fs.renameSync(this.file, `${this.file}.1`);
      this.fd = fs.openSync(this.file, 'a');
      this.size = 0;
    }
    fs.writeSync(this.fd, line);
    this.size += Buffer.byteLength(line);
    return true;
  }
}

export function createLogger(opts: {
  level: bunyan.LogLevel;
  name?: string;
  file?: string;
  fileMaxBytes?: number;
  out?: Writable;
}): Logger {
  const streams = [ecsStream(opts.out ?? process.stdout)];
  if (opts.file) streams.push(ecsStream(new BoundedFile(opts.file, opts.fileMaxBytes ?? 50 * 1024 * 1024) as unknown as Writable));
  return bunyan.createLogger({ name: opts.name ?? 'mate-api', hostname: os.hostname(), level: opts.level, streams });
}
