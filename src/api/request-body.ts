/**
 * Reading requests: path ids, and bodies. A body is checked in two steps before anything is
 * stored: no string (or property name) may hold a NUL character, which PostgreSQL's text
 * and jsonb cannot store; then the route's schema. The NUL check walks the raw body rather
 * than the schema's output because webhooks are stored as they came, fields the schema
 * does not know included, and one check here is simpler than a refinement on every string
 * schema.
 */
import { z } from 'zod';
import { fieldName, invalidInput, invalidRequest, type FieldProblem } from './errors';

const NUL = '\u0000';
/** Enough to show the sender what is wrong; a hostile body could hold thousands. */
const MAX_REPORTED = 10;

/** A value met while walking the body, with the way back to the root for naming it. */
interface Visit {
  value: unknown;
  key?: string;
  parent?: Visit;
}

function pathOf(visit: Visit): string[] {
  const path: string[] = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) path.push(at.key.replaceAll(NUL, '\\u0000'));
  return path.reverse();
}

/** Every field (path as in validation errors: data.customer.customerName) whose text holds a NUL character. */
export function nulCharacterProblems(body: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  // Breadth-first over a queue, not recursion: a 256 kB body can nest deeper than the stack.
  const queue: Visit[] = [{ value: body }];
  for (let i = 0; i < queue.length && problems.length < MAX_REPORTED; i += 1) {
    const visit = queue[i]!;
    if ((typeof visit.value === 'string' && visit.value.includes(NUL)) || visit.key?.includes(NUL)) {
      problems.push({ field: fieldName(pathOf(visit)), reason: 'must not contain NUL characters' });
    }
    if (typeof visit.value === 'object' && visit.value !== null) {
      for (const [key, value] of Object.entries(visit.value)) queue.push({ value, key, parent: visit });
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
