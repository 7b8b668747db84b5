/**
 * Merchant routes of settlement: a per-merchant bearer token, issued by an operator
 * (POST /v1/merchants/:merchantId/settlement-token) and stored only as its SHA-256, so the
 * route finds the merchant by the token's hash and a merchant sees only its own statements.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Queryable } from '../../db/pool';
import { merchantByTokenHash } from '../../db/repositories/settlement/statements';
import { AppError } from '../errors';

export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A new token: 32 random bytes, base64url, prefixed so it is recognisable in a leak scan. */
export const newMerchantToken = (): string => `mst_${randomBytes(32).toString('base64url')}`;

export function requireMerchant(db: Queryable): RequestHandler {
  return async (req, res, next) => {
    try {
      const match = /^Bearer (mst_[A-Za-z0-9_-]{43})$/.exec(req.get('authorization') ?? '');
      // Looked up by hash: the token itself is never compared or stored.
      const merchantId = match?.[1] ? await merchantByTokenHash(db, tokenHash(match[1])) : undefined;
      if (!merchantId) throw new AppError(401, 'unauthorized', 'merchant bearer token missing or wrong');
      res.locals.merchantId = merchantId;
      next();
    } catch (error) {
      next(error);
    }
  };
}
