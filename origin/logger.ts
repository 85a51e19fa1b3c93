import { type Logger, pino } from 'pino';

/** Paths whose values never reach a log line. */
export const redactedPaths = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  '*.cookie',
  'password',
  '*.password',
  'token',
  '*.token',
  'key',
  '*.key',
  'secret',
  '*.secret',
  '*.stripeSignature',
];

/** @example const logger = createLogger('info'); */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'origin' },
    redact: { paths: redactedPaths, censor: '[redacted]' },
  });
}
