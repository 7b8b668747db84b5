/**
 * Generated JSON: hostile text and values, JSON text that JavaScript values cannot express
 * (1e400, -0, 100,000 nested arrays: `RawJson`), and field-by-field mutations of a valid
 * body, each of which records the field it changed so an answer can be checked to name it.
 */
import fc from 'fast-check';
import { fieldOf } from './oracles';

/** JSON text put in the body verbatim where this value stands. */
export class RawJson {
  constructor(readonly text: string) {}
  toString(): string {
    return `RawJson(${this.text.length > 60 ? `${this.text.slice(0, 30)}…${this.text.length} chars` : this.text})`;
  }
}

export type JsonPath = (string | number)[];

/** JSON.stringify that splices RawJson values in as they are. */
export function toJsonText(value: unknown): string {
  const raws: string[] = [];
  const marker = (i: number): string => `\u2063raw${i}\u2063`;
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return marker(raws.length - 1);
    }
    return v;
  });
  if (text === undefined) return '';
  return raws.reduce((out, raw, i) => out.replace(JSON.stringify(marker(i)), () => raw), text);
}

/** The webhook's body limit (express.raw `256kb`). */
export const WEBHOOK_LIMIT_BYTES = 256 * 1024;

/** Strings that break things: NUL, lone surrogates, control and bidi characters, boundaries of lengths, huge ones. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 24 }), weight: 5 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 24 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 24 }), weight: 1 },
  { arbitrary: fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })).map(([a, b]) => `${a}\u0000${b}`), weight: 2 },
  {
    arbitrary: fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom('\ud800', '\udfff', '\ud83d', '\ude00', '\udc00\ud800')).map(([a, s]) => `${a}${s}`),
    weight: 2,
  },
  {
    arbitrary: fc.constantFrom(
      '', ' ', '\t', '\n', '  x  ', '\u00a0', '\u200b', '\u202e', '\ufeff', '\uffff', '\u2028', 'é', 'e\u0301', '😀', '𝕏', '中文',
      '0', '-1', '1e3', '99.00', 'NaN', 'true', 'null', 'undefined', '[]', '{}',
      '__proto__', 'constructor', 'toString', '../../etc/passwd', '%00', '%', '\\u0000', '\\', '"', "'; drop table merchants; --", '${x}', '<script>',
    ),
    weight: 3,
  },
  {
    // Around the limits the schemas set (1, 8, 64, 100, 200, 255, 256, 1000) and past them.
    arbitrary: fc
      .tuple(fc.constantFrom(1, 3, 7, 8, 32, 63, 64, 65, 100, 101, 199, 200, 201, 255, 256, 257, 999, 1000, 1001), fc.constantFrom('a', 'é', '😀', ' ', 'A1'))
      .map(([n, ch]) => ch.repeat(n)),
    weight: 2,
  },
  {
    // Large: some fit in a 256 kB body, some do not.
    arbitrary: fc.tuple(fc.integer({ min: 2_000, max: 140_000 }), fc.constantFrom('x', 'é', '€', '😀', '\\', '"')).map(([n, ch]) => ch.repeat(n)),
    weight: 1,
  },
);

/** Object keys as a hostile sender would write them. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 12 }), weight: 4 },
  { arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'hasOwnProperty', '', ' ', 'type', 'data', 'orderId', 'a.b', '0'), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 8 }), weight: 1 },
  { arbitrary: fc.string({ maxLength: 6 }).map((s) => `${s}\u0000`), weight: 1 },
);

/** Numbers, including JSON numbers that JavaScript reads as something else. */
export const hostileNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 1, 2, 15, 16, 1000, 1001, 2 ** 31, 2 ** 53 + 1, 1e21, 0.5, 1.00001, -0.0001),
  fc.constantFrom(new RawJson('1e400'), new RawJson('-1e400'), new RawJson('-0'), new RawJson('1.0'), new RawJson('1E2'), new RawJson('123456789012345678901234567890'), new RawJson('0.0000000000000000000001')),
);

/** Nesting deep enough to find recursion: some of it past the body limit. */
export const deepNesting: fc.Arbitrary<RawJson> = fc
  .tuple(fc.constantFrom(64, 1_000, 5_000, 20_000, 100_000), fc.constantFrom('array', 'object'))
  .map(([depth, kind]) => new RawJson(kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: hostileText, weight: 4 },
  { arbitrary: hostileNumber, weight: 3 },
  { arbitrary: fc.constantFrom(true, false, null), weight: 2 },
);

/** Any JSON value, nested a little, sometimes a lot. */
export const junk: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: scalar, weight: 6 },
    { arbitrary: fc.array(tie('value'), { maxLength: 4 }), weight: 2 },
    { arbitrary: fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map((entries) => Object.fromEntries(entries)), weight: 2 },
    { arbitrary: deepNesting, weight: 1 },
  ),
})).value;

// ---------------------------------------------------------------------------------------
// Mutations of a valid body.

export type Mutation =
  | { kind: 'delete'; pick: number }
  | { kind: 'replace'; pick: number; value: unknown }
  | { kind: 'retype'; pick: number; variant: number }
  | { kind: 'add'; pick: number; key: string; value: unknown }
  | { kind: 'rename'; pick: number; variant: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: junk }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('retype' as const), pick: fc.nat(), variant: fc.nat() }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('add' as const), pick: fc.nat(), key: hostileKey, value: junk }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('rename' as const), pick: fc.nat(), variant: fc.nat() }), weight: 1 },
);

/** The same value, with another type or a value of its type that the schemas are likely to refuse. */
function retyped(value: unknown, variant: number): unknown {
  const pick = <T>(options: T[]): T => options[variant % options.length]!;
  if (typeof value === 'string') {
    const n = Number(value);
    return pick<unknown>([
      Number.isFinite(n) && value.trim() !== '' ? n : 0,
      true,
      null,
      [value],
      { value },
      value.toUpperCase() === value ? value.toLowerCase() : value.toUpperCase(),
      ` ${value} `,
      `${value}\u0000`,
      '',
      value.repeat(40),
      `${value}\ud800`,
      `${value}\u202e`,
      value.slice(0, -1),
      new RawJson(JSON.stringify(value).replace(/^"/, '"\\u00')),
    ]);
  }
  if (typeof value === 'number') {
    return pick<unknown>([String(value), -value, value + 0.5, value * 1e6, new RawJson('1e400'), null, [value], true, 0, -1, Number.MAX_SAFE_INTEGER + 2, new RawJson(`${value}.0`)]);
  }
  if (typeof value === 'boolean') return pick<unknown>([String(value), value ? 1 : 0, value ? '1' : '0', null, 'yes', value ? 2 : -1]);
  if (Array.isArray(value)) return pick<unknown>([{}, null, value[0] ?? 'x', 'x', [...value, ...value]]);
  if (typeof value === 'object' && value !== null) return pick<unknown>([[], 'object', null, {}, Object.values(value), [value]]);
  return pick<unknown>(['null', 0, {}, false, []]);
}

const renamed = (key: string, variant: number): string =>
  [key.toUpperCase(), key.charAt(0).toUpperCase() + key.slice(1), `${key} `, ` ${key}`, key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), `${key}\u0000`, `${key}s`][
    variant % 7
  ]!;

/** Every place in a JSON value (the root is []), RawJson values as leaves. */
export function pathsOf(value: unknown, prefix: JsonPath = []): JsonPath[] {
  const paths: JsonPath[] = [prefix];
  if (value instanceof RawJson || typeof value !== 'object' || value === null) return paths;
  for (const [key, child] of Array.isArray(value) ? value.entries() : Object.entries(value)) paths.push(...pathsOf(child, [...prefix, key]));
  return paths;
}

function getAt(root: unknown, path: JsonPath): unknown {
  return path.reduce<unknown>((at, key) => (at as Record<string | number, unknown>)[key], root);
}

function setAt(root: unknown, path: JsonPath, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  Object.defineProperty(parent, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
  return root;
}

function deleteAt(root: unknown, path: JsonPath): unknown {
  if (path.length === 0) return undefined;
  const parent = getAt(root, path.slice(0, -1));
  const key = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete (parent as Record<string, unknown>)[key];
  return root;
}

/** A deep copy that keeps RawJson values and own `__proto__` keys. */
export function copyJson<T>(value: T): T {
  if (value instanceof RawJson || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: copyJson(v), enumerable: true, writable: true, configurable: true });
  return out as T;
}

export interface Mutated {
  value: unknown;
  /**
   * Per mutation, where it struck: the fields an answer may name for it (as the API names
   * fields: data.customer.email; a renamed key is both its old and its new name), and how
   * deep it struck (0 for the whole body).
   */
  struck: { fields: string[]; depth: number }[];
}

/** Applies the mutations one after the other to a copy of `valid`. */
export function mutate(valid: unknown, mutations: readonly Mutation[]): Mutated {
  let value = copyJson(valid);
  const struck: Mutated['struck'] = [];
  for (const m of mutations) {
    const paths = pathsOf(value);
    const path = paths[m.pick % paths.length]!;
    const current = getAt(value, path);
    let at = path;
    let alias: JsonPath | undefined;
    switch (m.kind) {
      case 'delete':
        value = deleteAt(value, path);
        break;
      case 'replace':
        value = setAt(value, path, copyJson(m.value));
        break;
      case 'retype':
        value = setAt(value, path, retyped(current, m.variant));
        break;
      case 'add':
        if (Array.isArray(current)) {
          current.push(copyJson(m.value));
          at = [...path, current.length - 1];
        } else if (typeof current === 'object' && current !== null && !(current instanceof RawJson)) {
          setAt(current, [m.key], copyJson(m.value));
          at = [...path, m.key];
        } else {
          value = setAt(value, path, Object.fromEntries([[m.key, copyJson(m.value)]]));
          at = [...path, m.key];
        }
        break;
      case 'rename': {
        if (path.length === 0 || typeof path[path.length - 1] !== 'string') {
          value = setAt(value, path, retyped(current, m.variant));
          break;
        }
        const parent = getAt(value, path.slice(0, -1)) as Record<string, unknown>;
        const key = path[path.length - 1] as string;
        delete parent[key];
        setAt(parent, [renamed(key, m.variant)], current);
        alias = [...path.slice(0, -1), renamed(key, m.variant)];
        break;
      }
    }
    struck.push({ fields: alias ? [fieldOf(at), fieldOf(alias)] : [fieldOf(at)], depth: at.length });
  }
  return { value, struck };
}

/** How many mutations a case gets: none (a valid body) about a third of the time. */
export const mutations: fc.Arbitrary<Mutation[]> = fc.oneof(
  { arbitrary: fc.constant<Mutation[]>([]), weight: 3 },
  { arbitrary: fc.array(mutation, { minLength: 1, maxLength: 1 }), weight: 5 },
  { arbitrary: fc.array(mutation, { minLength: 2, maxLength: 3 }), weight: 2 },
);

/** Bodies that are not JSON, or are JSON in a way JSON.stringify never writes. */
export const oddJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '', ' ', '{', '}', '{"type":', '{"type":"order.paid","data":{}', '{"type":"order.paid","data":{},}', "{'type':'order.paid'}", '{"type":"order.paid"}garbage',
    'null', 'true', '0', '"order.paid"', '[]', '[{"type":"order.paid","data":{}}]', '{"type":"order.paid","type":"x","data":{}}',
    '\ufeff{"type":"order.paid","data":{}}', '{"type":"order.paid","data":NaN}', '{"type":"order.paid","data":Infinity}', '{"type":"order.paid","data":undefined}',
    '{"type":"order.paid","data":{"orderId":"\\ud800"}}', '{"type":"order.paid","data":{"orderId":"\\u0000"}}', '{"__proto__":{"type":"order.paid"},"data":{}}',
    '/* c */{"type":"order.paid","data":{}}', '{"type":"order.paid","data":{"a":1e999999}}', '\u0000', '\r\n\r\n',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 40 }),
);

/** A body: a valid one mutated (perhaps not at all), any JSON value, or text that may not be JSON. */
export type Body<T = unknown> = { kind: 'valid'; value: T; mutations: Mutation[] } | { kind: 'junk'; value: unknown } | { kind: 'text'; text: string };

/** Bodies built on `valid`, mostly mutated from it. */
export function bodyOf<T>(valid: fc.Arbitrary<T>, muts: fc.Arbitrary<Mutation[]> = mutations): fc.Arbitrary<Body<T>> {
  return fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('valid' as const), value: valid, mutations: muts }), weight: 10 },
    { arbitrary: fc.record({ kind: fc.constant('junk' as const), value: junk }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('text' as const), text: oddJsonText }), weight: 1 },
  );
}

/** A body as text, with where its mutations struck. */
export function bodyText(body: Body): { text: string; mutated?: Mutated } {
  if (body.kind === 'text') return { text: body.text };
  if (body.kind === 'junk') return { text: toJsonText(body.value) };
  const mutated = mutate(body.value, body.mutations);
  return { text: toJsonText(mutated.value), mutated };
}

/** Whether the text is JSON; with `objectsOnly`, an object or an array (what body-parser's strict JSON reader takes). */
export function isJsonText(text: string, options: { objectsOnly?: boolean } = {}): boolean {
  if (options.objectsOnly && !/^[ \t\n\r]*[{[]/.test(text)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Pads an object body with an unknown field so its JSON takes `bytes` bytes (for the size limit). */
export function paddedTo(value: Record<string, unknown>, bytes: number): Record<string, unknown> {
  const base = Buffer.byteLength(toJsonText({ ...value, padding: '' }));
  return { ...value, padding: 'x'.repeat(Math.max(0, bytes - base)) };
}

