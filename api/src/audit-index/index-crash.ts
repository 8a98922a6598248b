import { indexCrashPoints, type IndexCrashPoint } from './block-indexer.js';

/**
 * `GIGLEDGER_INDEX_CRASH_AT=<point>:<n>` kills the process (SIGKILL, no clean-up) the
 * n-th time the indexer reaches that point (before a block, inside its database
 * transaction, after its commit), so tests can prove a crash anywhere neither skips nor
 * repeats a block. Never set in operation.
 *
 * @throws Error when the value names no crash point.
 */
export function indexCrashInjection(setting: string | undefined): ((point: IndexCrashPoint) => void) | undefined {
  if (setting === undefined || setting === '') return undefined;
  const [point, count] = setting.split(':');
  if (!indexCrashPoints.includes(point as IndexCrashPoint) || !/^[1-9][0-9]*$/.test(count ?? '')) {
    throw new Error(`GIGLEDGER_INDEX_CRASH_AT must be <${indexCrashPoints.join('|')}>:<n>, got ${setting}`);
  }
  let remaining = Number(count);
  return (reached) => {
    if (reached !== point) return;
    remaining -= 1;
    if (remaining === 0) process.kill(process.pid, 'SIGKILL');
  };
}
