import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describeConflicts, ephemeralRangeWarning, findPortConflicts, isPortFree } from './ports.js';
import { processStartTicks } from './proc.js';
import { isAlive, NetworkLock, ProcessRegistry, type StartRequest } from './registry.js';

/** A stand-in node: `sleep` runs long enough to be recorded, found alive and stopped by PID. */
function sleeper(seconds: string, cwd: string): StartRequest {
  return { name: 'sleeper', kind: 'peer', command: 'sleep', args: [seconds], env: process.env, cwd, ports: [] };
}

describe('ProcessRegistry', () => {
  let dir: string;
  let registry: ProcessRegistry;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gl-registry-'));
    registry = new ProcessRegistry(path.join(dir, 'run'), path.join(dir, 'logs'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a process detached, records it by PID and start time, and stops it by PID', async () => {
    const record = registry.start(sleeper('30', os.tmpdir()));

    expect(isAlive(record)).toBe(true);
    expect(record.startTicks).toBe(processStartTicks(record.pid));
    expect(registry.running().map((entry) => entry.name)).toEqual(['sleeper']);
    expect(() => registry.start(sleeper('1', '/'))).toThrow(`sleeper is already running as PID ${record.pid}`);

    await registry.stop('sleeper');

    expect(isAlive(record)).toBe(false);
    expect(registry.list()).toEqual([]);
  });

  it('never signals a process whose start time differs from the record (a reused PID)', async () => {
    const record = registry.start(sleeper('30', '/'));
    const impostor = { ...record, startTicks: '1' };

    expect(isAlive(impostor)).toBe(false);
    expect(isAlive(record)).toBe(true);
    await registry.stop('sleeper');
  });
});

describe('port checks', () => {
  it('names the process that holds a port', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(await isPortFree(port)).toBe(false);
      const [conflict] = await findPortConflicts([{ owner: 'peer0', address: '127.0.0.1', port, purpose: 'peer' }]);
      expect(conflict?.ownerPid).toBe(process.pid);
      expect(conflict?.ownerCommand).toContain('node');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await isPortFree(port)).toBe(true);
  });

  it("says how to keep clear of a port held by another process's outgoing connection", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    // The connection's own end: a port the system chose for it, with no listener behind it.
    const port = client.localPort!;
    try {
      const conflicts = await findPortConflicts([
        { owner: 'orderer1', address: '127.0.0.1', port, purpose: 'orderer' },
      ]);
      expect(conflicts).toHaveLength(1);
      expect(describeConflicts(conflicts, { low: port - 1, high: port + 1 })).toBe(
        `port 127.0.0.1:${port} (orderer of orderer1) is already in use by unknown (not visible to this user); ` +
          `it lies in the range ${port - 1}–${port + 1} the system gives outgoing connections their local ports from, ` +
          `so another process's connection may hold it: choose a port shift (GIGLEDGER_PORT_OFFSET) that keeps every ` +
          `port of the network below ${port - 1}`,
      );
      // Outside that range, or held by a listener it can name, the line is only the conflict.
      expect(describeConflicts(conflicts, { low: port + 1, high: port + 2 })).toBe(
        `port 127.0.0.1:${port} (orderer of orderer1) is already in use by unknown (not visible to this user)`,
      );
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("warns of ports inside the outgoing connections' range before any is taken, and only then", () => {
    const range = { low: 32768, high: 60999 };
    // The default network's ports shifted by 30000: 34000–40064, all inside.
    expect(ephemeralRangeWarning([{ port: 34000 }, { port: 40054 }, { port: 31000 }, { port: 34000 }], range)).toBe(
      "warning: 2 of the network's ports (34000–40054) lie in the range 32768–60999 the system gives outgoing " +
        "connections their local ports from, so another process's connection may hold one when a node starts; " +
        'a port shift (GIGLEDGER_PORT_OFFSET) keeping every port below 32768 avoids it',
    );
    expect(ephemeralRangeWarning([{ port: 4000 }, { port: 32767 }, { port: 61000 }], range)).toBeUndefined();
    expect(ephemeralRangeWarning([{ port: 40000 }], range)).toBe(
      "warning: the network's port 40000 lies in the range 32768–60999 the system gives outgoing connections their " +
        "local ports from, so another process's connection may hold one when a node starts; a port shift " +
        '(GIGLEDGER_PORT_OFFSET) keeping every port below 32768 avoids it',
    );
    // Where the system does not say (not Linux), nothing is claimed.
    expect(ephemeralRangeWarning([{ port: 40000 }], undefined)).toBeUndefined();
  });
});

describe('NetworkLock', () => {
  it('is free again after release and ignores a lock left by a dead process', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gl-lock-'));
    try {
      const lock = new NetworkLock(dir);
      lock.acquire('test');
      expect(lock.holder()).toBeUndefined();
      lock.release();
      lock.acquire('again');
      lock.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
