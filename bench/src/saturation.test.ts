import { setTimeout as delay } from 'node:timers/promises';
import {
  failureKind,
  findKnee,
  longestRampSeconds,
  rampFor,
  runLevel,
  type LevelFigures,
  type Workload,
} from './saturation.js';

describe('runLevel', () => {
  it('opens its window only once every worker has had an answer, and does not count the warm-up', async () => {
    let answered = 0;
    let releaseSlowWorker = () => {};
    const slowWorkerAnswers = new Promise<void>((resolve) => {
      releaseSlowWorker = resolve;
    });
    let slowWorkerWaited = false;
    const workload: Workload = async (timer, worker) => {
      await timer.call(1, async () => {
        if (worker === 0 && !slowWorkerWaited) {
          slowWorkerWaited = true;
          await slowWorkerAnswers;
        } else {
          await delay(1);
          if (answered === 20) releaseSlowWorker();
        }
        answered += 1;
      });
    };

    const figures = await runLevel(workload, 4, 0.05);

    // The 20 answers of the fast workers before the slow one's first are warm-up.
    expect(answered).toBeGreaterThanOrEqual(figures.calls + 21);
    expect(figures.commits).toBe(figures.calls);
    expect(figures.seconds).toBe(0.05);
    expect(figures.throughput).toBeCloseTo(figures.commits / 0.05);
  });

  it('counts a failure in the drain after the window, but no answer from it', async () => {
    let round = 0;
    const workload: Workload = async (timer) => {
      round += 1;
      const mine = round;
      await timer.call(1, async () => {
        // The first answer opens the window; the second call outlives it and fails.
        if (mine > 1) {
          await delay(100);
          throw new Error('answered 503 {"code":"ENDORSEMENT_FAILED"}');
        }
      });
    };

    const figures = await runLevel(workload, 1, 0.05);

    expect(figures.calls).toBe(0);
    expect(figures.callsFailed).toBe(0);
    expect(figures.throughput).toBe(0);
    expect(Object.fromEntries(figures.failures)).toEqual({ 'HTTP 503 ENDORSEMENT_FAILED': 1 });
  });

  it('runs the window hooks in order and returns only once both have settled', async () => {
    const seen: string[] = [];
    const workload: Workload = async (timer) => {
      await timer.call(0, () => delay(1));
    };

    const figures = await runLevel(workload, 2, 0.02, {
      async opened() {
        await delay(30);
        seen.push('opened');
      },
      async closed() {
        await delay(5);
        seen.push('closed');
      },
    });

    expect(seen).toEqual(['opened', 'closed']);
    expect(figures.calls).toBeGreaterThan(0);
    expect(figures.throughput).toBeCloseTo(figures.calls / 0.02);
  });
});

/** A unit of four calls of `ms` each, named by step, as the business workload's unit is of ten. */
const unitOfFour =
  (ms: () => number): Workload =>
  async (timer) => {
    for (const step of ['draft', 'accept', 'fund', 'release']) await timer.call(1, () => delay(ms()), step);
  };

describe('steady windows', () => {
  it("says a window holding a unit's steps in their proportions is steady, and one holding mostly one step is not", async () => {
    const steady = await runLevel(
      unitOfFour(() => 1),
      4,
      0.2,
    );
    expect(steady.steady).toBe(true);
    expect([...steady.steps.keys()]).toEqual(['draft', 'accept', 'fund', 'release']);

    // Every worker starts at once and a step takes longer than half the window: the window
    // holds the second step's answers alone, as a short window at a high level does.
    const lockstep = await runLevel(
      unitOfFour(() => 60),
      4,
      0.09,
    );
    expect(lockstep.steady).toBe(false);
    expect(lockstep.steps.get('accept')).toBe(4);
    expect(lockstep.steps.get('fund')).toBe(0);

    // Calls without steps are one step: always steady.
    const plain = await runLevel(async (timer) => timer.call(1, () => delay(1)), 2, 0.02);
    expect([plain.steady, plain.steps.size]).toEqual([true, 0]);
  });

  it('takes no unsteady level for the knee, however high its throughput', async () => {
    let level = 0;
    const lines: string[] = [];
    const figures = await findKnee(
      'L3',
      'tx/s',
      // One worker's short steps at the first and last level (about 100 tx/s); at the
      // second, 16 workers in step whose window holds no draft (48 answers in 0.2 s).
      unitOfFour(() => (level === 2 ? 60 : 10)),
      [1, 16, 1],
      0.2,
      (line) => lines.push(line),
      () => {
        level += 1;
        return Promise.resolve({ finish: () => undefined });
      },
    );
    const [first, second, third] = figures.levels;
    expect(second?.steady).toBe(false);
    expect(second?.throughput).toBeGreaterThan(Math.max(first?.throughput ?? 0, third?.throughput ?? 0));
    expect([first?.steady, third?.steady]).toEqual([true, true]);
    expect(figures.knee.steady).toBe(true);
    expect(lines[1]).toContain('not steady (calls by step draft 0, accept 16');
  });
});

describe('workers started over a unit', () => {
  it("spreads the workers' first calls over the ramp, so a window shorter than a unit holds every step", async () => {
    // 16 workers, units of four 60 ms steps (0.24 s), a window of 3.5 steps: started at
    // once, the workers answer the same steps and one step is missing from the window.
    const inStep = await runLevel(
      unitOfFour(() => 60),
      16,
      0.21,
    );
    expect(inStep.steady).toBe(false);
    const spread = await runLevel(
      unitOfFour(() => 60),
      16,
      0.21,
      undefined,
      { rampSeconds: 0.24 },
    );
    expect(spread.steady).toBe(true);
    expect(Math.min(...spread.steps.values())).toBeGreaterThan(0);
  });

  it("takes the ramp from the level before by Little's law, none for single calls or the first level, and caps it", () => {
    const before = { calls: 1_500, seconds: 15 } as LevelFigures;
    // 100 calls/s answered: 512 workers of ten calls each take 51.2 s per unit.
    expect(rampFor(512, 10, before)).toBeCloseTo(51.2);
    expect(rampFor(512, undefined, before)).toBe(0);
    expect(rampFor(512, 1, before)).toBe(0);
    expect(rampFor(512, 10, undefined)).toBe(0);
    expect(rampFor(100_000, 10, before)).toBe(longestRampSeconds);
  });
});

describe('failureKind', () => {
  it('counts chaincode refusals by code, whatever record their message names', () => {
    const refused = (agreementId: string) => {
      const error = new Error(`INVALID_STATE: milestone m1 of agreement ${agreementId} is funded, not submitted`);
      error.name = 'RefusedError';
      return error;
    };
    expect(failureKind(refused('L2-1'))).toBe('RefusedError INVALID_STATE');
    expect(failureKind(refused('L2-2'))).toBe('RefusedError INVALID_STATE');
    expect(failureKind(new Error('answered 503 {"code":"ENDORSEMENT_FAILED"}'))).toBe('HTTP 503 ENDORSEMENT_FAILED');
  });
});
