/** The pino root logger. Secrets never reach it: headers and bodies are not logged. */
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'saas-fulfillment'): Logger {
  return pino({
    name,
    level,
    // Defence in depth: should a caller ever pass these, they are masked.
    redact: { paths: ['*.accessKey', '*.password', '*.authorization', '*.secret', 'accessKey', 'password'], censor: '[redacted]' },
  });
}
