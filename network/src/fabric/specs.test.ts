import { loadNetworkConfig } from '../config.js';
import { channelSpec } from './channel.js';
import { cryptoSpec } from './crypto.js';

const config = loadNetworkConfig({ home: '/tmp/gl-spec', portOffset: 100 });

interface CryptoOrg {
  Name: string;
  Domain: string;
  EnableNodeOUs: boolean;
  Specs: { Hostname: string; SANS: string[] }[];
}

describe('cryptogen input', () => {
  const spec = cryptoSpec(config) as { OrdererOrgs: CryptoOrg[]; PeerOrgs: CryptoOrg[] };

  it('names 127.0.0.1 in every node certificate and enables NodeOUs for channel members', () => {
    for (const org of [...spec.OrdererOrgs, ...spec.PeerOrgs]) {
      for (const node of org.Specs) expect(node.SANS).toContain('127.0.0.1');
    }
    expect(spec.PeerOrgs.filter((org) => org.EnableNodeOUs).map((org) => org.Name)).toEqual([
      'ClientOrg',
      'TalentOrg',
      'AuditOrg',
    ]);
    expect(spec.OrdererOrgs[0]?.Specs.map((node) => node.Hostname)).toEqual(['orderer0', 'orderer1', 'orderer2']);
  });
});

describe('configtxgen input', () => {
  type Profile = {
    Orderer: { EtcdRaft: { Consenters: { Host: string; Port: number }[] }; OrdererType: string };
    Application: { Organizations: { ID: string; AnchorPeers: { Host: string; Port: number }[] }[] };
    Capabilities: Record<string, boolean>;
  };
  const profile = (channelSpec(config) as { Profiles: Record<string, Profile> }).Profiles.GigLedgerChannel!;

  it('makes every orderer a Raft consenter on its configured port', () => {
    expect(profile.Orderer.OrdererType).toBe('etcdraft');
    expect(profile.Orderer.EtcdRaft.Consenters.map((consenter) => [consenter.Host, consenter.Port])).toEqual(
      config.ordererOrg.orderers.map((node) => ['127.0.0.1', node.port]),
    );
  });

  it('lists each organisation with its peer as anchor, and uses v3 channel capabilities', () => {
    expect(profile.Application.Organizations.map((org) => [org.ID, org.AnchorPeers[0]?.Port])).toEqual(
      config.peerOrgs.map((org) => [org.mspId, org.peer.port]),
    );
    expect(profile.Capabilities).toEqual({ V3_0: true });
  });
});
