import type { Network } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';

/**
 * Where committed transactions sit in the channel's chain of blocks, as the peer this
 * server talks to knows it. W3C credential exports cite the block of their issuance and
 * reputation statements the height they were computed at.
 */
export interface LedgerBlocks {
  /**
   * The number of the block holding a committed transaction.
   *
   * @throws Error when the peer knows no such transaction or cannot be reached.
   */
  blockNumberOf(transactionId: string): Promise<bigint>;
  /**
   * The channel's height: one more than the newest block's number.
   *
   * @throws Error when the peer cannot be reached.
   */
  height(): Promise<bigint>;
}

/**
 * Reads blocks through the query system chaincode (`qscc`), evaluated on a peer by the
 * Gateway service. Any member identity may call it: `qscc` answers channel readers. The
 * block is looked up on every call rather than stored, so the answer is the ledger's,
 * whichever server issued the credential.
 */
export function qsccLedgerBlocks(network: Network): LedgerBlocks {
  const qscc = network.getContract('qscc');
  const channel = network.getName();
  return {
    async blockNumberOf(transactionId: string): Promise<bigint> {
      const block = common.Block.deserializeBinary(
        await qscc.evaluateTransaction('GetBlockByTxID', channel, transactionId),
      );
      const header = block.getHeader();
      if (header === undefined) throw new Error(`the block holding transaction ${transactionId} has no header`);
      return BigInt(header.getNumber());
    },
    async height(): Promise<bigint> {
      const info = common.BlockchainInfo.deserializeBinary(await qscc.evaluateTransaction('GetChainInfo', channel));
      return BigInt(info.getHeight());
    },
  };
}
