import type { Network } from '@hyperledger/fabric-gateway';
import { common, peer } from '@hyperledger/fabric-protos';
import { endorserPayloadData, keyPolicyEvent, writtenKeys } from './key-policies.js';
import {
  definitionFieldKey,
  definitionWrites,
  lifecycleNamespace,
  readVersion,
  type LedgerVersion,
} from './lifecycle.js';
import { decodeBlockContents, type BlockContents, type BlockTransaction } from '../block-contents.js';
import { chaincodeActionOf } from '../chaincode-action.js';
import { blockHeaderHash } from './block-hash.js';
import { proofFormat, proofVersion, type ProofBundle } from './proof-bundle.js';
import { verifyProof } from './verify-proof.js';

/** The peer knows no committed transaction with this id. */
export class TransactionNotFoundError extends Error {
  constructor(
    readonly transactionId: string,
    options?: ErrorOptions,
  ) {
    super(`no committed transaction ${transactionId} on the channel`, options);
    this.name = 'TransactionNotFoundError';
  }
}

/**
 * The transaction is on the channel but no proof of this chaincode can be made of it: it
 * is no endorser transaction (a configuration update), or it read no committed
 * definition of the chaincode (a `_lifecycle` or other chaincode's transaction).
 */
export class UnprovableTransactionError extends Error {
  constructor(
    readonly transactionId: string,
    readonly reason: string,
  ) {
    super(`transaction ${transactionId} cannot be proven: ${reason}`);
    this.name = 'UnprovableTransactionError';
  }
}

/** A committed transaction found on the channel: its block as the explorer shows it, and where in it. */
export interface LocatedTransaction {
  readonly block: BlockContents;
  /** The transaction, `block.transactions[position]`. */
  readonly transaction: BlockTransaction;
}

/** Exports proof bundles for committed transactions of one chaincode. */
export interface ProofExporter {
  /**
   * Finds a committed transaction and decodes its block (every transaction's creator,
   * time and writes): one query to the peer, where a bundle reads several more blocks,
   * so that who may have the bundle can be judged before it is built.
   *
   * @throws TransactionNotFoundError when the peer knows no such transaction.
   * @throws Error when the peer cannot be reached or answers something unexpected.
   */
  locate(transactionId: string): Promise<LocatedTransaction>;
  /**
   * Builds the proof bundle of a committed transaction from the peer's ledger, anchored
   * on the channel's newest block.
   *
   * @throws TransactionNotFoundError when the peer knows no such transaction.
   * @throws UnprovableTransactionError when it is no endorser transaction of the chaincode.
   * @throws Error when the peer cannot be reached or answers something unexpected.
   */
  exportProof(transactionId: string): Promise<ProofBundle>;
}

/** Blocks read at once while collecting the header chain. */
const headerBatch = 8;

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

function validationCodeName(code: number): string {
  return Object.entries(peer.TxValidationCode).find(([, value]) => value === code)?.[0] ?? `CODE_${code}`;
}

type KeyPolicyEntry = NonNullable<ProofBundle['keyPolicies']>[number];
type DefinitionEntry = ProofBundle['chaincode']['definition'][number];

/** Reads blocks by number through qscc, each at most once per export. */
type BlockReader = (number: number) => Promise<common.Block>;

function transactionIdOf(envelope: Uint8Array): string {
  const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelope).getPayload_asU8());
  return common.ChannelHeader.deserializeBinary(
    payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
  ).getTxId();
}

function isValidAt(block: common.Block, position: number): boolean {
  const flags = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER];
  return flags?.[position] === peer.TxValidationCode.VALID;
}

/** The endorser payload data of the transaction at a ledger version, or undefined when there is none. */
async function transactionAt(
  version: LedgerVersion,
  blockByNumber: BlockReader,
): Promise<{ block: common.Block; envelope: Uint8Array; data: Uint8Array } | undefined> {
  const block = await blockByNumber(version.block);
  const envelope = block.getData()?.getDataList_asU8()[version.index];
  const data = envelope === undefined ? undefined : endorserPayloadData(envelope);
  return envelope === undefined || data === undefined ? undefined : { block, envelope, data };
}

/**
 * The key-level policy setters of `keys`, found by walking the ledger backwards from a
 * position: for each key, the nearest earlier VALID transaction whose write set sets its
 * `VALIDATION_PARAMETER` (an entry), clears it, deletes the key or creates it from an
 * absent read (no policy: no entry). A key never touched so is searched down to block 0;
 * {@link keyPolicySetters} comes here only for keys written without being read. With a
 * chain index, only the blocks of its span where it saw the key written, deleted or given
 * metadata are read, and every block outside its span: a transaction that set, cleared,
 * deleted or created the key wrote it or its metadata, so no other block can hold one.
 */
export async function scanForKeyPolicies(
  keys: readonly string[],
  from: LedgerVersion,
  namespace: string,
  blockByNumber: BlockReader,
  chainIndex: ChainIndex | undefined,
): Promise<KeyPolicyEntry[]> {
  const pending = new Set(keys);
  const found: KeyPolicyEntry[] = [];
  const visit = (each: common.Block, before: number) => {
    const number = each.getHeader()?.getNumber() ?? 0;
    const entries = each.getData()?.getDataList_asU8() ?? [];
    for (let position = Math.min(before, entries.length) - 1; position >= 0 && pending.size > 0; position -= 1) {
      const envelope = entries[position];
      if (envelope === undefined || !isValidAt(each, position)) continue;
      const data = endorserPayloadData(envelope);
      if (data === undefined) continue;
      for (const key of [...pending]) {
        const event = keyPolicyEvent(data, namespace, key);
        if (event === undefined) continue;
        pending.delete(key);
        if (event.kind === 'set')
          found.push({
            namespace,
            key,
            setBy: {
              transactionId: transactionIdOf(envelope),
              block: number,
              index: position,
              envelope: base64(envelope),
            },
          });
      }
    }
  };
  visit(await blockByNumber(from.block), from.index);
  const histories =
    chainIndex === undefined
      ? undefined
      : await Promise.all(keys.map((key) => chainIndex.keyHistory(namespace, key, from.block)));
  const mayHold = (number: number) =>
    histories?.some(
      (history) => number < history.coveredFrom || number >= history.coveredTo || history.blocks.has(number),
    ) ?? true;
  const below: number[] = [];
  for (let number = from.block - 1; number >= 0; number -= 1) if (mayHold(number)) below.push(number);
  for (let start = 0; start < below.length && pending.size > 0; start += headerBatch) {
    const blocks = await Promise.all(below.slice(start, start + headerBatch).map(blockByNumber));
    for (const each of blocks) if (pending.size > 0) visit(each, Number.MAX_SAFE_INTEGER);
  }
  return found;
}

/**
 * The transactions that set the key-level policies in force for the keys a transaction
 * wrote. Each key is followed along its own history: the transaction read it at the
 * version (block, position) of its last writer, which Fabric's MVCC check held current
 * when the transaction committed VALID; a writer that set, cleared or created the key's
 * policy ends the walk, one that only wrote the value kept the metadata and read the key
 * in turn. So the walk reads one block per earlier write of the key, however high the
 * ledger; only a key written without being read falls back to scanning the blocks down
 * from its writer (every one, or with a chain index those that may hold a change of it:
 * see {@link scanForKeyPolicies}).
 */
async function keyPolicySetters(
  position: LedgerVersion,
  namespace: string,
  payloadData: Uint8Array,
  blockByNumber: BlockReader,
  chainIndex: ChainIndex | undefined,
): Promise<KeyPolicyEntry[]> {
  const found: KeyPolicyEntry[] = [];
  const unread: { key: string; from: LedgerVersion }[] = [];
  for (const key of writtenKeys(payloadData, namespace).keys) {
    let version = readVersion(payloadData, namespace, key);
    let from = position;
    while (version !== undefined && version !== null) {
      const writer = await transactionAt(version, blockByNumber);
      if (writer === undefined)
        throw new Error(
          `no endorser transaction at block ${version.block} position ${version.index}, which last wrote key ${JSON.stringify(key)}`,
        );
      const event = keyPolicyEvent(writer.data, namespace, key);
      if (event?.kind === 'set')
        found.push({
          namespace,
          key,
          setBy: {
            transactionId: transactionIdOf(writer.envelope),
            block: version.block,
            index: version.index,
            envelope: base64(writer.envelope),
          },
        });
      if (event !== undefined) break;
      from = version;
      version = readVersion(writer.data, namespace, key);
    }
    if (version === undefined) unread.push({ key, from });
  }
  for (const { key, from } of unread)
    found.push(...(await scanForKeyPolicies([key], from, namespace, blockByNumber, chainIndex)));
  return found.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * The `_lifecycle` transactions that committed the chaincode definition a transaction was
 * validated under, newest first. The transaction read the definition's sequence key, at
 * the version of the CommitChaincodeDefinition that wrote it; when that commit kept the
 * validation parameter of the previous sequence (it writes only the fields that changed),
 * its own read of the sequence leads to the previous commit, until one wrote it.
 *
 * @throws UnprovableTransactionError when the transaction read no committed definition of the chaincode.
 */
async function definitionCommits(
  transactionId: string,
  payloadData: Uint8Array,
  chaincodeName: string,
  blockByNumber: BlockReader,
): Promise<{ entries: DefinitionEntry[]; sequence: number }> {
  const sequenceKey = definitionFieldKey(chaincodeName, 'Sequence');
  let version = readVersion(payloadData, lifecycleNamespace, sequenceKey);
  const entries: DefinitionEntry[] = [];
  let sequence: number | undefined;
  while (version !== undefined && version !== null) {
    const commit = await transactionAt(version, blockByNumber);
    if (commit === undefined) break;
    entries.push({
      transactionId: transactionIdOf(commit.envelope),
      block: version.block,
      index: version.index,
      data: base64(commit.block.getData()?.serializeBinary() ?? new Uint8Array()),
    });
    const writes = definitionWrites(commit.data, chaincodeName);
    sequence ??= writes.sequence;
    if (writes.policy !== undefined && sequence !== undefined) return { entries, sequence };
    version = readVersion(commit.data, lifecycleNamespace, sequenceKey);
  }
  throw new UnprovableTransactionError(
    transactionId,
    `it read no committed definition of chaincode ${chaincodeName} from ${lifecycleNamespace} that leads to an endorsement policy`,
  );
}

/** The chaincode id version the first action of an endorser transaction names (its definition's version). */
function chaincodeVersion(payloadData: Uint8Array): string {
  const action = peer.Transaction.deserializeBinary(payloadData).getActionsList()[0];
  return chaincodeActionOf(action).getChaincodeId()?.getVersion() ?? '';
}

/**
 * What a caller already knows of the chain (an index of its blocks), so that an export
 * reads from the peer only the blocks it must. What it gives is checked or only narrows
 * where to look, never trusted: see {@link headerChain} and {@link scanForKeyPolicies}.
 */
export interface ChainIndex {
  /** The headers it holds of blocks `from` to `to` (both included), by block number; any may be missing. */
  headersBetween(
    from: number,
    to: number,
  ): Promise<ReadonlyMap<number, { readonly previousHash: Uint8Array; readonly dataHash: Uint8Array }>>;
  /** Where, below block `below`, transactions changed `key` of `namespace` or its metadata. */
  keyHistory(namespace: string, key: string, below: number): Promise<KeyHistory>;
}

/**
 * The blocks of an index's span holding a transaction (valid or not) that wrote or
 * deleted a key, or wrote its metadata (a key-level endorsement policy): the only blocks
 * of that span where the key's policy can have been set, cleared or created.
 */
export interface KeyHistory {
  readonly blocks: ReadonlySet<number>;
  /** The span: blocks from `coveredFrom` up to, not including, `coveredTo`. Blocks outside it are read from the peer. */
  readonly coveredFrom: number;
  readonly coveredTo: number;
}

/**
 * The serialised headers of blocks `from` to `signed`'s number, in order, as the bundle's
 * `headers` carry them. They are linked backwards from the signed block, which was read
 * from the peer: a header is taken from `known` only when its hash is the previous hash
 * of the header after it, so each one is the ledger's; any other is read from its block
 * (eight blocks at a time, their data forgotten through `forget`). Without `known`, every
 * block of the range is read, as a proof always did; with an index of the chain, none but
 * those it has not reached yet.
 *
 * @throws Error when a block the peer gives does not chain to the one after it.
 */
export async function headerChain(
  from: number,
  signed: common.Block,
  known: Pick<ChainIndex, 'headersBetween'> | undefined,
  blockByNumber: (number: number) => Promise<common.Block>,
  forget: (number: number) => void = () => undefined,
): Promise<string[]> {
  const signedHeader = signed.getHeader();
  if (signedHeader === undefined) throw new Error('the signed block has no header');
  const to = signedHeader.getNumber();
  const held: ReadonlyMap<number, { readonly previousHash: Uint8Array; readonly dataHash: Uint8Array }> =
    to > from && known !== undefined ? await known.headersBetween(from, to - 1) : new Map();
  const fromPeer = new Map<number, common.BlockHeader>();
  const readFromPeer = async (numbers: readonly number[]) => {
    // A few blocks at a time: one query per block, without flooding the peer on a long chain.
    for (let start = 0; start < numbers.length; start += headerBatch) {
      const batch = numbers.slice(start, start + headerBatch);
      const blocks = await Promise.all(batch.map(blockByNumber));
      blocks.forEach((each, at) => {
        const number = batch[at] ?? 0;
        const header = each.getHeader();
        if (header === undefined) throw new Error(`block ${String(number)} has no header`);
        fromPeer.set(number, header);
      });
      // Headers are all that is kept of the blocks between the parts.
      for (const number of batch) forget(number);
    }
  };
  const hashOf = (header: common.BlockHeader) =>
    blockHeaderHash({
      number: BigInt(header.getNumber()),
      previousHash: header.getPreviousHash_asU8(),
      dataHash: header.getDataHash_asU8(),
    });
  await readFromPeer(Array.from({ length: Math.max(0, to - from) }, (_, at) => from + at).filter((n) => !held.has(n)));
  // Newest first while linking; reversed at the end.
  const chain: common.BlockHeader[] = [signedHeader];
  for (let number = to - 1; number >= from; number -= 1) {
    const expected = Buffer.from(chain.at(-1)?.getPreviousHash_asU8() ?? new Uint8Array());
    const fields = held.get(number);
    let header: common.BlockHeader | undefined;
    if (fields !== undefined) {
      header = new common.BlockHeader();
      header.setNumber(number);
      header.setPreviousHash(fields.previousHash);
      header.setDataHash(fields.dataHash);
      if (!hashOf(header).equals(expected)) header = undefined;
    }
    if (header === undefined) {
      if (!fromPeer.has(number)) await readFromPeer([number]);
      header = fromPeer.get(number);
      if (header === undefined || !hashOf(header).equals(expected))
        throw new Error(`block ${String(number)} as the peer gives it does not chain to block ${String(number + 1)}`);
    }
    chain.push(header);
  }
  return chain.reverse().map((header) => base64(header.serializeBinary()));
}

/** The SIGNATURES metadata of a block, as the orderers wrote it. */
function signaturesOf(block: common.Block): Uint8Array {
  return block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.SIGNATURES] ?? new Uint8Array();
}

/**
 * The bundle's `headers` and `anchors` when every part is proven by its own block: the
 * header of each block in `numbers` (the parts' blocks and the signed block), and the
 * orderer signatures of each that ends a run of consecutive numbers, but for the
 * transaction's and the signed block, whose signatures the bundle carries elsewhere. A
 * block the orderers did not sign (the genesis block, which `configtxgen` writes) is
 * proven by the next one instead: its run goes on to that block. Their size depends on
 * how many parts there are, not on the ledger's height.
 */
export async function partHeaders(
  numbers: readonly number[],
  transactionBlock: number,
  signedBlock: number,
  blockByNumber: (number: number) => Promise<common.Block>,
): Promise<Pick<ProofBundle, 'headers' | 'anchors'>> {
  const included = new Set(numbers);
  const unsigned = async (number: number) =>
    common.Metadata.deserializeBinary(signaturesOf(await blockByNumber(number))).getSignaturesList().length === 0;
  // Ascending, so that a run grown by one block is looked at again at its new end.
  for (let number = Math.min(...included); number < signedBlock; number += 1)
    if (included.has(number) && !included.has(number + 1) && (await unsigned(number))) included.add(number + 1);
  const ascending = [...included].sort((a, b) => a - b);
  const blocks = await Promise.all(ascending.map(blockByNumber));
  const headers = blocks.map((block, at) => {
    const header = block.getHeader();
    if (header === undefined) throw new Error(`block ${String(ascending[at])} has no header`);
    return base64(header.serializeBinary());
  });
  const anchors = ascending.flatMap((number, at) => {
    const endsRun = ascending[at + 1] !== number + 1;
    const block = blocks[at];
    return endsRun && number !== transactionBlock && number !== signedBlock && block !== undefined
      ? [{ number, signatures: base64(signaturesOf(block)) }]
      : [];
  });
  return anchors.length === 0 ? { headers } : { headers, anchors };
}

/**
 * Whether a verifier refuses the bundle for the orderer signatures of one of its anchors
 * (a block signed by an orderer that the latest configuration no longer accepts, or with a
 * certificate expired before the transaction). Verifies only a bundle that has anchors.
 */
export function anchorRefused(bundle: ProofBundle): boolean {
  if (bundle.anchors === undefined) return false;
  const failure = verifyProof(bundle).failures[0];
  if (failure === undefined || !['ORDERER_SIGNATURE', 'ORDERER_POLICY', 'CERTIFICATE'].includes(failure.code))
    return false;
  const refusedBlock = /block (\d+)$/.exec(failure.where)?.[1];
  return bundle.anchors.some((anchor) => String(anchor.number) === refusedBlock);
}

/**
 * Reads everything a proof needs through qscc (GetBlockByTxID, GetBlockByNumber,
 * GetChainInfo), evaluated on a peer with the caller's identity: the transaction's block,
 * the `_lifecycle` transactions that committed the chaincode definition it was validated
 * under (see {@link definitionCommits}), the transactions that set the key-level policies
 * of the keys it wrote (see {@link keyPolicySetters}), the latest configuration block (the
 * one the newest block's orderer metadata names, `OrdererBlockMetadata.last_config`) and
 * the one in force at the transaction's block when that is another, and the newest block.
 * Each of those blocks is proven by its own header and orderer signatures (see
 * {@link partHeaders}), so a bundle's size does not grow with the ledger. When the
 * latest configuration does not accept the orderer signatures of an anchor (an orderer
 * removed, or its certificate expired before the transaction), the bundle carries instead the header chain
 * from the lowest of those blocks to the newest block, as version 2 did: its headers
 * from `chainIndex` where they chain to the newest block, every other one from its block
 * (see {@link headerChain}). The index also narrows the search for a key-level policy of a key
 * written without being read (see {@link scanForKeyPolicies}).
 */
export function qsccProofExporter(network: Network, chaincodeName: string, chainIndex?: ChainIndex): ProofExporter {
  const qscc = network.getContract('qscc');
  const channel = network.getName();

  const blockOf = async (transactionId: string): Promise<common.Block> => {
    try {
      return common.Block.deserializeBinary(await qscc.evaluateTransaction('GetBlockByTxID', channel, transactionId));
    } catch (error) {
      // qscc answers an unknown id with an endorsement error naming the missing transaction.
      const details = JSON.stringify(error, Object.getOwnPropertyNames(error));
      if (/no such transaction|not found|does not exist/i.test(details))
        throw new TransactionNotFoundError(transactionId, { cause: error });
      throw error;
    }
  };

  return {
    async locate(transactionId) {
      const block = decodeBlockContents(await blockOf(transactionId));
      const transaction = block.transactions.find((each) => each.transactionId === transactionId);
      if (transaction === undefined) throw new TransactionNotFoundError(transactionId);
      return { block, transaction };
    },

    async exportProof(transactionId) {
      // One export reads a block once, however many parts of the bundle come from it.
      const read = new Map<number, Promise<common.Block>>();
      const blockByNumber: BlockReader = (number) => {
        let block = read.get(number);
        if (block === undefined) {
          block = qscc
            .evaluateTransaction('GetBlockByNumber', channel, String(number))
            .then((bytes) => common.Block.deserializeBinary(bytes));
          read.set(number, block);
        }
        return block;
      };
      const block = await blockOf(transactionId);
      const header = block.getHeader();
      const data = block.getData();
      if (header === undefined || data === undefined)
        throw new Error(`the block of ${transactionId} has no header or data`);
      read.set(header.getNumber(), Promise.resolve(block));
      const entries = data.getDataList_asU8();
      const index = entries.findIndex((entry) => transactionIdOf(entry) === transactionId);
      const envelope = entries[index];
      if (envelope === undefined) throw new TransactionNotFoundError(transactionId);
      const flags = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER];
      const flag = flags?.[index];
      if (flag === undefined)
        throw new Error(`block ${header.getNumber()} has no validation flag for ${transactionId}`);

      const payloadData = endorserPayloadData(envelope);
      if (payloadData === undefined)
        throw new UnprovableTransactionError(transactionId, 'it is not an endorser transaction');
      const position = { block: header.getNumber(), index };
      const keyPolicies = await keyPolicySetters(position, chaincodeName, payloadData, blockByNumber, chainIndex);
      const definition = await definitionCommits(transactionId, payloadData, chaincodeName, blockByNumber);

      const info = common.BlockchainInfo.deserializeBinary(await qscc.evaluateTransaction('GetChainInfo', channel));
      const signedNumber = info.getHeight() - 1;
      const signed = await blockByNumber(signedNumber);
      const signatures = common.Metadata.deserializeBinary(signaturesOf(signed));
      const configNumber =
        common.OrdererBlockMetadata.deserializeBinary(signatures.getValue_asU8()).getLastConfig()?.getIndex() ?? 0;
      const configBlock = await blockByNumber(configNumber);
      const inForce =
        common.OrdererBlockMetadata.deserializeBinary(
          common.Metadata.deserializeBinary(signaturesOf(block)).getValue_asU8(),
        )
          .getLastConfig()
          ?.getIndex() ?? 0;
      const transactionConfig = inForce === configNumber ? undefined : await blockByNumber(inForce);

      const parts = [header.getNumber(), configNumber, inForce, ...definition.entries.map((entry) => entry.block)];
      const bundle: ProofBundle = {
        format: proofFormat,
        version: proofVersion,
        channel,
        transactionId,
        exportedAt: new Date().toISOString(),
        transaction: { index, envelope: base64(envelope) },
        block: {
          number: header.getNumber(),
          header: base64(header.serializeBinary()),
          data: base64(data.serializeBinary()),
          signatures: base64(signaturesOf(block)),
          validationCode: validationCodeName(flag),
        },
        ...(await partHeaders([...parts, signedNumber], header.getNumber(), signedNumber, blockByNumber)),
        signedBlock: { number: signedNumber, signatures: base64(signaturesOf(signed)) },
        config: {
          blockNumber: configNumber,
          data: base64(configBlock.getData()?.serializeBinary() ?? new Uint8Array()),
        },
        ...(transactionConfig === undefined
          ? {}
          : {
              transactionConfig: {
                blockNumber: inForce,
                data: base64(transactionConfig.getData()?.serializeBinary() ?? new Uint8Array()),
              },
            }),
        chaincode: {
          name: chaincodeName,
          version: chaincodeVersion(payloadData),
          sequence: definition.sequence,
          definition: definition.entries,
        },
        keyPolicies,
      };
      if (!anchorRefused(bundle)) return bundle;
      const { anchors: _refused, ...withoutAnchors } = bundle;
      const from = Math.min(...parts);
      return {
        ...withoutAnchors,
        headers: await headerChain(from, signed, chainIndex, blockByNumber, (number) => read.delete(number)),
      };
    },
  };
}
