import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { defaultOrgPorts, loadNetworkConfig, portAssignments, readAddedOrgs, withAddedOrg } from '../config.js';
import { admissionStep, majorityOf, OrgAdmissionError } from './add-org.js';
import { channelSpec } from './channel.js';
import { cryptoSpec } from './crypto.js';

const labelOrg = {
  name: 'LabelOrg',
  mspId: 'LabelOrgMSP',
  address: '127.0.0.1',
  ...defaultOrgPorts(3),
  admission: { proposalId: 'P-1', signedBy: ['ClientOrgMSP', 'TalentOrgMSP'], at: '2026-11-30T00:00:00.000Z' },
};

describe('majorityOf', () => {
  it('takes more than half of the members, as the MAJORITY Admins policy counts them', () => {
    expect(majorityOf(['A', 'B', 'C'])).toEqual(['A', 'B']);
    expect(majorityOf(['A', 'B', 'C', 'D'])).toEqual(['A', 'B', 'C']);
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 1, maxLength: 40 }), (members) => {
        const chosen = majorityOf(members).length;
        return chosen * 2 > members.length && (chosen - 1) * 2 <= members.length;
      }),
    );
  });
});

describe('an added organisation in the configuration', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'gl-add-org-'));
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });

  it('gets ports no other process of the network owns, shifted by the offset', () => {
    const config = withAddedOrg(loadNetworkConfig({ home, portOffset: 50000 }), labelOrg);
    const ports = [
      ...portAssignments(config).map((assignment) => assignment.port),
      ...config.chaincode.serverPorts,
      config.apiPort,
    ];
    expect(new Set(ports).size).toBe(ports.length);
    const added = config.peerOrgs.at(-1);
    expect(added).toMatchObject({
      name: 'LabelOrg',
      domain: 'labelorg.gigledger.local',
      peer: { host: 'peer0.labelorg.gigledger.local', port: 60051, chaincodePort: 60052, operationsPort: 59446 },
      ca: { name: 'ca-labelorg', port: 60054, operationsPort: 59546 },
    });
  });

  it('refuses a name or MSP id the network already has', () => {
    const config = loadNetworkConfig({ home, portOffset: 0 });
    expect(() => withAddedOrg(config, { ...labelOrg, name: 'TalentOrg' })).toThrow(
      'TalentOrg (TalentOrgMSP) is already an organisation of the network',
    );
    expect(() => withAddedOrg(config, { ...labelOrg, mspId: 'AuditOrgMSP' })).toThrow(/AuditOrg \(AuditOrgMSP\)/);
  });

  it('is read back from organisations.json by every later command, with how it was admitted', () => {
    const config = loadNetworkConfig({ home, portOffset: 0 });
    writeFileSync(config.paths.addedOrgs, JSON.stringify([labelOrg]));
    const reloaded = loadNetworkConfig({ home, portOffset: 0 });
    expect(reloaded.peerOrgs.map((org) => org.mspId)).toEqual([
      'ClientOrgMSP',
      'TalentOrgMSP',
      'AuditOrgMSP',
      'LabelOrgMSP',
    ]);
    expect(reloaded.peerOrgs.at(-1)?.admission?.proposalId).toBe('P-1');
    expect(readAddedOrgs(reloaded.paths.addedOrgs)).toEqual([labelOrg]);
  });

  it('names the field of a damaged organisations.json', () => {
    const file = path.join(home, 'broken.json');
    writeFileSync(file, JSON.stringify([{ ...labelOrg, peer: { ...labelOrg.peer, port: 70000 } }]));
    expect(() => readAddedOrgs(file)).toThrow(`${file}: 0.peer.port:`);
  });

  it('stays out of the genesis block but gets certificates like the founders', () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'gl-add-org-'));
    try {
      const config = withAddedOrg(loadNetworkConfig({ home: fresh, portOffset: 0 }), labelOrg);
      const channel = channelSpec(config) as {
        Profiles: Record<string, { Application: { Organizations: { Name: string }[] } }>;
      };
      const profile = Object.values(channel.Profiles)[0];
      expect(profile?.Application.Organizations.map((org) => org.Name)).toEqual(['ClientOrg', 'TalentOrg', 'AuditOrg']);
      const crypto = cryptoSpec(config) as { PeerOrgs: { Name: string; EnableNodeOUs: boolean }[] };
      expect(crypto.PeerOrgs.find((org) => org.Name === 'LabelOrg')).toMatchObject({ EnableNodeOUs: true });
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

describe('admissionStep', () => {
  it('names the failed step and keeps the reason', async () => {
    const failure = admissionStep(
      'submit the channel configuration update',
      () => undefined,
      () => Promise.reject(new Error('implicit policy evaluation failed - 1 sub-policies were satisfied')),
    );
    await expect(failure).rejects.toBeInstanceOf(OrgAdmissionError);
    await expect(failure).rejects.toThrow(
      'submit the channel configuration update failed: implicit policy evaluation failed - 1 sub-policies were satisfied',
    );
  });
});
