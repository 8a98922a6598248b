import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive, ProcessRegistry, type ProcessKind, type ProcessRecord, type StartRequest } from './registry.js';
import { Supervisor, type Restart } from './supervisor.js';
import { StopWaiting, waitUntil } from './wait.js';

/** A stand-in node: `sleep` lives long enough to be killed, found stopped and started again. */
function sleeper(name: string, kind: ProcessKind, seconds = '60'): StartRequest {
  return { name, kind, command: 'sleep', args: [seconds], env: process.env, cwd: os.tmpdir(), ports: [] };
}

const fast = { intervalMs: 20, backoff: { initialMs: 50, maxMs: 200, stableMs: 60_000 } } as const;

describe('Supervisor', () => {
  let dir: string;
  let registry: ProcessRegistry;
  let lines: string[];
  let supervisor: Supervisor | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gl-supervisor-'));
    registry = new ProcessRegistry(path.join(dir, 'run'), path.join(dir, 'logs'));
    lines = [];
  });

  afterEach(async () => {
    try {
      await supervisor?.stop();
      supervisor = undefined;
      for (const record of registry.list()) await registry.stop(record.name, 1000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Starts the record's request again, as the network does with a node's usual settings. */
  const startAgain =
    (requests: Map<string, StartRequest>, order: string[] = []): Restart =>
    (record: ProcessRecord) => {
      order.push(record.name);
      const request = requests.get(record.name);
      if (request === undefined) return Promise.reject(new Error(`no request for ${record.name}`));
      return Promise.resolve(registry.start(request).pid);
    };

  it('starts again a process killed from outside, with a new PID, and says so', async () => {
    const request = sleeper('peer0.TalentOrg', 'peer');
    const first = registry.start(request);
    supervisor = new Supervisor({
      registry,
      report: (line) => lines.push(line),
      restartOf: () => startAgain(new Map([[request.name, request]])),
      ...fast,
    });
    supervisor.start();

    process.kill(first.pid, 'SIGKILL');
    const second = await waitUntil('the peer to run again', () => {
      const record = registry.find(request.name);
      return Promise.resolve(record !== undefined && record.pid !== first.pid && isAlive(record) ? record : undefined);
    });

    expect(isAlive(first)).toBe(false);
    expect(isAlive(second)).toBe(true);
    expect(lines[0]).toMatch(
      new RegExp(`^warning: peer0.TalentOrg \\(PID ${String(first.pid)}\\) has stopped; starting it again in 50 ms`),
    );
    expect(lines).toContain(`peer0.TalentOrg started again as PID ${String(second.pid)}`);
  });

  it('leaves stopped a process stopped on purpose (its record removed)', async () => {
    const request = sleeper('orderer1', 'orderer');
    registry.start(request);
    const restarts: string[] = [];
    supervisor = new Supervisor({
      registry,
      report: (line) => lines.push(line),
      restartOf: () => startAgain(new Map([[request.name, request]]), restarts),
      ...fast,
    });
    supervisor.start();

    await registry.stop(request.name, 1000);
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(registry.list()).toEqual([]);
    expect(restarts).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('starts orderers before peers before the API when several stopped at once', async () => {
    const requests = new Map(
      [sleeper('api', 'api'), sleeper('peer0.ClientOrg', 'peer'), sleeper('orderer2', 'orderer')].map((request) => [
        request.name,
        request,
      ]),
    );
    const records = [...requests.values()].map((request) => registry.start(request));
    for (const record of records) process.kill(record.pid, 'SIGKILL');
    await waitUntil('all three to have ended', () =>
      Promise.resolve(records.every((record) => !isAlive(record)) ? true : undefined),
    );
    const order: string[] = [];
    supervisor = new Supervisor({
      registry,
      report: (line) => lines.push(line),
      restartOf: () => startAgain(requests, order),
      ...fast,
    });
    supervisor.start();

    await waitUntil('all three to run again', () =>
      Promise.resolve(registry.running().length === 3 ? true : undefined),
    );

    expect(order).toEqual(['orderer2', 'peer0.ClientOrg', 'api']);
  });

  it('gives up a restart whose process dies while it is awaited, and starts the other stopped node at once', async () => {
    // orderer1's restart starts a process that dies before it reports healthy (killed again);
    // orderer2 is stopped too and must not wait out orderer1's health deadline.
    const dying = { ...sleeper('orderer1', 'orderer'), args: ['0.2'] };
    const requests = new Map([dying, sleeper('orderer2', 'orderer')].map((request) => [request.name, request]));
    const records = [...requests.values()].map((request) => registry.start(sleeper(request.name, 'orderer')));
    for (const record of records) process.kill(record.pid, 'SIGKILL');
    await waitUntil('both to have ended', () =>
      Promise.resolve(records.every((record) => !isAlive(record)) ? true : undefined),
    );
    // As the network waits for a node: until it reports healthy, giving up once it exits.
    const startAndAwait: Restart = async (record) => {
      const request = requests.get(record.name)!;
      const started = registry.start(request);
      await waitUntil(
        `${record.name} to report healthy`,
        () => {
          if (!isAlive(started)) throw new StopWaiting(`${record.name} exited`);
          return Promise.resolve(request === dying ? undefined : true);
        },
        // A deadline no test waits out: only giving up on the exit lets orderer2 start.
        { timeoutMs: 3_600_000, intervalMs: 20 },
      );
      return started.pid;
    };
    supervisor = new Supervisor({
      registry,
      report: (line) => lines.push(line),
      restartOf: () => startAndAwait,
      ...fast,
    });
    supervisor.start();

    await waitUntil('orderer2 to run again', () =>
      Promise.resolve(
        registry.find('orderer2') !== undefined && isAlive(registry.find('orderer2')!) ? true : undefined,
      ),
    );
    expect(lines).toContain('warning: orderer1 did not start again (orderer1 exited); trying again in 100 ms');
  });

  it('looks again as soon as a restart ends, so a second stopped node does not wait for the next check', async () => {
    const requests = new Map(
      [sleeper('orderer1', 'orderer'), sleeper('orderer2', 'orderer')].map((request) => [request.name, request]),
    );
    const records = [...requests.values()].map((request) => registry.start(request));
    for (const record of records) process.kill(record.pid, 'SIGKILL');
    await waitUntil('both to have ended', () =>
      Promise.resolve(records.every((record) => !isAlive(record)) ? true : undefined),
    );
    supervisor = new Supervisor({
      registry,
      report: (line) => lines.push(line),
      restartOf: () => startAgain(requests),
      // Checks an hour apart: only the look after each restart can start the second node.
      intervalMs: 3_600_000,
      backoff: { initialMs: 0, maxMs: 200, stableMs: 60_000 },
    });
    supervisor.start();

    await waitUntil('both to run again', () => Promise.resolve(registry.running().length === 2 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
  });

  it('waits twice as long after each failed restart, up to the most it waits', async () => {
    const request = sleeper('ca-talentorg', 'ca');
    const record = registry.start(request);
    let tries = 0;
    supervisor = new Supervisor({
      registry,
      report: (line) => lines.push(line),
      restartOf: () => () => {
        tries += 1;
        return Promise.reject(new Error('port 7054 is taken by another process'));
      },
      ...fast,
    });
    process.kill(record.pid, 'SIGKILL');
    supervisor.start();

    await waitUntil('four failed restarts', () => Promise.resolve(tries >= 4 ? true : undefined), {
      timeoutMs: 10_000,
    });

    const retries = lines.filter((line) => line.startsWith('warning: ca-talentorg did not start again'));
    expect(retries.slice(0, 4)).toEqual([
      'warning: ca-talentorg did not start again (port 7054 is taken by another process); trying again in 100 ms',
      'warning: ca-talentorg did not start again (port 7054 is taken by another process); trying again in 200 ms',
      'warning: ca-talentorg did not start again (port 7054 is taken by another process); trying again in 200 ms',
      'warning: ca-talentorg did not start again (port 7054 is taken by another process); trying again in 200 ms',
    ]);
  });

  it('backs off a process that dies again soon after each restart, and reports each stop', async () => {
    // Each restart runs a process that ends at once, as a node failing on start-up would.
    const dying = sleeper('peer0.AuditOrg', 'peer', '0.1');
    const first = registry.start(sleeper('peer0.AuditOrg', 'peer'));
    supervisor = new Supervisor({
      registry,
      report: (line) => lines.push(line),
      restartOf: () => startAgain(new Map([[dying.name, dying]])),
      ...fast,
    });
    supervisor.start();
    process.kill(first.pid, 'SIGKILL');

    await waitUntil('three stops after restarts', () =>
      Promise.resolve(lines.filter((line) => line.includes('has stopped again')).length >= 3 ? true : undefined),
    );

    const waits = lines
      .filter((line) => line.includes('has stopped'))
      .map((line) => /starting it again in (\d+ ms)/.exec(line)?.[1]);
    expect(waits.slice(0, 4)).toEqual(['50 ms', '100 ms', '200 ms', '200 ms']);
  });

  it('tells when another command has stopped every process', async () => {
    registry.start(sleeper('orderer0', 'orderer'));
    let emptied = 0;
    supervisor = new Supervisor({
      registry,
      report: (line) => lines.push(line),
      restartOf: () => undefined,
      onNothingRecorded: () => {
        emptied += 1;
      },
      ...fast,
    });
    supervisor.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(emptied).toBe(0);

    await registry.stop('orderer0', 1000);
    await waitUntil('the empty registry to be noticed', () => Promise.resolve(emptied > 0 ? true : undefined));
    expect(lines).toEqual([]);
  });

  it('only reports, once, a stopped process it has no way to start again', async () => {
    const record = registry.start(sleeper('chaincode@7052', 'chaincode'));
    supervisor = new Supervisor({
      registry,
      report: (line) => lines.push(line),
      restartOf: () => undefined,
      ...fast,
    });
    supervisor.start();
    process.kill(record.pid, 'SIGKILL');

    await waitUntil('the stop to be reported', () => Promise.resolve(lines.length > 0 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(lines).toEqual([`warning: chaincode@7052 (PID ${String(record.pid)}) has stopped; see ${record.log}`]);
  });
});
