/** The body of a signed merchant request: read raw (the signature covers its bytes), then as JSON. */
import { AppError } from '../errors';

export function jsonOf(raw: unknown): unknown {
  if (!Buffer.isBuffer(raw) || raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new AppError(400, 'invalid_json', 'request body is not valid JSON');
  }
}
