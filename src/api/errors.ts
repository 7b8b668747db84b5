/**
 * The API's one error path: handlers throw AppError (or let zod errors through) and the
 * middleware answers `{ error: { code, message, details } }`. Unexpected errors become a
 * generic 500; their details go to the log, never to the caller.
 */
import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import type { Logger } from '../platform/logger';

export interface FieldProblem {
  field: string;
  reason: string;
}

export class AppError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    readonly details?: FieldProblem[],
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AppError';
  }
}

/** How a field is named to the caller: its path in the body joined with dots, e.g. data.customer.email. */
export function fieldName(path: readonly PropertyKey[], prefix = ''): string {
  // Empty keys stay in the path (a body can have them); only an empty prefix is left out.
  return (prefix ? [prefix, ...path] : [...path]).map(String).join('.') || '(body)';
}

export function fieldProblems(error: ZodError, prefix = ''): FieldProblem[] {
  return error.issues.map((issue) => ({ field: fieldName(issue.path, prefix), reason: issue.message }));
}

/** 400 naming every field that is wrong, the first one in the message. */
export function invalidRequest(details: FieldProblem[]): AppError {
  const first = details[0];
  return new AppError(400, 'invalid_request', first ? `${first.field}: ${first.reason}` : 'invalid request', details);
}

export function invalidInput(error: ZodError, prefix = ''): AppError {
  return invalidRequest(fieldProblems(error, prefix));
}

/**
 * What a gateway throws when the workflow engine did not answer. It is the only failure of
 * Temporal that routes see (what a workflow said, such as "ended", comes back as a result);
 * each route turns it into a 503 with its own retry advice (workflowEngineUnavailable).
 */
export class WorkflowEngineUnavailable extends Error {
  constructor(cause: unknown) {
    super('the workflow engine did not answer', { cause });
    this.name = 'WorkflowEngineUnavailable';
  }
}

/** 503: the workflow engine did not answer; the caller should retry what it asked for. */
export function workflowEngineUnavailable(retryAdvice: string, cause: unknown): AppError {
  return new AppError(503, 'temporarily_unavailable', `could not reach the workflow engine; ${retryAdvice}`, undefined, cause);
}

/** Node's codes for a connection that could not be made or was cut. */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether PostgreSQL could not be reached or went away: a connection error, a server shutting
 * down or starting (SQLSTATE class 08, 57P01–57P03), or node-postgres losing its connection.
 * The request changed nothing that will not be done again by a retry, so it is a 503.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code))) return true;
  return typeof message === 'string' && /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/.test(message);
}

/** An http-errors style error (what body-parser throws) as it shows on the wire. */
interface HttpErrorLike {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  expose?: unknown;
  message?: unknown;
}

/**
 * The answer to a request refused before any handler ran (body-parser: bad encoding,
 * charset or length, too large, not JSON): any error that carries a 4xx status is the
 * caller's problem, never a 500. The code comes from body-parser's `type` when it gives one.
 */
function refusedRequest(error: unknown): { status: number; code: string; message: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as HttpErrorLike;
  const status = e.status ?? e.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 499) return undefined;
  if (status === 413) return { status, code: 'payload_too_large', message: 'request body is too large' };
  if (e.type === 'entity.parse.failed') return { status, code: 'invalid_json', message: 'request body is not valid JSON' };
  const statusText = (STATUS_CODES[status] ?? 'client error').toLowerCase();
  const code = typeof e.type === 'string' ? e.type.replaceAll('.', '_') : statusText.replaceAll(/\W+/g, '_');
  // http-errors marks messages that are safe to show (all of body-parser's 4xx ones).
  const message = e.expose === true && typeof e.message === 'string' && e.message ? e.message : statusText;
  return { status, code, message };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (error instanceof AppError) {
      if (error.httpStatus >= 500) logger.error({ err: error.cause ?? error, path: req.path, requestId: res.locals.requestId }, error.message);
      res.status(error.httpStatus).json({ error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } });
      return;
    }
    if (error instanceof ZodError) {
      const appError = invalidInput(error);
      res.status(400).json({ error: { code: appError.code, message: appError.message, details: appError.details } });
      return;
    }
    const refused = refusedRequest(error);
    if (refused) {
      res.status(refused.status).json({ error: { code: refused.code, message: refused.message } });
      return;
    }
    if (isDatabaseUnavailable(error)) {
      logger.warn({ err: error, method: req.method, path: req.path, requestId: res.locals.requestId }, 'database unavailable');
      res.status(503).json({ error: { code: 'temporarily_unavailable', message: 'the database is unavailable; retry the request' } });
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path, requestId: res.locals.requestId }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal_error', message: 'internal error' } });
  };
}
