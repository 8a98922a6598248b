import { loadNetworkConfig, portAssignments, type NetworkConfig } from '../config.js';
import type { Toolchain } from '../toolchain/toolchain.js';
import { channelSpec } from './channel.js';
import { cryptoSpec } from './crypto.js';
import { caProcess, ordererProcess, peerProcess } from './nodes.js';

const toolchain: Toolchain = {
  dir: '/t',
  binDir: '/t/bin',
  configDir: '/t/config',
  bin: (command) => `/t/bin/${command}`,
};

/** The default network with every node on an address of its own, as network.config.json `address` fields give them. */
function spreadOverHosts(): NetworkConfig {
  const base = loadNetworkConfig({ home: '/tmp/gl-addresses', portOffset: 0 });
  return {
    ...base,
    ordererOrg: {
      ...base.ordererOrg,
      orderers: base.ordererOrg.orderers.map((node, index) => ({ ...node, address: `127.0.1.${index + 1}` })),
    },
    peerOrgs: base.peerOrgs.map((org, index) => ({ ...org, address: `127.0.2.${index + 1}` })),
    chaincode: { ...base.chaincode, address: '127.0.3.1' },
  };
}

describe('node addresses from configuration', () => {
  const config = spreadOverHosts();

  it('defaults to 127.0.0.1 for every node when network.config.json names none', () => {
    const local = loadNetworkConfig({ home: '/tmp/gl-addresses', portOffset: 0 });
    expect(new Set(portAssignments(local).map((assignment) => assignment.address))).toEqual(new Set(['127.0.0.1']));
    expect(local.chaincode.address).toBe('127.0.0.1');
  });

  it('binds and advertises each node on its own address, nowhere on 127.0.0.1', () => {
    const [orderer] = config.ordererOrg.orderers;
    const [org] = config.peerOrgs;
    if (orderer === undefined || org === undefined)
      throw new Error('the default network has orderers and organisations');
    for (const request of [ordererProcess(config, toolchain, orderer), peerProcess(config, toolchain, org)]) {
      expect(JSON.stringify(request.env)).not.toContain('127.0.0.1');
    }
    expect(peerProcess(config, toolchain, org).env).toMatchObject({
      CORE_PEER_ADDRESS: '127.0.2.1:7051',
      CORE_PEER_LISTENADDRESS: '127.0.2.1:7051',
      CORE_PEER_GOSSIP_EXTERNALENDPOINT: '127.0.2.1:7051',
      CORE_OPERATIONS_LISTENADDRESS: '127.0.2.1:9443',
    });
    expect(ordererProcess(config, toolchain, orderer).env).toMatchObject({
      ORDERER_GENERAL_LISTENADDRESS: '127.0.1.1',
      ORDERER_ADMIN_LISTENADDRESS: '127.0.1.1:7053',
    });
    const ca = caProcess(config, toolchain, org);
    expect(ca.args[ca.args.indexOf('--address') + 1]).toBe('127.0.2.1');
    expect(ca.address).toBe('127.0.2.1');
  });

  it('puts the addresses into the channel configuration: orderer endpoints, Raft consenters, anchor peers', () => {
    const spec = channelSpec(config) as {
      Profiles: Record<
        string,
        {
          Orderer: {
            EtcdRaft: { Consenters: { Host: string; Port: number }[] };
            Organizations: { OrdererEndpoints: string[] }[];
          };
          Application: { Organizations: { AnchorPeers: { Host: string; Port: number }[] }[] };
        }
      >;
    };
    const profile = Object.values(spec.Profiles)[0];
    expect(profile?.Orderer.EtcdRaft.Consenters.map((consenter) => consenter.Host)).toEqual([
      '127.0.1.1',
      '127.0.1.2',
      '127.0.1.3',
    ]);
    expect(profile?.Orderer.Organizations[0]?.OrdererEndpoints).toEqual([
      '127.0.1.1:7050',
      '127.0.1.2:7150',
      '127.0.1.3:7250',
    ]);
    expect(profile?.Application.Organizations.map((org) => org.AnchorPeers[0]?.Host)).toEqual([
      '127.0.2.1',
      '127.0.2.2',
      '127.0.2.3',
    ]);
  });

  it('names each node address in its TLS certificate besides loopback', () => {
    const spec = cryptoSpec(config) as {
      OrdererOrgs: { Specs: { Hostname: string; SANS: string[] }[] }[];
      PeerOrgs: { Name: string; Specs: { Hostname: string; SANS: string[] }[] }[];
    };
    expect(spec.OrdererOrgs[0]?.Specs.map((node) => node.SANS[0])).toEqual(['127.0.1.1', '127.0.1.2', '127.0.1.3']);
    const talent = spec.PeerOrgs.find((org) => org.Name === 'TalentOrg');
    expect(talent?.Specs.map((node) => [node.Hostname, node.SANS])).toEqual([
      ['peer0', ['127.0.2.2', '127.0.0.1', 'localhost']],
      ['ca', ['127.0.2.2', '127.0.0.1', 'localhost']],
    ]);
    expect(spec.PeerOrgs.find((org) => org.Name === 'ChaincodeServers')?.Specs[0]?.SANS[0]).toBe('127.0.3.1');
  });

  it('checks each port on the address it is bound on', () => {
    const peerPorts = portAssignments(config).filter((assignment) => assignment.owner === 'peer0.AuditOrg');
    expect(peerPorts.map((assignment) => `${assignment.address}:${assignment.port}`)).toEqual([
      '127.0.2.3:9051',
      '127.0.2.3:9052',
      '127.0.2.3:9445',
    ]);
  });
});
