import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processStartTicks } from './proc.js';
import { isAlive, NetworkLock, ProcessRegistry, type StartRequest } from './registry.js';
import { Supervisor } from './supervisor.js';
import { sleep, waitUntil } from './wait.js';

/**
 * Another command working on the network, as `network:down` in a second shell would be:
 * a live process of its own whose PID and start time the lock file names.
 */
function otherCommandHolding(runDir: string, purpose: string): ChildProcess {
  mkdirSync(runDir, { recursive: true });
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
  const pid = holder.pid ?? 0;
  writeFileSync(path.join(runDir, 'lock'), JSON.stringify({ pid, ticks: processStartTicks(pid), purpose }));
  return holder;
}

async function ended(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exit;
}

const peer: StartRequest = {
  name: 'peer0.TalentOrg',
  kind: 'peer',
  command: 'sleep',
  args: ['60'],
  env: process.env,
  cwd: os.tmpdir(),
  ports: [],
};
const fast = { intervalMs: 20, backoff: { initialMs: 20, maxMs: 100, stableMs: 60_000 } } as const;

describe('restarts and the network lock', () => {
  let dir: string;
  let runDir: string;
  let registry: ProcessRegistry;
  let lock: NetworkLock;
  let holder: ChildProcess | undefined;
  let supervisor: Supervisor | undefined;
  let lines: string[];

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gl-supervisor-lock-'));
    runDir = path.join(dir, 'run');
    registry = new ProcessRegistry(runDir, path.join(dir, 'logs'));
    lock = new NetworkLock(runDir);
    lines = [];
  });

  afterEach(async () => {
    await supervisor?.stop();
    supervisor = undefined;
    if (holder !== undefined) await ended(holder);
    holder = undefined;
    for (const record of registry.list()) await registry.stop(record.name, 1000);
    rmSync(dir, { recursive: true, force: true });
  });

  function supervise(): void {
    supervisor = new Supervisor({
      registry,
      lock,
      report: (line) => lines.push(line),
      restartOf: () => () => Promise.resolve(registry.start(peer).pid),
      ...fast,
    });
    supervisor.start();
  }

  it('starts nothing while another command holds the lock, and starts the process once it is free', async () => {
    const first = registry.start(peer);
    holder = otherCommandHolding(runDir, 'network up --org ThirdOrg');
    supervise();
    process.kill(first.pid, 'SIGKILL');
    await waitUntil('the stop to be seen', () => Promise.resolve(lines.length > 0 ? true : undefined));
    await sleep(300);
    expect(registry.find(peer.name)?.pid).toBe(first.pid);

    await ended(holder);
    const again = await waitUntil('the peer to run again', () => {
      const record = registry.find(peer.name);
      return Promise.resolve(record !== undefined && record.pid !== first.pid && isAlive(record) ? record : undefined);
    });
    expect(lines).toContain(`peer0.TalentOrg started again as PID ${String(again.pid)}`);
    // Released after the restart: the next command takes it at once.
    expect(lock.holder()).toBeUndefined();
  });

  it('does not start again a process that the command holding the lock stopped on purpose meanwhile', async () => {
    const first = registry.start(peer);
    holder = otherCommandHolding(runDir, 'network down');
    supervise();
    process.kill(first.pid, 'SIGKILL');
    await waitUntil('the stop to be seen', () => Promise.resolve(lines.length > 0 ? true : undefined));
    // What `network:down` does under its lock: the record leaves the registry.
    await registry.stop(peer.name, 1000);
    await ended(holder);
    await sleep(300);

    expect(registry.find(peer.name)).toBeUndefined();
    expect(lines.filter((line) => line.includes('started again'))).toEqual([]);
  });

  it('lets a command wait for a restart under way instead of failing', async () => {
    holder = otherCommandHolding(runDir, 'restarting peer0.TalentOrg');
    expect(lock.holder()).toEqual({ pid: holder.pid, purpose: 'restarting peer0.TalentOrg' });
    expect(() => {
      lock.acquire('network down');
    }).toThrow(`another command (PID ${String(holder.pid)}: restarting peer0.TalentOrg) is working on this network`);
    await expect(lock.acquireWithin('network down', 200, 20)).rejects.toThrow(/^another command \(PID /);

    const released = sleep(200).then(() => (holder === undefined ? undefined : ended(holder)));
    await lock.acquireWithin('network down', 10_000, 20);
    await released;
    expect(lock.holder()).toBeUndefined();
    lock.release();
  });
});
