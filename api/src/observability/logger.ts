import { pino, type Logger } from 'pino';

/** Structured JSON logs on stdout; every request's lines carry its request id. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'gigledger-api' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: ['req.headers.authorization', 'req.headers["x-api-key"]', 'password', '*.password'],
  });
}
