import type { Network } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import { readChannelConfig } from './proofs/channel-config.js';

/** The organisations of a channel as its current configuration names them. */
export interface ChannelMembers {
  /**
   * MSP ids of the channel's application organisations, from the latest configuration
   * block: an organisation `network:add-org` admitted is in it, one `network:remove-org`
   * took off is not.
   *
   * @throws Error when the peer cannot be reached or the block is not a configuration block.
   */
  mspIds(): Promise<string[]>;
}

/**
 * Reads the channel's membership through the query system chaincode (`qscc`): the newest
 * block's orderer metadata names the latest configuration block
 * (`OrdererBlockMetadata.last_config`), whose `Application` group holds one group per
 * organisation with its MSP definition (`FabricMSPConfig.name` is the MSP id), read as the
 * proof verifier reads it (`readChannelConfig`).
 *
 * Source: Fabric protos `common/configtx.proto`, `common/common.proto`, `msp/msp_config.proto`.
 */
export function qsccChannelMembers(network: Network): ChannelMembers {
  const qscc = network.getContract('qscc');
  const channel = network.getName();
  const blockByNumber = async (number: number) =>
    common.Block.deserializeBinary(await qscc.evaluateTransaction('GetBlockByNumber', channel, String(number)));
  return {
    async mspIds(): Promise<string[]> {
      const info = common.BlockchainInfo.deserializeBinary(await qscc.evaluateTransaction('GetChainInfo', channel));
      const newest = await blockByNumber(info.getHeight() - 1);
      const signatures = common.Metadata.deserializeBinary(
        newest.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.SIGNATURES] ?? new Uint8Array(),
      );
      const configNumber =
        common.OrdererBlockMetadata.deserializeBinary(signatures.getValue_asU8()).getLastConfig()?.getIndex() ?? 0;
      return applicationMspIds(await blockByNumber(configNumber));
    },
  };
}

/**
 * MSP ids of the application organisations a configuration block names.
 *
 * @throws Error when the block holds no configuration transaction.
 */
export function applicationMspIds(block: common.Block): string[] {
  const data = block.getData();
  if (data === undefined) throw new Error(`block ${block.getHeader()?.getNumber() ?? '?'} holds no data`);
  return readChannelConfig(data)
    .msps.filter((entry) => entry.kind === 'application')
    .map((entry) => entry.mspId)
    .sort();
}
