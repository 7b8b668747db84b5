/**
 * The API's one error path: handlers throw AppError (or let zod and Temporal errors
 * through) and the middleware answers `{ error: { code, message, details } }`. Unexpected
 * errors become a generic 500; their details go to the log, never to the caller.
 */
import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import type { Logger } from '../logger';

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

export function fieldProblems(error: ZodError, prefix = ''): FieldProblem[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
    reason: issue.message,
  }));
}

export function invalidInput(error: ZodError, prefix = ''): AppError {
  const details = fieldProblems(error, prefix);
  const first = details[0];
  return new AppError(400, 'invalid_request', first ? `${first.field}: ${first.reason}` : 'invalid request', details);
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
    const status = (error as { status?: number; type?: string }).status;
    if (status === 413 || (error as { type?: string }).type === 'entity.too.large') {
      res.status(413).json({ error: { code: 'payload_too_large', message: 'request body is too large' } });
      return;
    }
    if ((error as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'invalid_json', message: 'request body is not valid JSON' } });
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path, requestId: res.locals.requestId }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal_error', message: 'internal error' } });
  };
}
