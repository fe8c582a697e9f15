/**
 * fast-check arbitraries derived from the JSON Schemas of the OpenAPI document
 * (3.1, so JSON Schema 2020-12): values that satisfy a schema, values on and
 * just past its bounds, and values of the wrong kind altogether. Covers what
 * the document uses: $ref, allOf/anyOf/oneOf, enum/const, type (or a list of
 * types), object properties/required, arrays, string lengths, patterns and
 * formats, integer and number ranges (exclusive ones too), booleans. A
 * string may carry several patterns (`pattern` and `allOf: [{pattern}]`): a
 * valid one satisfies them all.
 */
import fc from 'fast-check';

export type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  /** Every pattern of a resolved schema (its own and its allOf parts'). */
  patterns?: string[];
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
  [k: string]: unknown;
};

export interface Doc {
  components?: { schemas?: Record<string, Schema> };
}

/** Odd inputs of every kind, for "anything but what the schema wants". */
export const ODD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -0,
  '',
  ' ',
  'x',
  '0',
  '-1',
  'true',
  'null',
  '1e309',
  '\u0000',
  '\u202e\u0000\ud800',
  '한국어 텍스트',
  '😀'.repeat(300),
  'a'.repeat(5000),
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '../../etc/passwd',
  '%00',
  [],
  [1, 'a'],
  {},
  { $ne: null },
  { __proto__: { polluted: true } },
  { constructor: { prototype: { polluted: true } } },
];

export function resolve(schema: Schema, doc: Doc): Schema {
  let s = schema;
  for (let i = 0; s.$ref && i < 10; i++) {
    const name = /^#\/components\/schemas\/(.+)$/.exec(s.$ref)?.[1];
    const target = name ? doc.components?.schemas?.[name] : undefined;
    if (!target) throw new Error(`unresolvable $ref ${s.$ref}`);
    const { $ref: _ref, ...rest } = s;
    s = { ...target, ...rest };
  }
  if (s.allOf?.length) {
    const parts = s.allOf.map((p) => resolve(p, doc));
    const { allOf: _all, ...rest } = s;
    s = parts.reduce<Schema>(
      (acc, p) => ({
        ...acc,
        ...p,
        properties: { ...acc.properties, ...p.properties },
        required: [...(acc.required ?? []), ...(p.required ?? [])],
        patterns: [...(acc.patterns ?? []), ...(p.patterns ?? [])],
      }),
      { ...rest, patterns: patternsOf(rest) },
    );
    if (!s.properties) delete s.properties;
  }
  return s.patterns ? s : { ...s, patterns: patternsOf(s) };
}

const patternsOf = (s: Schema): string[] => [...(s.patterns ?? []), ...(s.pattern ? [s.pattern] : [])];

const types = (s: Schema): string[] => (Array.isArray(s.type) ? s.type : s.type ? [s.type] : []);

function lower(s: Schema): number {
  if (s.exclusiveMinimum !== undefined) return s.type === 'integer' ? Math.floor(s.exclusiveMinimum) + 1 : s.exclusiveMinimum + 1e-9;
  return s.minimum ?? -1_000_000;
}
function upper(s: Schema): number {
  if (s.exclusiveMaximum !== undefined) return s.type === 'integer' ? Math.ceil(s.exclusiveMaximum) - 1 : s.exclusiveMaximum - 1e-9;
  return s.maximum ?? 1_000_000;
}

/** How many sampled values of `from` satisfy `fits`: to choose the generator that rarely needs filtering. */
function yieldOf(from: fc.Arbitrary<string>, fits: (v: string) => boolean): number {
  return fc.sample(from, { numRuns: 30, seed: 1 }).filter(fits).length;
}

/** By the document's schema object (resolving makes a new one each time). */
const generators = new WeakMap<Schema, fc.Arbitrary<string>>();

/**
 * Strings that satisfy the lengths, the format and every pattern. They are drawn from the
 * format's generator (date-time, URI), or from the pattern whose values most often satisfy the
 * rest, and filtered by all of it. Unanchored patterns (a "contains" rule, e.g. [A-Za-z]) are
 * satisfied by any string that matches somewhere.
 */
function validString(s: Schema, key: Schema): fc.Arbitrary<string> {
  const known = generators.get(key);
  if (known) return known;
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? 40, min + 60);
  const regexes = (s.patterns ?? []).flatMap((p) => {
    try {
      return [new RegExp(p, 'u')];
    } catch {
      return []; // a pattern JavaScript cannot read: not checked here
    }
  });
  // UTF-16 lengths, as zod counts (JSON Schema counts code points, never more): valid for both.
  const fits = (v: string) => v.length >= min && v.length <= (s.maxLength ?? Infinity) && regexes.every((re) => re.test(v));
  const candidates: fc.Arbitrary<string>[] = [];
  if (s.format === 'date-time')
    candidates.push(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()));
  else if (s.format === 'uri' || s.format === 'url') candidates.push(fc.webUrl({ validSchemes: ['https'] }));
  else {
    for (const re of regexes) {
      try {
        candidates.push(fc.stringMatching(re));
      } catch {
        /* a pattern fast-check cannot generate from */
      }
    }
    if (s.format === 'email') candidates.push(fc.emailAddress());
    candidates.push(fc.string({ minLength: min, maxLength: max }), fc.string({ minLength: min, maxLength: max, unit: 'grapheme' }));
  }
  const scored = candidates.map((c) => ({ c, hits: yieldOf(c, fits) })).sort((a, b) => b.hits - a.hits);
  const best = scored[0]!;
  if (best.hits === 0) throw new Error(`no generator yields values valid for ${JSON.stringify(s)}`);
  const arb = best.c.filter(fits);
  generators.set(key, arb);
  return arb;
}

/** Values that satisfy the schema (as far as generation can tell; the server may still say no). */
export function valid(schema: Schema, doc: Doc, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, doc);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((a) => valid(a, doc, depth + 1)));
  const ts = types(s);
  if (ts.length > 1) return fc.oneof(...ts.map((type) => valid({ ...s, type }, doc, depth + 1)));
  switch (ts[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: Math.max(lower(s), Number.MIN_SAFE_INTEGER), max: Math.min(upper(s), Number.MAX_SAFE_INTEGER) });
    case 'number':
      return fc.double({ min: lower(s), max: upper(s), noNaN: true, noDefaultInfinity: true });
    case 'string':
      return validString(s, schema);
    case 'array':
      return depth > 4
        ? fc.constant([])
        : fc.array(valid(s.items ?? {}, doc, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 3, 3) });
    case 'object':
    default: {
      if (!s.properties) return ts[0] === 'object' ? fc.constant({}) : fc.constantFrom(...ODD_VALUES.slice(0, 14));
      if (depth > 4) return fc.constant({});
      const props = Object.fromEntries(Object.entries(s.properties).map(([k, p]) => [k, valid(p, doc, depth + 1)]));
      return fc.record(props, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
    }
  }
}

/** Values on a bound and just past it: lengths, ranges, enum neighbours, missing and extra keys. */
export function boundary(schema: Schema, doc: Doc): fc.Arbitrary<unknown> {
  const s = resolve(schema, doc);
  const ts = types(s);
  const picks: unknown[] = [];
  if (s.enum) picks.push(...s.enum, `${String(s.enum[0])}x`, String(s.enum[0]).toUpperCase(), '');
  if (ts.includes('string')) {
    const min = s.minLength ?? 0;
    const max = s.maxLength;
    picks.push('', ' '.repeat(Math.max(1, min)), 'a'.repeat(min), '가'.repeat(min));
    if (min > 0) picks.push('a'.repeat(min - 1));
    if (max !== undefined) picks.push('a'.repeat(max), '가'.repeat(max), 'a'.repeat(max + 1), ` ${'a'.repeat(max)} `);
    if (s.format === 'date-time')
      picks.push('2026-03-02T08:00:00', '2026-02-30T08:00:00Z', '2026-03-02T08:00:00+09:00', '1970-01-01T00:00:00Z');
  }
  if (ts.includes('integer') || ts.includes('number')) {
    const lo = lower(s);
    const hi = upper(s);
    picks.push(lo, hi, lo - 1, hi + 1, 0, -1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 2 ** 63, -(2 ** 63));
    if (ts.includes('integer')) picks.push(lo + 0.5, String(lo));
  }
  if (ts.includes('boolean')) picks.push('true', 1, 0);
  if (s.properties) {
    const base = fc.sample(valid(s, doc), { numRuns: 1 })[0] as Record<string, unknown>;
    for (const k of s.required ?? []) {
      const { [k]: _gone, ...rest } = base ?? {};
      picks.push(rest);
    }
    for (const [k, p] of Object.entries(s.properties)) {
      const b = fc.sample(boundary(p, doc), { numRuns: 1 })[0];
      picks.push({ ...base, [k]: b }, { ...base, [k]: null });
    }
    picks.push({ ...base, unexpected: 'field' });
  }
  return picks.length ? fc.constantFrom(...picks) : fc.constantFrom(...ODD_VALUES);
}

/** Anything: odd values and arbitrary JSON. */
export const invalid = (): fc.Arbitrary<unknown> => fc.oneof(fc.constantFrom(...ODD_VALUES), fc.jsonValue({ maxDepth: 2 }));

/** A generated input, and whether it came from the schema's valid values. */
export interface Tagged {
  value: unknown;
  valid: boolean;
}
export const tagged = (arb: fc.Arbitrary<unknown>, isValid: boolean) => arb.map((value): Tagged => ({ value, valid: isValid }));

/** A mix for one input: mostly valid, then bounds, then anything (only the first counts as valid). */
export const mixed = (schema: Schema, doc: Doc): fc.Arbitrary<Tagged> =>
  fc.oneof(
    { weight: 5, arbitrary: tagged(valid(schema, doc), true) },
    { weight: 3, arbitrary: tagged(boundary(schema, doc), false) },
    { weight: 2, arbitrary: tagged(invalid(), false) },
  );
