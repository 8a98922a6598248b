import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../db/database.js';
import { storageBackends } from '../test-support/storage-backends.js';
import { ReadLog } from './read-log.js';

const appender = fileURLToPath(new URL('../test-support/read-log-appender.js', import.meta.url));

interface Appender {
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; stderr: string }>;
  go(): void;
}

/** Starts one appender process; it appends once told to go. */
function startAppender(args: readonly string[]): Appender {
  const child = fork(appender, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      resolve({ code, stderr });
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', () => {
      resolve();
    });
    void exited.then((result) => {
      reject(new Error(`an appender exited before it was ready: ${JSON.stringify(result)}`));
    });
  });
  return { ready, exited, go: () => child.send('go') };
}

describe.each(storageBackends('gl-rl-processes'))('the read log shared by several processes ($name)', (backend) => {
  it('stays one exact hash chain when four processes append at once: no gap, no fork, no lost append', async () => {
    const { database, drop } = await backend.open();
    // The schema exists before the processes start, as the cluster's primary migrates first.
    const db = await openDatabase(database);
    try {
      const processes = 4;
      const rounds = 10;
      const perRound = 15;
      const appenders = Array.from({ length: processes }, (_, n) =>
        startAppender([JSON.stringify(database), `process-${String(n)}`, String(rounds), String(perRound)]),
      );
      await Promise.all(appenders.map((each) => each.ready));
      for (const each of appenders) each.go();
      const results = await Promise.all(appenders.map((each) => each.exited));
      for (const result of results) expect(result).toEqual({ code: 0, stderr: '' });
      const log = new ReadLog(db);
      const verification = await log.verify([]);
      expect(verification.firstBadRow).toBeUndefined();
      expect(verification.ok).toBe(true);
      expect(verification.rows).toBe(processes * rounds * perRound);
      const operations = await db.selectFrom('read_log').select('operation').execute();
      const expected = Array.from({ length: processes }, (_, n) =>
        Array.from({ length: rounds }, (_, round) =>
          Array.from({ length: perRound }, (_, k) => `process-${String(n)} ${String(round)}/${String(k)}`),
        ),
      ).flat(2);
      expect(operations.map((row) => row.operation).sort()).toEqual(expected.sort());
      // The processes' transactions interleaved: the test would not tell otherwise.
      const order = await db.selectFrom('read_log').select('operation').orderBy('seq').execute();
      const switches = order.filter(
        (row, index) => index > 0 && row.operation.split(' ')[0] !== order[index - 1]?.operation.split(' ')[0],
      ).length;
      expect(switches).toBeGreaterThan(processes - 1);
    } finally {
      await db.destroy();
      await drop();
    }
    // Four Node processes starting and appending 600 rows take tens of seconds on two busy cores.
  }, 120_000);
});
