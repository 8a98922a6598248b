import { common, ledger, peer } from '@hyperledger/fabric-protos';
import { validationParameterKey } from '../proofs/key-policies.js';
import { endorserTransaction } from './prepared-transaction.js';

const { kvrwset } = ledger.rwset;

/** A `peer.Transaction` (an endorser transaction's payload data) carrying one namespace's read/write set. */
export function transactionWith(namespace: string, build: (set: ledger.rwset.kvrwset.KVRWSet) => void): Uint8Array {
  const kv = new kvrwset.KVRWSet();
  build(kv);
  const ns = new ledger.rwset.NsReadWriteSet();
  ns.setNamespace(namespace);
  ns.setRwset(kv.serializeBinary());
  const results = new ledger.rwset.TxReadWriteSet();
  results.setNsRwsetList([ns]);
  const chaincodeAction = new peer.ChaincodeAction();
  chaincodeAction.setResults(results.serializeBinary());
  return endorserTransaction(chaincodeAction).serializeBinary();
}

/** A write of `key`, or its delete. */
export function write(key: string, isDelete = false): ledger.rwset.kvrwset.KVWrite {
  const entry = new kvrwset.KVWrite();
  entry.setKey(key);
  entry.setIsDelete(isDelete);
  if (!isDelete) entry.setValue(Buffer.from('{}'));
  return entry;
}

/** Sets (or, with empty bytes, clears) `key`'s key-level endorsement policy. */
export function metadataWrite(key: string, policy: Uint8Array): ledger.rwset.kvrwset.KVMetadataWrite {
  const entry = new kvrwset.KVMetadataEntry();
  entry.setName(validationParameterKey);
  entry.setValue(policy);
  const metadata = new kvrwset.KVMetadataWrite();
  metadata.setKey(key);
  metadata.setEntriesList([entry]);
  return metadata;
}

/** A read of `key`, at a version when it existed, at none when it did not. */
export function read(key: string, existed: boolean): ledger.rwset.kvrwset.KVRead {
  const entry = new kvrwset.KVRead();
  entry.setKey(key);
  if (existed) {
    const version = new kvrwset.Version();
    version.setBlockNum(3);
    entry.setVersion(version);
  }
  return entry;
}

/** An unsigned endorser transaction envelope with `payloadData` (see {@link transactionWith}). */
export function endorserEnvelope(transactionId: string, payloadData: Uint8Array): Uint8Array {
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channelHeader.setTxId(transactionId);
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(payloadData);
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  return envelope.serializeBinary();
}

/**
 * A block as a peer delivers it: `envelopes` as its data, `codes` as its transaction
 * filter (every one VALID when left out), and a header with the hashes given (none when
 * left out: nothing that reads it here checks them).
 */
export function committedBlock(
  number: number,
  envelopes: readonly Uint8Array[],
  codes: readonly number[] = envelopes.map(() => peer.TxValidationCode.VALID),
  hashes: { previousHash?: Uint8Array; dataHash?: Uint8Array } = {},
): common.Block {
  const header = new common.BlockHeader();
  header.setNumber(number);
  if (hashes.previousHash !== undefined) header.setPreviousHash(hashes.previousHash);
  if (hashes.dataHash !== undefined) header.setDataHash(hashes.dataHash);
  const data = new common.BlockData();
  data.setDataList([...envelopes]);
  const metadata = new common.BlockMetadata();
  metadata.setMetadataList([new Uint8Array(), new Uint8Array(), Uint8Array.from(codes)]);
  const block = new common.Block();
  block.setHeader(header);
  block.setData(data);
  block.setMetadata(metadata);
  return block;
}
