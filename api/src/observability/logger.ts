import { pino, type Logger } from 'pino';

/** Structured JSON logs on stdout; every request's lines carry its request id. */
export function createLogger(level: string, to: 'stdout' | 'stderr' = 'stdout'): Logger {
  const options = {
    level,
    base: { service: 'gigledger-api' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: ['req.headers.authorization', 'req.headers["x-api-key"]', 'password', '*.password'],
  };
  // A command-line tool's standard output is its answer, which its log lines must not interleave.
  return to === 'stderr' ? pino(options, pino.destination(2)) : pino(options);
}
