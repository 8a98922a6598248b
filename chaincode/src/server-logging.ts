import { createRequire } from 'node:module';

/** The part of winston 3's `Logger` class this module relies on. */
interface WinstonLogger {
  isLevelEnabled(level: string): boolean;
  write: (this: WinstonLogger, chunk: unknown, ...rest: unknown[]) => boolean;
}

const levelSymbol = Symbol.for('level');
const guarded = Symbol.for('gigledger.levelGuard');

/**
 * Makes fabric-shim's and fabric-contract-api's log calls below the configured level
 * (`CORE_CHAINCODE_LOGGING_LEVEL`, INFO by default) cost a level check instead of a
 * formatted line that is then thrown away.
 *
 * winston 3 runs a logger's whole format (timestamp, metadata, colours, padding, printf
 * with every argument stringified) on every call and leaves the level to the transport
 * (winstonjs/winston#2441, open). fabric-shim logs about ten DEBUG lines per invocation and
 * per state call, so on the agreement workload a profile of the chaincode server showed
 * about a sixth of its CPU time formatting lines nobody sees. Lines at or above the level
 * are written exactly as before: `isLevelEnabled` is winston's own test, against the
 * logger's level and its transports'.
 *
 * Each winston copy the two libraries load is guarded once, whichever copy npm installs
 * where.
 *
 * @returns how many winston copies were guarded by this call.
 */
export function skipDisabledLogLevels(): number {
  let count = 0;
  for (const library of ['fabric-shim', 'fabric-contract-api']) {
    const fromLibrary = createRequire(require.resolve(library));
    const { Logger } = fromLibrary('winston') as { Logger: { prototype: WinstonLogger & { [guarded]?: true } } };
    const prototype = Logger.prototype;
    if (prototype[guarded]) continue;
    const write = prototype.write;
    prototype.write = function (this: WinstonLogger, chunk: unknown, ...rest: unknown[]): boolean {
      const level = levelOf(chunk);
      if (level !== undefined && !this.isLevelEnabled(level)) {
        const callback = rest.find((argument) => typeof argument === 'function') as (() => void) | undefined;
        if (callback !== undefined) process.nextTick(callback);
        return true;
      }
      return write.call(this, chunk, ...rest);
    };
    prototype[guarded] = true;
    count += 1;
  }
  return count;
}

function levelOf(chunk: unknown): string | undefined {
  if (chunk === null || typeof chunk !== 'object') return undefined;
  const info = chunk as { [levelSymbol]?: unknown; level?: unknown };
  const level = info[levelSymbol] ?? info.level;
  return typeof level === 'string' ? level : undefined;
}
