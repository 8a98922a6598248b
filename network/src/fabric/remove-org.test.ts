import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultOrgPorts, loadNetworkConfig, readAddedOrgs, withAddedOrg } from '../config.js';
import type { ChannelConfigJson } from './add-org.js';
import { chooseRemovalSigners, withoutOrg } from './remove-org.js';

const labelOrg = {
  name: 'LabelOrg',
  mspId: 'LabelOrgMSP',
  address: '127.0.0.1',
  ...defaultOrgPorts(3),
  admission: { proposalId: 'P-1', signedBy: ['ClientOrgMSP', 'TalentOrgMSP'], at: '2026-11-30T00:00:00.000Z' },
};

function channelConfig(orgs: readonly string[]): ChannelConfigJson & { channel_group: { version: string } } {
  return {
    channel_group: {
      version: '0',
      groups: {
        Application: {
          groups: Object.fromEntries(orgs.map((name) => [name, { values: { MSP: { value: { config: { name } } } } }])),
          mod_policy: 'Admins',
        } as ChannelConfigJson['channel_group']['groups']['Application'],
      },
    },
  };
}

describe('withoutOrg', () => {
  it('drops the organisation group and nothing else, leaving the fetched configuration as it was', () => {
    const current = channelConfig(['ClientOrg', 'TalentOrg', 'AuditOrg', 'LabelOrg']);
    const before = structuredClone(current);
    const updated = withoutOrg(current, 'LabelOrg');
    expect(Object.keys(updated.channel_group.groups.Application.groups)).toEqual([
      'ClientOrg',
      'TalentOrg',
      'AuditOrg',
    ]);
    expect(updated).toEqual(channelConfig(['ClientOrg', 'TalentOrg', 'AuditOrg']));
    expect(current).toEqual(before);
  });

  it('refuses an organisation the channel does not have', () => {
    expect(() => withoutOrg(channelConfig(['ClientOrg']), 'LabelOrg')).toThrow(
      'LabelOrg is not an organisation of the channel',
    );
  });
});

describe('chooseRemovalSigners', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'gl-remove-org-'));
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });
  const config = withAddedOrg(loadNetworkConfig({ home }), labelOrg);
  const leaving = config.peerOrgs.at(-1)!;

  it('takes a majority of the members before the change, from the organisations that stay', () => {
    expect(chooseRemovalSigners(config.peerOrgs, leaving).map((org) => org.mspId)).toEqual([
      'ClientOrgMSP',
      'TalentOrgMSP',
      'AuditOrgMSP',
    ]);
  });

  it('needs the leaving organisation itself when the others alone are too few', () => {
    const two = config.peerOrgs.filter((org) => org.name === 'ClientOrg' || org.name === 'LabelOrg');
    expect(chooseRemovalSigners(two, leaving).map((org) => org.name)).toEqual(['ClientOrg', 'LabelOrg']);
  });

  it('takes named signers in order and refuses an unknown one', () => {
    expect(chooseRemovalSigners(config.peerOrgs, leaving, ['AuditOrgMSP', 'ClientOrg']).map((org) => org.name)).toEqual(
      ['AuditOrg', 'ClientOrg'],
    );
    expect(() => chooseRemovalSigners(config.peerOrgs, leaving, ['NobodyOrg'])).toThrow(
      'NobodyOrg is not an organisation of the channel',
    );
  });
});

describe('a removed organisation in the configuration', () => {
  it('is no organisation of the network for any later command, but its record stays with how it left', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'gl-remove-org-'));
    try {
      const config = loadNetworkConfig({ home, portOffset: 0 });
      const removal = {
        proposalId: 'P-2',
        signedBy: ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'],
        at: '2026-12-01T00:00:00.000Z',
      };
      writeFileSync(config.paths.addedOrgs, JSON.stringify([{ ...labelOrg, removal }]));
      const reloaded = loadNetworkConfig({ home, portOffset: 0 });
      expect(reloaded.peerOrgs.map((org) => org.mspId)).toEqual(['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP']);
      expect(readAddedOrgs(reloaded.paths.addedOrgs)[0]?.removal).toEqual(removal);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
