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
});
