/**
 * What every answer must satisfy, whatever was sent:
 * - no 5xx (Temporal is up in these suites, so not even 503 temporarily_unavailable);
 * - every 4xx is JSON of exactly `{ error: { code, message, details?: [{ field, reason }] } }`;
 * - a 400 about a body that was read names the fields that are wrong (`details[].field`),
 *   and so does every 422; only a request whose body or path could not be read at all
 *   (not JSON, cut short, not decodable) may be refused without naming a field;
 * - a refused request writes nothing (see writes.ts).
 * A broken rule throws an Error that shows the request and the answer.
 */
import { clip } from './settings';
import type { WireRequest, WireResponse } from './wire';
import { changes, type Snapshot } from './writes';

/**
 * Codes of 400s for requests that could not be read, so there is no field to name: the body
 * is not JSON, or its transfer was broken, or a path parameter's percent-encoding is malformed.
 */
export const UNREADABLE_REQUEST_CODES: ReadonlySet<string> = new Set(['invalid_json', 'request_size_invalid', 'request_aborted', 'bad_request']);

export interface ErrorBody {
  code: string;
  message: string;
  details?: { field: string; reason: string }[];
}

export function describeRequest(request: WireRequest): string {
  const headers = Object.entries(request.headers)
    .map(([k, v]) => `${k}: ${clip(JSON.stringify(v), 200)}`)
    .join('; ');
  const body = request.body === undefined ? '(no body)' : `${request.body.length} bytes ${clip(JSON.stringify(request.body.toString('latin1')), 700)}`;
  return `${request.method} ${clip(JSON.stringify(request.path), 300)}${request.chunked ? ' (chunked)' : ''}\n  headers: ${headers}\n  body: ${body}`;
}

export function describeResponse(response: WireResponse): string {
  return `${response.status} ${response.headers['content-type'] ?? '(no content-type)'} ${clip(response.text, 700)}`;
}

export class BrokenRule extends Error {
  constructor(rule: string, request: WireRequest, response: WireResponse, extra?: string) {
    super(`${rule}\nrequest: ${describeRequest(request)}\nanswer: ${describeResponse(response)}${extra ? `\n${extra}` : ''}`);
    this.name = 'BrokenRule';
  }
}

const CODE = /^[a-z][a-z0-9_]*$/;

/** The error of a 4xx, checked against the documented shape. */
export function errorOf(request: WireRequest, response: WireResponse): ErrorBody {
  const broken = (why: string): never => {
    throw new BrokenRule(`a ${response.status} must be the JSON error shape: ${why}`, request, response);
  };
  if (!/^application\/json\b/i.test(String(response.headers['content-type'] ?? ''))) broken('content-type is not application/json');
  const body = response.json;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return broken('not a JSON object');
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'error') broken(`top-level keys are ${JSON.stringify(keys)}, not ["error"]`);
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null || Array.isArray(error)) return broken('error is not an object');
  const e = error as Record<string, unknown>;
  const extra = Object.keys(e).filter((k) => !['code', 'message', 'details'].includes(k));
  if (extra.length > 0) broken(`unexpected keys in error: ${extra.join(', ')}`);
  if (typeof e.code !== 'string' || !CODE.test(e.code)) broken('error.code is not a snake_case string');
  if (typeof e.message !== 'string' || e.message === '') broken('error.message is not a non-empty string');
  if (e.details !== undefined) {
    if (!Array.isArray(e.details)) broken('error.details is not an array');
    for (const d of e.details as unknown[]) {
      const ok =
        typeof d === 'object' &&
        d !== null &&
        Object.keys(d).sort().join(',') === 'field,reason' &&
        typeof (d as { field: unknown }).field === 'string' &&
        (d as { field: string }).field !== '' &&
        typeof (d as { reason: unknown }).reason === 'string' &&
        (d as { reason: string }).reason !== '';
      if (!ok) broken(`a detail is not { field, reason } with non-empty strings: ${JSON.stringify(d)}`);
    }
  }
  return e as unknown as ErrorBody;
}

/**
 * The rules every answer keeps: no 5xx; a 4xx is the error shape; a 400 of a request that
 * was read, and every 422, names a field. Answers the error of a 4xx.
 */
export function checkAnswer(request: WireRequest, response: WireResponse): ErrorBody | undefined {
  if (response.status >= 500) throw new BrokenRule(`no 5xx: got ${response.status}`, request, response);
  if (response.status < 400) return undefined;
  const error = errorOf(request, response);
  const named = (error.details ?? []).length > 0;
  if (response.status === 400 && !named && !UNREADABLE_REQUEST_CODES.has(error.code)) {
    throw new BrokenRule(`a 400 must name the field (details[].field) unless the request could not be read; code ${error.code} names none`, request, response);
  }
  if (response.status === 422 && !named) throw new BrokenRule('a 422 must name the field it is about', request, response);
  return error;
}

/** Nothing written between the two snapshots. */
export function checkNothingWritten(rule: string, before: Snapshot, after: Snapshot, request: WireRequest, response: WireResponse): void {
  const changed = changes(before, after);
  if (changed.length > 0) throw new BrokenRule(`${rule}; written: ${changed.join(', ')}`, request, response);
}

/**
 * Field names as the API documents them: the path in the body joined with dots (an empty
 * key is an empty segment: `{"": {"a": …}}` is `.a`), NUL shown as \u0000; `(body)` for
 * the body itself.
 */
export function fieldOf(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(body)' : path.map((p) => String(p).replaceAll('\u0000', '\\u0000')).join('.');
}

/** Whether an error detail about `named` is about the field at `mutated` (itself, inside it, or around it). */
export function isAbout(named: string, mutated: string): boolean {
  return named === mutated || named.startsWith(`${mutated}.`) || mutated.startsWith(`${named}.`) || named === '(body)';
}
