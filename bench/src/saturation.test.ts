import { setTimeout as delay } from 'node:timers/promises';
import { runLevel, type Workload } from './saturation.js';

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
