import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { blockHeaderHash } from './proofs/block-hash.js';
import { endorsedChaincodeAction } from './chaincode-action.js';

/** How a transaction touched one key: read, written, or deleted. */
export type KeyAccessKind = 'read' | 'write' | 'delete';

/**
 * One key a transaction read or wrote. Public keys are given as they are; keys of a
 * private data collection only as the SHA-256 the block carries (`keyHash`), with the
 * value's hash for writes: the block holds nothing more of private data.
 */
export interface KeyAccess {
  readonly namespace: string;
  readonly collection?: string;
  readonly key?: string;
  /** Hex SHA-256 of a private key, as written in the block. */
  readonly keyHash?: string;
  /** Hex SHA-256 of a private value written. */
  readonly valueHash?: string;
  readonly access: KeyAccessKind;
}

/** A public value a transaction wrote, for the consumers that turn records into rows. */
export interface PublicWrite {
  readonly namespace: string;
  readonly key: string;
  readonly value: Uint8Array;
}

/**
 * The chaincode event an endorser transaction set (Fabric allows one per transaction), as
 * the endorsers answered it: fabric-protos `peer.ChaincodeEvent` in the transaction's
 * `peer.ChaincodeAction`.
 */
export interface TransactionEvent {
  /** The chaincode that set it, e.g. `gigledger`. */
  readonly chaincode: string;
  readonly name: string;
  /** The payload as the chaincode set it (this project's chaincode writes JSON). */
  readonly payload: Uint8Array;
}

/** One transaction of a block, as an index or explorer shows it. */
export interface BlockTransaction {
  readonly transactionId: string;
  /** Position in the block, from 0. */
  readonly position: number;
  /**
   * Channel header type, e.g. `ENDORSER_TRANSACTION` or `CONFIG`; `MALFORMED` for an
   * entry whose envelope, payload or channel header does not decode (only an invalid
   * transaction can be one: its id is then empty and nothing else of it is read).
   */
  readonly headerType: string;
  readonly creatorMspId: string;
  readonly validationCode: number;
  /** The name Fabric gives the code, e.g. `VALID`, `MVCC_READ_CONFLICT`. */
  readonly validationName: string;
  /** ISO 8601, from the channel header (the client's proposal time). */
  readonly timestamp: string | undefined;
  readonly chaincode: string | undefined;
  /** The first argument of the invocation, e.g. `agreement:draftAgreement`. */
  readonly function: string | undefined;
  readonly keys: readonly KeyAccess[];
  /** Public writes with their values; present whatever the validation code, so consumers must check it. */
  readonly writes: readonly PublicWrite[];
  /**
   * Public keys whose metadata the transaction wrote (a key-level endorsement policy set
   * or cleared: `KVMetadataWrite`), with or without a write of the value; present whatever
   * the validation code.
   */
  readonly metadataWrites: readonly { readonly namespace: string; readonly key: string }[];
  /** Present whatever the validation code, as `writes` are: consumers must check it. */
  readonly event: TransactionEvent | undefined;
}

/** A block's header fields and transactions (see {@link decodeBlockContents}). */
export interface BlockContents {
  readonly blockNumber: bigint;
  /** Hex SHA-256 of the ASN.1 DER header, the value the next block names as its previous hash. */
  readonly hash: string;
  readonly previousHash: string;
  readonly dataHash: string;
  readonly transactions: readonly BlockTransaction[];
}

const headerTypeNames = new Map<number, string>(Object.entries(common.HeaderType).map(([name, code]) => [code, name]));
const validationNames = new Map<number, string>(
  Object.entries(peer.TxValidationCode).map(([name, code]) => [code, name]),
);

/** Every name of Fabric's `TxValidationCode`, e.g. `VALID`, `MVCC_READ_CONFLICT`. */
export const validationCodeNames: readonly string[] = Object.keys(peer.TxValidationCode);

/** Fabric's name of a transaction validation code, e.g. 11 → `MVCC_READ_CONFLICT`. */
export function validationCodeName(code: number): string {
  return validationNames.get(code) ?? `UNKNOWN_${String(code)}`;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** What the channel header's google.protobuf.Timestamp offers (google-protobuf ships no types). */
interface ProtobufTimestamp {
  getSeconds(): number;
  getNanos(): number;
}

function timestampOf(header: common.ChannelHeader): string | undefined {
  const timestamp = header.getTimestamp() as unknown as ProtobufTimestamp | undefined;
  if (timestamp === undefined) return undefined;
  const at = new Date(timestamp.getSeconds() * 1000 + Math.floor(timestamp.getNanos() / 1e6));
  // A client may put any time in a transaction the peers then refuse; past year 275760 there is none to print.
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** What `read` gives, or `fallback` for parts of a transaction that do not decode (see decodeBlockContents). */
function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function creatorOf(payload: common.Payload): string {
  const signatureHeader = common.SignatureHeader.deserializeBinary(
    payload.getHeader()?.getSignatureHeader_asU8() ?? new Uint8Array(),
  );
  const creator = signatureHeader.getCreator_asU8();
  return creator.length === 0 ? '' : msp.SerializedIdentity.deserializeBinary(creator).getMspid();
}

interface Invocation {
  chaincode: string | undefined;
  function: string | undefined;
  keys: KeyAccess[];
  writes: PublicWrite[];
  metadataWrites: { namespace: string; key: string }[];
  event: TransactionEvent | undefined;
}

const noInvocation: Invocation = {
  chaincode: undefined,
  function: undefined,
  keys: [],
  writes: [],
  metadataWrites: [],
  event: undefined,
};

function eventOf(chaincodeAction: peer.ChaincodeAction): TransactionEvent | undefined {
  const bytes = chaincodeAction.getEvents_asU8();
  if (bytes.length === 0) return undefined;
  const event = peer.ChaincodeEvent.deserializeBinary(bytes);
  return { chaincode: event.getChaincodeId(), name: event.getEventName(), payload: event.getPayload_asU8() };
}

/** The chaincode, function and read/write set of an endorser transaction. */
function invocationOf(payload: common.Payload): Invocation {
  const [action] = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList();
  if (action === undefined) return noInvocation;
  const actionPayload = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
  const spec = peer.ChaincodeInvocationSpec.deserializeBinary(
    peer.ChaincodeProposalPayload.deserializeBinary(actionPayload.getChaincodeProposalPayload_asU8()).getInput_asU8(),
  ).getChaincodeSpec();
  const [name] = spec?.getInput()?.getArgsList_asU8() ?? [];
  const chaincodeAction = endorsedChaincodeAction(actionPayload);
  const keys: KeyAccess[] = [];
  const writes: PublicWrite[] = [];
  const metadataWrites: { namespace: string; key: string }[] = [];
  const readWriteSet = ledger.rwset.TxReadWriteSet.deserializeBinary(chaincodeAction.getResults_asU8());
  for (const namespaceSet of readWriteSet.getNsRwsetList()) {
    const namespace = namespaceSet.getNamespace();
    const kv = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(namespaceSet.getRwset_asU8());
    for (const read of kv.getReadsList()) keys.push({ namespace, key: read.getKey(), access: 'read' });
    for (const range of kv.getRangeQueriesInfoList()) {
      for (const read of range.getRawReads()?.getKvReadsList() ?? []) {
        keys.push({ namespace, key: read.getKey(), access: 'read' });
      }
    }
    for (const write of kv.getWritesList()) {
      keys.push({ namespace, key: write.getKey(), access: write.getIsDelete() ? 'delete' : 'write' });
      if (!write.getIsDelete()) writes.push({ namespace, key: write.getKey(), value: write.getValue_asU8() });
    }
    for (const metadata of kv.getMetadataWritesList()) metadataWrites.push({ namespace, key: metadata.getKey() });
    for (const collectionSet of namespaceSet.getCollectionHashedRwsetList()) {
      const collection = collectionSet.getCollectionName();
      const hashed = ledger.rwset.kvrwset.HashedRWSet.deserializeBinary(collectionSet.getHashedRwset_asU8());
      for (const read of hashed.getHashedReadsList()) {
        keys.push({ namespace, collection, keyHash: hex(read.getKeyHash_asU8()), access: 'read' });
      }
      for (const write of hashed.getHashedWritesList()) {
        keys.push({
          namespace,
          collection,
          keyHash: hex(write.getKeyHash_asU8()),
          ...(write.getIsDelete() ? {} : { valueHash: hex(write.getValueHash_asU8()) }),
          access: write.getIsDelete() ? 'delete' : 'write',
        });
      }
    }
  }
  return {
    chaincode: spec?.getChaincodeId()?.getName() || undefined,
    function: name === undefined ? undefined : Buffer.from(name).toString('utf8'),
    keys,
    writes,
    metadataWrites,
    event: eventOf(chaincodeAction),
  };
}

/**
 * Everything an index keeps of a committed block: its header and hash, and for each
 * transaction its id, type, creator, validation code, time, invocation and the keys it
 * touched. Private data appears only as the hashes the block holds.
 *
 * A transaction whose envelope, payload or channel header does not decode is kept as
 * `MALFORMED` with its position and validation code; one whose creator or invocation does
 * not decode, with what did. Only an invalid transaction can be either: the peers refuse
 * what they cannot read.
 *
 * @throws Error when the block has no header.
 */
export function decodeBlockContents(block: common.Block): BlockContents {
  const header = block.getHeader();
  if (header === undefined) throw new Error('a block without a header');
  const validationCodes =
    block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array();
  const transactions = (block.getData()?.getDataList_asU8() ?? []).map((envelopeBytes, position) => {
    // 254 (NOT_VALIDATED) for a block whose filter is shorter than its data, as Fabric marks it.
    const validationCode = validationCodes[position] ?? 254;
    const validation = { position, validationCode, validationName: validationCodeName(validationCode) };
    // Any client of the channel can get malformed bytes ordered; the peers mark them
    // invalid, and a reader of the block must go past them rather than stop there for good.
    let payload: common.Payload;
    let channelHeader: common.ChannelHeader;
    try {
      payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelopeBytes).getPayload_asU8());
      channelHeader = common.ChannelHeader.deserializeBinary(
        payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
      );
    } catch {
      return {
        transactionId: '',
        headerType: 'MALFORMED',
        creatorMspId: '',
        timestamp: undefined,
        ...validation,
        ...noInvocation,
      };
    }
    const type = channelHeader.getType();
    return {
      transactionId: channelHeader.getTxId(),
      headerType: headerTypeNames.get(type) ?? `UNKNOWN_${String(type)}`,
      creatorMspId: readOr(() => creatorOf(payload), ''),
      timestamp: timestampOf(channelHeader),
      ...validation,
      ...(type === common.HeaderType.ENDORSER_TRANSACTION
        ? readOr(() => invocationOf(payload), noInvocation)
        : noInvocation),
    };
  });
  return {
    blockNumber: BigInt(header.getNumber()),
    hash: blockHeaderHash({
      number: BigInt(header.getNumber()),
      previousHash: header.getPreviousHash_asU8(),
      dataHash: header.getDataHash_asU8(),
    }).toString('hex'),
    previousHash: hex(header.getPreviousHash_asU8()),
    dataHash: hex(header.getDataHash_asU8()),
    transactions,
  };
}
