/**
 * The body of a verified webhook: JSON, without NUL characters, shaped `{ type, data }` with a
 * type some capability handles. The handler for the type reads `data`.
 */
import { z } from 'zod';
import { AppError } from '../errors';
import { parseRequestBody } from '../request-body';

export interface Envelope {
  type: string;
  data: unknown;
  /** The whole body as parsed, stored as the event's payload. */
  json: unknown;
}

/** A reader of envelopes whose type is one of `eventTypes`. */
export function envelopeReader(eventTypes: readonly string[]): (body: Buffer) => Envelope {
  const supported = `unsupported event type; supported: ${eventTypes.join(', ')}`;
  const schema = z.object({
    type: z.custom<string>((type) => typeof type === 'string' && eventTypes.includes(type), supported),
    data: z.unknown(),
  });
  return (body) => {
    const json = parseJson(body);
    const { type, data } = parseRequestBody(schema, json);
    return { type, data, json };
  };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new AppError(400, 'invalid_json', 'request body is not valid JSON');
  }
}
