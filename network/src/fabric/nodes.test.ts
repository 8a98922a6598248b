import { defaultDeadlines } from '@gigledger/gateway';
import { loadNetworkConfig } from '../config.js';
import type { Toolchain } from '../toolchain/toolchain.js';
import { nodeOverrides, ordererProcess, peerProcess } from './nodes.js';

const toolchain: Toolchain = {
  dir: '/t',
  binDir: '/t/bin',
  configDir: '/t/config',
  bin: (command) => `/t/bin/${command}`,
};

describe('settings added to every peer or orderer', () => {
  it('takes GIGLEDGER_PEER_<NAME> as <NAME> and leaves the CLI variables of the shell alone', () => {
    expect(
      nodeOverrides('GIGLEDGER_PEER_', {
        GIGLEDGER_PEER_GOGC: '200',
        GIGLEDGER_PEER_CORE_PEER_VALIDATORPOOLSIZE: '4',
        GIGLEDGER_PEER_: 'no name',
        GIGLEDGER_ORDERER_GOGC: '300',
        CORE_PEER_ADDRESS: '127.0.0.1:7051',
      }),
    ).toEqual({ GOGC: '200', CORE_PEER_VALIDATORPOOLSIZE: '4' });
  });

  it('puts them into the nodes’ environments over the values the network sets', () => {
    const config = loadNetworkConfig({ home: '/tmp/gl-nodes', portOffset: 0 });
    const [org] = config.peerOrgs;
    const [orderer] = config.ordererOrg.orderers;
    if (org === undefined || orderer === undefined) throw new Error('the default network has a peer and an orderer');
    const saved = { ...process.env };
    try {
      process.env.GIGLEDGER_PEER_GOGC = '200';
      process.env.GIGLEDGER_PEER_CORE_PEER_GOSSIP_ALIVETIMEINTERVAL = '5s';
      process.env.GIGLEDGER_ORDERER_GOGC = '300';
      expect(peerProcess(config, toolchain, org).env).toMatchObject({
        GOGC: '200',
        CORE_PEER_GOSSIP_ALIVETIMEINTERVAL: '5s',
      });
      expect(ordererProcess(config, toolchain, orderer).env).toMatchObject({ GOGC: '300' });
      expect(ordererProcess(config, toolchain, orderer).env.CORE_PEER_GOSSIP_ALIVETIMEINTERVAL).toBeUndefined();
    } finally {
      process.env = saved;
    }
  });
});

describe('keepalive between the nodes', () => {
  /** Seconds of a Go duration such as `5s` or `1m`. */
  const seconds = (duration: string | undefined) => {
    const match = /^(\d+)(s|m)$/.exec(duration ?? '');
    if (match === null) throw new Error(`not a duration in s or m: ${String(duration)}`);
    return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
  };

  it("lets a peer's gateway move on from an orderer that does not answer before the client's submit deadline passes", () => {
    // The peer's gateway must give up on one orderer well before the client stops waiting
    // for the submit, to try the next in time.
    const config = loadNetworkConfig({ home: '/tmp/gl-nodes', portOffset: 0 });
    for (const org of config.peerOrgs) {
      const env = peerProcess(config, toolchain, org).env;
      expect(seconds(env.CORE_PEER_GATEWAY_BROADCASTTIMEOUT) * 2 * 1000).toBeLessThan(defaultDeadlines.submitMs);
    }
  });

  it('lets every peer and orderer take pings as often as any gRPC client may send them (every 10 s)', () => {
    // A Fabric client dialled without keepalive settings (the peer gateway's connections to
    // other peers) pings at gRPC's floor of 10 s; a server allowing fewer closes the
    // connection with GOAWAY too_many_pings.
    const config = loadNetworkConfig({ home: '/tmp/gl-nodes', portOffset: 0 });
    for (const org of config.peerOrgs) {
      const env = peerProcess(config, toolchain, org).env;
      expect(seconds(env.CORE_PEER_KEEPALIVE_MININTERVAL)).toBeLessThan(10);
      // And the peer's own block stream pings its orderer no more often than the orderer allows.
      for (const orderer of config.ordererOrg.orderers) {
        const ordererEnv = ordererProcess(config, toolchain, orderer).env;
        expect(seconds(env.CORE_PEER_KEEPALIVE_DELIVERYCLIENT_INTERVAL)).toBeGreaterThanOrEqual(
          seconds(ordererEnv.ORDERER_GENERAL_KEEPALIVE_SERVERMININTERVAL),
        );
      }
    }
  });
});
