import { common } from '@hyperledger/fabric-protos';
import {
  decodeBlockContents,
  type BlockTransaction,
  type LocatedTransaction,
  type ProofBundle,
} from '@gigledger/gateway';

/**
 * The bundle's transaction as the block explorer shows it: creator, time, function and
 * the keys and public values it wrote, decoded from its envelope (nothing is verified:
 * `verifyProof` does that).
 *
 * @throws Error when the bundle's header or envelope cannot be decoded.
 */
export function bundleTransaction(bundle: ProofBundle): BlockTransaction {
  const block = new common.Block();
  block.setHeader(common.BlockHeader.deserializeBinary(Buffer.from(bundle.block.header, 'base64')));
  const data = new common.BlockData();
  data.setDataList([Buffer.from(bundle.transaction.envelope, 'base64')]);
  block.setData(data);
  const [transaction] = decodeBlockContents(block).transactions;
  if (transaction === undefined) throw new Error(`the bundle of ${bundle.transactionId} holds no transaction`);
  return transaction;
}

/**
 * The bundle's block (creator and time of every transaction) and its transaction, as
 * `ProofExporter.locate` finds them on the peer, decoded from the block data the bundle
 * carries whole (Fabric's block data hash is one SHA-256 over all the block's envelopes).
 *
 * @throws Error when the bundle's header or block data cannot be decoded.
 */
export function bundleLocation(bundle: ProofBundle): LocatedTransaction {
  const block = new common.Block();
  block.setHeader(common.BlockHeader.deserializeBinary(Buffer.from(bundle.block.header, 'base64')));
  block.setData(common.BlockData.deserializeBinary(Buffer.from(bundle.block.data, 'base64')));
  const contents = decodeBlockContents(block);
  const transaction = contents.transactions[bundle.transaction.index];
  if (transaction === undefined) throw new Error(`the bundle of ${bundle.transactionId} holds no transaction`);
  return { block: contents, transaction };
}
