import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadNetworkConfig, removedOrgs, type AddedOrgEntry } from './config.js';
import { LocalNetwork } from './network.js';
import { toolchainAt } from './toolchain/toolchain.js';

const at = '2026-01-01T00:00:00.000Z';

function labelOrg(removed: boolean): AddedOrgEntry {
  return {
    name: 'LabelOrg',
    mspId: 'LabelOrgMSP',
    address: '127.0.0.1',
    peer: { name: 'peer0', port: 10051, chaincodePort: 10052, operationsPort: 9446 },
    ca: { port: 10054, operationsPort: 9546 },
    admission: { signedBy: ['ClientOrgMSP', 'TalentOrgMSP'], at },
    ...(removed ? { removal: { signedBy: ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'], at } } : {}),
  };
}

describe('network:status after remove-org', () => {
  let home: string;

  beforeEach(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'gl-status-'));
  });

  afterEach(() => {
    rmSync(home, { recursive: true, force: true });
  });

  it('describes a removed organisation apart from the members, and forgets it when it joins again', () => {
    writeFileSync(path.join(home, 'organisations.json'), JSON.stringify([labelOrg(true)]));
    const config = loadNetworkConfig({ home, portOffset: 0 });
    expect(config.peerOrgs.map((org) => org.name)).not.toContain('LabelOrg');
    expect(removedOrgs(config).map((org) => [org.ca.name, `${org.peer.name}.${org.name}`])).toEqual([
      ['ca-labelorg', 'peer0.LabelOrg'],
    ]);

    writeFileSync(path.join(home, 'organisations.json'), JSON.stringify([labelOrg(true), labelOrg(false)]));
    expect(removedOrgs(loadNetworkConfig({ home, portOffset: 0 }))).toEqual([]);
  });

  it("leaves the removed organisation's CA and peer out while listing the network's other processes", async () => {
    writeFileSync(path.join(home, 'organisations.json'), JSON.stringify([labelOrg(true)]));
    const config = loadNetworkConfig({ home, portOffset: 0 });
    const network = new LocalNetwork(config, toolchainAt(path.join(home, 'toolchain')));
    const [removed] = removedOrgs(config);
    if (removed === undefined) throw new Error('LabelOrg should be a removed organisation');
    // Stand-ins with the removed organisation's process names, and one the network does not start itself.
    const names = [removed.ca.name, `${removed.peer.name}.${removed.name}`, 'settlement'];
    mkdirSync(path.join(home, 'work'), { recursive: true });
    for (const name of names) {
      network.registry.start({
        name,
        kind: name === 'settlement' ? 'settlement' : name.startsWith('ca-') ? 'ca' : 'peer',
        command: 'sleep',
        args: ['60'],
        env: process.env,
        cwd: path.join(home, 'work'),
        ports: [],
      });
    }
    try {
      const listed = (await network.status()).processes.map((entry) => entry.name);
      expect(listed).toContain('settlement');
      expect(listed).not.toContain('ca-labelorg');
      expect(listed).not.toContain('peer0.LabelOrg');
      expect(listed).toContain('peer0.ClientOrg');
    } finally {
      for (const name of names) await network.registry.stop(name);
    }
  });

  it("lists the API's workers under their primary, and a process stopped by a signal as suspended", async () => {
    const config = loadNetworkConfig({ home, portOffset: 0 });
    const network = new LocalNetwork(config, toolchainAt(path.join(home, 'toolchain')));
    mkdirSync(path.join(home, 'work'), { recursive: true });
    // The API's /healthz, answered here for the primary the test starts.
    let answering: 'always' | 'never' | 'on every other connection' = 'always';
    // As two workers taking connections in turn, one of them stopped: each new connection
    // is the other worker's, and one kept open stays with the worker that took it.
    let connections = 0;
    const stoppedWorkers = new WeakSet<object>();
    const health = http.createServer((request, response) => {
      const stopped = answering === 'on every other connection' && stoppedWorkers.has(request.socket);
      response.statusCode = answering === 'never' || stopped ? 503 : 200;
      response.end();
    });
    health.on('connection', (socket: object) => {
      connections += 1;
      if (connections % 2 === 0) stoppedWorkers.add(socket);
    });
    health.listen(0, '127.0.0.1');
    await once(health, 'listening');
    const healthPort = (health.address() as AddressInfo).port;
    // A primary with two children, as the API runs with API_WORKERS=2.
    const primary = network.registry.start({
      name: 'api',
      kind: 'api',
      command: 'sh',
      // Named as node:cluster names its workers in their environment.
      args: ['-c', 'NODE_UNIQUE_ID=1 sleep 60 & NODE_UNIQUE_ID=3 sleep 60 & wait'],
      env: process.env,
      cwd: path.join(home, 'work'),
      ports: [healthPort],
    });
    try {
      // Signals and forks take effect a moment after the call: the status is asked again until it shows them.
      const statusShowing = async <T>(read: () => Promise<T>, shown: (value: T) => boolean): Promise<T> => {
        let value = await read();
        for (let tries = 0; !shown(value) && tries < 50; tries += 1) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          value = await read();
        }
        return value;
      };
      const workersOf = async () =>
        (await network.status()).processes.filter((entry) => entry.name.startsWith('api worker '));
      const primaryOf = async () => (await network.status()).processes.find((entry) => entry.name === 'api');
      // Until each child has exec'd with its environment, it is named by PID.
      const workers = await statusShowing(
        workersOf,
        (listed) => listed.length >= 2 && listed.every((entry) => !entry.name.includes('(PID')),
      );
      // A worker's health is its process's state: no request can ask one worker in particular.
      expect(workers.map((entry) => [entry.name, entry.kind, entry.healthy, entry.probed])).toEqual([
        ['api worker 1', 'api', true, false],
        ['api worker 3', 'api', true, false],
      ]);
      expect(new Set(workers.map((entry) => entry.pid)).size).toBe(2);
      expect(workers.map((entry) => entry.pid)).not.toContain(primary.pid);

      process.kill(primary.pid, 'SIGSTOP');
      try {
        const stopped = await statusShowing(primaryOf, (entry) => entry?.suspended === true);
        expect(stopped).toMatchObject({ pid: primary.pid, healthy: false, suspended: true });
      } finally {
        process.kill(primary.pid, 'SIGCONT');
      }
      const continued = await statusShowing(primaryOf, (entry) => entry?.suspended !== true);
      expect(continued).toMatchObject({ pid: primary.pid, healthy: true });
      expect(continued?.suspended).toBeUndefined();
      // Alive, but its /healthz refused: unhealthy.
      answering = 'never';
      expect((await network.status()).processes.find((entry) => entry.name === 'api')).toMatchObject({
        pid: primary.pid,
        healthy: false,
      });
      // One of two workers not answering: each status asks both, on connections of their own.
      answering = 'on every other connection';
      connections = 0;
      for (let run = 0; run < 3; run += 1) {
        expect((await network.status()).processes.find((entry) => entry.name === 'api')).toMatchObject({
          healthy: false,
        });
      }
    } finally {
      await network.registry.stop('api');
      health.close();
    }
  });
});
