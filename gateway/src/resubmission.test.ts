import fc from 'fast-check';
import { CommitLatencies, resubmitReason, type ResubmitLimits } from './resubmission.js';

const limits: ResubmitLimits = { stallMs: 4000, overdueFloorMs: 12_000, overdueFactor: 3, overdueCeilingMs: 30_000 };

describe('resubmitReason', () => {
  it('never sends a copy while blocks keep coming and the wait is within three times the recent p99', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 3999 }),
        fc.integer({ min: 0, max: 60_000 }),
        (recentP99, sinceLastBlock, waited) => {
          const patience = Math.min(30_000, Math.max(12_000, 3 * recentP99));
          fc.pre(waited < patience);
          const now = 1_000_000;
          const reason = resubmitReason(
            { now, sentAt: now - waited, lastBlockAt: now - sinceLastBlock, recentP99 },
            limits,
          );
          expect(reason).toBeUndefined();
        },
      ),
    );
  });

  it('calls the channel stalled once no block has come for the stall time since the transaction was sent', () => {
    const now = 1_000_000;
    // Quiet for 4 s after the send: stalled, whatever recent latencies were.
    expect(resubmitReason({ now, sentAt: now - 4000, lastBlockAt: now - 9000, recentP99: 20_000 }, limits)).toBe(
      'stalled',
    );
    // A block 3.9 s ago: not stalled.
    expect(
      resubmitReason({ now, sentAt: now - 9000, lastBlockAt: now - 3900, recentP99: 20_000 }, limits),
    ).toBeUndefined();
    // Quiet for long, but the transaction was sent (again) only 1 s ago: wait for it.
    expect(
      resubmitReason({ now, sentAt: now - 1000, lastBlockAt: now - 60_000, recentP99: undefined }, limits),
    ).toBeUndefined();
  });

  it('calls the wait overdue at the floor, three times the recent p99, or the ceiling, whichever applies', () => {
    const now = 1_000_000;
    const flowing = now - 100;
    const at = (waited: number, recentP99: number | undefined) =>
      resubmitReason({ now, sentAt: now - waited, lastBlockAt: flowing, recentP99 }, limits);
    expect([at(11_999, undefined), at(12_000, undefined)]).toEqual([undefined, 'overdue']);
    expect([at(23_999, 8000), at(24_000, 8000)]).toEqual([undefined, 'overdue']);
    expect([at(29_999, 60_000), at(30_000, 60_000)]).toEqual([undefined, 'overdue']);
    // Without block progress only the overdue rule applies.
    expect(resubmitReason({ now, sentAt: now - 11_000, lastBlockAt: undefined, recentP99: 100 }, limits)).toBe(
      undefined,
    );
  });
});

describe('CommitLatencies', () => {
  it('has no p99 until ten commits are known, then the 99th percentile of the most recent ones', () => {
    const latencies = new CommitLatencies(100);
    for (let index = 1; index <= 9; index += 1) latencies.record(index);
    expect(latencies.p99()).toBeUndefined();
    latencies.record(10);
    expect(latencies.p99()).toBe(10);
    // 100 fast commits push the slow early ones out of the window.
    for (let index = 0; index < 100; index += 1) latencies.record(50);
    latencies.record(5000);
    expect(latencies.p99()).toBe(50);
    latencies.record(6000);
    expect(latencies.p99()).toBe(5000);
  });
});
