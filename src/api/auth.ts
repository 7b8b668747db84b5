/** Operator routes: a bearer token compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from './errors';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

export function requireOperator(token: string): RequestHandler {
  const expected = digest(token);
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    // Hashing both sides first gives equal lengths, so the comparison leaks nothing.
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      next(new AppError(401, 'unauthorized', 'operator bearer token missing or wrong'));
      return;
    }
    // Who acted, for operator_actions; the token itself is shared by operators.
    res.locals.operator = (req.get('x-operator') ?? 'operator').slice(0, 200);
    next();
  };
}
