import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { skipDisabledLogLevels } from './server-logging';

interface TestLogger {
  debug(message: string): void;
  info(message: string): void;
}

interface Winston {
  createLogger(options: object): TestLogger;
  format: ((transform: (info: object) => object) => () => object) & {
    combine(...formats: object[]): object;
    printf(template: (info: { level: string; message: string }) => string): object;
  };
  transports: { Stream: new (options: { stream: Writable }) => object };
}

/** A logger from the winston copy fabric-shim loads, at INFO, counting the lines its format runs for. */
function countingLogger(): { logger: TestLogger; formatted: string[]; written: string[] } {
  const winston = createRequire(require.resolve('fabric-shim'))('winston') as Winston;
  const formatted: string[] = [];
  const written: string[] = [];
  const stream = new Writable({
    objectMode: true,
    write(chunk: { message: string }, _encoding, done) {
      written.push(chunk.message);
      done();
    },
  });
  const logger = winston.createLogger({
    level: 'info',
    format: winston.format((info) => {
      formatted.push((info as { message: string }).message);
      return info;
    })(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, formatted, written };
}

describe('skipDisabledLogLevels', () => {
  it('formats no line below the level, and formats and writes every line at or above it', async () => {
    const before = countingLogger();
    before.logger.debug('unguarded debug');
    // winston's own behaviour, which the guard removes: the line is formatted, then dropped.
    expect(before.formatted).toEqual(['unguarded debug']);

    skipDisabledLogLevels();
    const after = countingLogger();
    after.logger.debug('guarded debug');
    after.logger.info('guarded info');
    await new Promise((resolve) => setImmediate(resolve));
    expect(after.formatted).toEqual(['guarded info']);
    expect(after.written).toEqual(['guarded info']);
    expect(skipDisabledLogLevels()).toBe(0);
  });
});
