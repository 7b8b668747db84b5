/**
 * Reading requests: path ids, and bodies. A body is checked in two steps before anything is
 * stored: no string (or property name) may hold a NUL character or an unpaired UTF-16
 * surrogate, neither of which PostgreSQL's text and jsonb can store, and the body may not nest
 * deeper than PostgreSQL and JSON.stringify take; then the route's schema. The check walks the raw body rather
 * than the schema's output because webhooks are stored as they came, fields the schema
 * does not know included, and one check here is simpler than a refinement on every string
 * schema.
 */
import { z } from 'zod';
import { AppError, fieldName, invalidInput, invalidRequest, type FieldProblem } from './errors';

const NUL = '\u0000';
/** Enough to show the sender what is wrong; a hostile body could hold thousands. */
const MAX_REPORTED = 10;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');
const escaped = (unit: string): string => `\\u${unit.charCodeAt(0).toString(16)}`;
/** No real event nests deeper; far deeper bodies overflow the stack where they are stored. */
const MAX_DEPTH = 64;

/** A value met while walking the body, with the way back to the root for naming it. */
interface Visit {
  value: unknown;
  key?: string;
  parent?: Visit;
  depth: number;
}

/** Why PostgreSQL could not store this text, if it could not. */
function unstorable(text: string): string | undefined {
  if (text.includes(NUL)) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(text)) return 'must not contain unpaired UTF-16 surrogates';
  return undefined;
}

function pathOf(visit: Visit): string[] {
  const path: string[] = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) path.push(at.key.replaceAll(NUL, '\\u0000').replace(LONE_SURROGATES, escaped));
  return path.reverse();
}

/** Every field (path as in validation errors: data.customer.customerName) whose text PostgreSQL could not store, or that nests too deep. */
export function nulCharacterProblems(body: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  // Breadth-first over a queue, not recursion: a 256 kB body can nest deeper than the stack.
  const queue: Visit[] = [{ value: body, depth: 0 }];
  for (let i = 0; i < queue.length && problems.length < MAX_REPORTED; i += 1) {
    const visit = queue[i]!;
    const reason = (typeof visit.value === 'string' ? unstorable(visit.value) : undefined) ?? (visit.key === undefined ? undefined : unstorable(visit.key));
    if (reason) problems.push({ field: fieldName(pathOf(visit)), reason });
    if (typeof visit.value === 'object' && visit.value !== null) {
      if (visit.depth >= MAX_DEPTH) {
        problems.push({ field: fieldName(pathOf(visit)), reason: `must not nest deeper than ${MAX_DEPTH} levels` });
        continue;
      }
      for (const [key, value] of Object.entries(visit.value)) queue.push({ value, key, parent: visit, depth: visit.depth + 1 });
    }
  }
  return problems;
}

/** The body as the schema reads it, or a 400 naming the fields that are wrong. */
export function parseRequestBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const nulProblems = nulCharacterProblems(body);
  if (nulProblems.length > 0) throw invalidRequest(nulProblems);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw invalidInput(parsed.error);
  return parsed.data;
}

const pathIdSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'only letters, digits and . _ : -');

/** A path parameter as an id, or a 400 naming it. */
export function parsePathId(value: unknown, field: string): string {
  const parsed = pathIdSchema.safeParse(value);
  if (!parsed.success) throw invalidInput(parsed.error, field);
  return parsed.data;
}

/**
 * The body of a signed party request (merchants, the order system for a customer), read raw
 * because the signature covers its bytes, then as JSON; an empty body is `{}`.
 */
export function signedJsonBody(raw: unknown): unknown {
  if (!Buffer.isBuffer(raw) || raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new AppError(400, 'invalid_json', 'request body is not valid JSON');
  }
}
