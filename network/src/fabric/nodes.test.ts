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
