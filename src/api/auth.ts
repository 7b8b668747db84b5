/** Operator routes: a bearer token compared in constant time. Party routes (merchants, the order system for a customer): signed requests. */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Db } from '../db/pool';
import { findMerchant } from '../db/repositories/catalog/merchants';
import { isMerchantRemoved } from '../db/repositories/governance/exit';
import type { Encryptor } from '../platform/security/encryption';
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

/** How far a signed request's x-timestamp may be from our clock (the spec's ±60 s, §1.2). */
export const SIGNED_REQUEST_TOLERANCE_MS = 60_000;

/**
 * The signature of a party's request (merchants, and the order system acting for a
 * customer): hex HMAC-SHA256 under the party's key over the method, the path with its query,
 * the x-timestamp (epoch ms) and the hex SHA-256 of the raw body, joined by newlines. It
 * binds the request to its route and body, so a signed read cannot be replayed on another
 * document.
 */
export function requestSignature(key: string, method: string, pathWithQuery: string, timestampMs: string, body: Buffer | string): string {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  return createHmac('sha256', key).update(`${method.toUpperCase()}\n${pathWithQuery}\n${timestampMs}\n${bodyHash}`).digest('hex');
}

/**
 * A party authenticated by a signed request: `idHeader` names the party, `keyOf` finds its
 * key (undefined: unknown party). Answers 401 with the same message for an unknown party and
 * a wrong signature. The raw body must be in `req.body` as a Buffer (express.raw).
 */
export function requireSignedParty(options: { idHeader: string; local: string; keyOf: (id: string) => Promise<string | undefined>; now?: () => number }): RequestHandler {
  const now = options.now ?? Date.now;
  return async (req, res, next) => {
    try {
      const id = req.get(options.idHeader) ?? '';
      const timestamp = req.get('x-timestamp') ?? '';
      const signature = req.get('x-signature') ?? '';
      if (!id || id.length > 100 || !/^\d{10,16}$/.test(timestamp) || !/^[0-9a-f]{64}$/i.test(signature)) {
        throw new AppError(401, 'unauthorized', `${options.idHeader}, x-timestamp (epoch ms) and x-signature (hex HMAC-SHA256) are required`);
      }
      if (Math.abs(now() - Number(timestamp)) > SIGNED_REQUEST_TOLERANCE_MS) throw new AppError(401, 'unauthorized', 'x-timestamp is more than 60 s from our clock');
      const key = await options.keyOf(id);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const expected = digest(key === undefined ? '' : requestSignature(key, req.method, req.originalUrl, timestamp, body));
      if (key === undefined || !timingSafeEqual(digest(signature.toLowerCase()), expected)) throw new AppError(401, 'unauthorized', 'request signature rejected');
      res.locals[options.local] = id;
      next();
    } catch (error) {
      next(error);
    }
  };
}

/**
 * A merchant's signed request (`x-merchant-id`), checked with its own access key: the
 * authentication of every merchant route (supervision, settlement, refunds). Sets
 * `res.locals.merchantId`. A merchant removed at its exit is refused with 403 `merchant_removed`.
 */
export function requireSignedMerchant(db: Db, encryptor: Encryptor): RequestHandler {
  return requireSignedParty({
    idHeader: 'x-merchant-id',
    local: 'merchantId',
    keyOf: async (merchantId) => {
      // Removed at its exit (spec §9.4): its key was erased, and its requests are refused for good.
      if (await isMerchantRemoved(db, merchantId)) throw new AppError(403, 'merchant_removed', `merchant ${merchantId} was removed at its exit; its credentials are revoked`);
      const merchant = await findMerchant(db, merchantId);
      return merchant ? encryptor.decrypt(merchant.accessKeyEnc) : undefined;
    },
  });
}
