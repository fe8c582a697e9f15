import { zodToOpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { ZodType } from 'zod';
import { z } from './zod.js';

/**
 * zod-to-openapi renders less than the server checks: a pipe as its input
 * side only (`trim().pipe(z.email())` loses the email rule), a string's first
 * regex only, nothing of a trim or a refinement. A client generated from such
 * a document sends values the server refuses. `documentConstraints` adds the
 * rest to each schema's OpenAPI metadata before the document is generated:
 * formats, every pattern (the ones past the first as `allOf`), the no-padding
 * rule a trim implies, and refinements as text and as `x-refinements` (a
 * refinement is code; the document can only name it).
 */

/** A value a trim leaves unchanged: no whitespace at either end (JS trim and `\s` share one set). */
export const UNPADDED_PATTERN = '^(?:\\S(?:[\\s\\S]*\\S)?)?$';

/** zod string formats by their OpenAPI format name (zod-to-openapi's own mapping, for the ones used here). */
const FORMATS: Record<string, string> = { email: 'email', url: 'uri', uuid: 'uuid', datetime: 'date-time', date: 'date' };

interface Check {
  _zod: { def: { check: string; format?: string; pattern?: RegExp; tx?: (v: string) => string; error?: unknown } };
}
interface Def {
  type: string;
  checks?: Check[];
  format?: string;
  pattern?: RegExp;
  protocol?: RegExp;
  hostname?: RegExp;
  innerType?: ZodType;
  in?: ZodType;
  out?: ZodType;
  shape?: Record<string, ZodType>;
  element?: ZodType;
  options?: ZodType[];
  left?: ZodType;
  right?: ZodType;
  valueType?: ZodType;
}

/** What the server checks beyond what zod-to-openapi renders. */
interface Extra {
  format?: string;
  patterns: string[];
  notes: string[];
  refinements: string[];
}

const defOf = (schema: ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch']);

function refinementMessage(check: Check): string {
  const { error } = check._zod.def;
  try {
    const m: unknown = typeof error === 'function' ? error({}) : error;
    const text = typeof m === 'string' ? m : (m as { message?: unknown } | undefined)?.message;
    if (typeof text === 'string' && text) return text;
  } catch {
    /* a message built from the issue: none to show */
  }
  return 'a rule of its own';
}

/** The messages of the refinements on `schema` itself (a query or params object, say). */
export function refinementsOf(schema: ZodType | undefined): string[] {
  return (schema ? (defOf(schema).checks ?? []) : []).filter((c) => c._zod.def.check === 'custom').map(refinementMessage);
}

/** A JSON Schema pattern (ECMA-262, Unicode) for a regex, unless a flag changes its meaning. */
const patternOf = (re: RegExp) => (re.flags.replace(/[gyud]/g, '') ? undefined : re.source);

/** The constraints of a string schema; `rendered`: the first regex, which zod-to-openapi already shows. */
function stringExtra(def: Def, rendered: boolean): Extra {
  const extra: Extra = { patterns: [], notes: [], refinements: [] };
  let regexes = 0;
  for (const check of def.checks ?? []) {
    const c = check._zod.def;
    if (c.check === 'string_format' && c.format === 'regex' && c.pattern) {
      const pattern = patternOf(c.pattern);
      if (regexes++ > 0 || !rendered) {
        if (pattern) extra.patterns.push(pattern);
        else extra.notes.push(`matches ${String(c.pattern)}`);
      }
    } else if (c.check === 'overwrite' && c.tx?.(' \t x \n') === 'x') {
      extra.patterns.push(UNPADDED_PATTERN);
      extra.notes.push('no leading or trailing whitespace (it is trimmed before the length is checked)');
    } else if (c.check === 'custom') {
      extra.refinements.push(refinementMessage(check));
    }
  }
  if (def.format && def.format !== 'regex') {
    extra.format = FORMATS[def.format];
    // zod's rule for a format is stricter than JSON Schema's (its email has no quoted local part).
    if (def.pattern && patternOf(def.pattern)) extra.patterns.push(def.pattern.source);
    const scheme = def.protocol && /^\^([\w|+.-]+)\$$/.exec(def.protocol.source)?.[1];
    if (scheme) extra.patterns.push(`^(?:${scheme}):`);
    if (def.hostname)
      extra.notes.push(def.hostname === z.regexes.domain ? 'its host is a domain name' : `its host matches ${def.hostname}`);
  }
  return extra;
}

function merge(a: Extra, b: Extra): Extra {
  return {
    format: b.format ?? a.format,
    patterns: [...new Set([...a.patterns, ...b.patterns])],
    notes: [...new Set([...a.notes, ...b.notes])],
    refinements: [...new Set([...a.refinements, ...b.refinements])],
  };
}

const NONE: Extra = { patterns: [], notes: [], refinements: [] };
const done = new WeakMap<ZodType, Extra>();

function record(schema: ZodType, extra: Extra): void {
  const meta = zodToOpenAPIRegistry.get(schema) as Record<string, unknown> | undefined;
  // A schema whose document the route author wrote (`type` given) is theirs as written.
  if (meta?.type) return;
  if (!extra.format && !extra.patterns.length && !extra.notes.length && !extra.refinements.length) return;
  const said = [...extra.notes, ...extra.refinements.map((r) => `also checked: ${r}`)];
  const description = [meta?.description, ...said].filter(Boolean).join('; ');
  zodToOpenAPIRegistry.add(schema, {
    ...meta,
    ...(extra.format ? { format: extra.format } : {}),
    ...(extra.patterns.length ? { allOf: extra.patterns.map((pattern) => ({ pattern })) } : {}),
    ...(description ? { description } : {}),
    ...(extra.refinements.length ? { 'x-refinements': extra.refinements } : {}),
  } as never);
}

/** Adds to `schema` and everything in it the constraints the document would otherwise miss. */
export function documentConstraints(schema: ZodType): void {
  constraintsOf(schema);
}

function constraintsOf(schema: ZodType): Extra {
  const known = done.get(schema);
  if (known) return known;
  done.set(schema, NONE); // a recursive schema meets itself: nothing more to add there
  const def = defOf(schema);
  let extra: Extra;
  if (def.type === 'string') {
    extra = stringExtra(def, true);
  } else if (WRAPPERS.has(def.type) && def.innerType) {
    extra = constraintsOf(def.innerType);
  } else if (def.type === 'pipe' && def.in && def.out) {
    const out = constraintsOf(def.out);
    if (defOf(def.in).type === 'transform') {
      extra = out; // rendered as its output side
    } else {
      // Rendered as its input side: the output side's rules are added to it.
      const outDef = defOf(def.out);
      extra = merge(constraintsOf(def.in), outDef.type === 'string' ? stringExtra(outDef, false) : NONE);
    }
  } else {
    const children = [
      ...Object.values(def.shape ?? {}),
      ...(def.options ?? []),
      ...[def.element, def.left, def.right, def.valueType].filter((c): c is ZodType => !!c),
    ];
    for (const child of children) constraintsOf(child);
    extra = { ...NONE, refinements: refinementsOf(schema) };
  }
  done.set(schema, extra);
  // Wrappers that carry metadata of their own (a description given to `.optional()`) win over
  // their inner schema's in the document, so they get the additions too.
  if (!WRAPPERS.has(def.type) || zodToOpenAPIRegistry.get(schema)) record(schema, extra);
  return extra;
}
