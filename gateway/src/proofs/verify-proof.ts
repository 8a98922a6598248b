import { createHash, verify as verifySignature, type X509Certificate } from 'node:crypto';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import { hasHighS } from '../identity.js';
import { blockDataHash, blockHeaderBytes, blockHeaderHash, type HeaderFields } from './block-hash.js';
import { readChannelConfig, type ChannelConfig } from './channel-config.js';
import { checkIdentity, type CheckedIdentity, type SigningTime } from './identities.js';
import { keyPolicyEvent, writtenKeys, type WrittenKeys } from './key-policies.js';
import { definitionFieldKey, definitionWrites, lifecycleNamespace, readVersion } from './lifecycle.js';
import { evaluateConfigPolicy, evaluateSignaturePolicy, type PolicyOutcome } from './policy.js';
import { proofBundleSchema, proofFormat, type ProofBundle } from './proof-bundle.js';
import { recordKey, recordValueProblem, writtenValue } from './record-keys.js';

/** Why a proof does not hold: a stable code, where in the bundle, and a sentence. */
export interface ProofFailure {
  readonly code:
    | 'BUNDLE_FORMAT'
    | 'ENCODING'
    | 'HEADER_CHAIN'
    | 'DATA_HASH'
    | 'TRANSACTION_NOT_IN_BLOCK'
    | 'TRANSACTION_ID'
    | 'NOT_VALID'
    | 'CONFIG'
    | 'CERTIFICATE'
    | 'ORDERER_SIGNATURE'
    | 'ORDERER_POLICY'
    | 'CLIENT_SIGNATURE'
    | 'ENDORSEMENT_SIGNATURE'
    | 'ENDORSEMENT_POLICY'
    | 'KEY_POLICY'
    | 'CHAINCODE_DEFINITION'
    | 'RECORD_KEY';
  /** Where, in words a reader can find in the bundle, e.g. `block 12 header`. */
  readonly where: string;
  readonly message: string;
}

/** What a verified (or refused) proof says. */
export interface ProofVerdict {
  readonly valid: boolean;
  readonly failures: readonly ProofFailure[];
  readonly transaction?: {
    readonly id: string;
    readonly channel: string;
    readonly block: number;
    readonly index: number;
    readonly timestamp: string;
    readonly creatorMspId: string;
    readonly chaincode: string;
    readonly endorsers: readonly string[];
  };
  /** The newest block when exported, whose signed metadata names the latest configuration, and who signed it. */
  readonly signedBlock?: { readonly number: number; readonly signers: readonly string[] };
  /** The other blocks the bundle proves by their own orderer signatures (`anchors`), and who signed each. */
  readonly anchoredBlocks?: readonly { readonly number: number; readonly signers: readonly string[] }[];
  readonly endorsementPolicy?: string;
  /**
   * The chaincode definition the transaction was validated under, and the `_lifecycle`
   * transaction that committed it (block and position), from which its policy was read.
   */
  readonly chaincodeDefinition?: {
    readonly name: string;
    readonly version: string;
    readonly sequence: number;
    readonly committedBy: string;
    readonly policySetBy: string;
  };
  readonly ordererPolicy?: string;
  /** For the proof of a record: the record, and the key the transaction wrote it under. */
  readonly record?: { readonly kind: string; readonly id: string; readonly namespace: string; readonly key: string };
  /**
   * SHA-256 fingerprints of the root CA certificates of each MSP in the configuration (and
   * in the one in force at the transaction's block, for an organisation removed since):
   * the trust anchors a third party compares with those it knows out of band.
   */
  readonly trustAnchors?: readonly { readonly mspId: string; readonly rootFingerprints: readonly string[] }[];
  /** What this proof cannot show, so that nobody reads more into it. */
  readonly notChecked: readonly string[];
}

const notChecked = [
  'the validation flag is the exporting peer’s record (Fabric does not sign TRANSACTIONS_FILTER); MVCC read conflicts need the state and are not re-checked',
  'a key-level (state-based) policy is read from the signed transaction that set it; where that transaction sits on the ledger (unless in the proven transaction’s own block), that it committed VALID, that no transaction between it and the proven one changed the policy, and that no other written key had one are the exporting peer’s word (Fabric keeps key metadata in state, which no hash covers)',
  'the chaincode definition is the one whose sequence the transaction read, committed by a _lifecycle transaction hashed into its block’s header; that it was still in force when the transaction committed rests on the VALID flag (Fabric’s MVCC check), like the flag itself',
  'blocks a bundle proves by their own orderer signatures (the transaction’s, a configuration’s, a chaincode definition commit’s) are each the ordering service’s word for that height, as the newest block is; the headers between them are not carried, so that they are one chain rests on the same signatures',
  '`exportedAt` is the exporter’s statement of when it wrote the bundle; nothing signs it, and no verdict depends on it',
  'certificates are judged at the transaction’s time (its channel header’s timestamp, which its creator and endorsers sign): a certificate an MSP’s revocation list names with a later date still counts; nothing dates the orderers’ signatures of a block, so an orderer’s certificate counts when it was valid and unrevoked at some moment from the transaction’s time to the verification',
];

class Refusal extends Error {
  constructor(readonly failure: ProofFailure) {
    super(failure.message);
  }
}

function refuse(code: ProofFailure['code'], where: string, message: string): never {
  throw new Refusal({ code, where, message });
}

function bytesOf(value: string): Buffer {
  return Buffer.from(value, 'base64');
}

/**
 * Decodes protobuf bytes and insists they are exactly what the decoded message encodes
 * to, so that no byte of a bundle can change without changing what it says.
 */
function decodeExact<T extends { serializeBinary(): Uint8Array }>(
  bytes: Uint8Array,
  decode: (bytes: Uint8Array) => T,
  where: string,
): T {
  let message: T;
  try {
    message = decode(bytes);
  } catch {
    // The decoder's own words ("Assertion failed") name no part of the bundle.
    refuse('ENCODING', where, `${where}: not a valid protobuf message`);
  }
  if (!Buffer.from(message.serializeBinary()).equals(Buffer.from(bytes)))
    refuse('ENCODING', where, `${where}: not in its canonical encoding`);
  return message;
}

/**
 * Decodes protobuf bytes nested inside a part already decoded exactly (their bytes are
 * bound by that part), naming the part when they do not decode.
 */
function decodePart<T>(bytes: Uint8Array, decode: (bytes: Uint8Array) => T, where: string, what: string): T {
  try {
    return decode(bytes);
  } catch {
    refuse('ENCODING', where, `${where}: not a valid ${what}`);
  }
}

/**
 * Why bytes are not an ASN.1 DER `ECDSA-Sig-Value` (SEQUENCE of two positive INTEGERs
 * in minimal form), or undefined when they are. Fabric's signers write exactly this;
 * OpenSSL's own message for anything else ("asn1 encoding routines" or a failed
 * assertion) names no part of a bundle.
 */
function derSignatureProblem(signature: Uint8Array): string | undefined {
  const bytes = Buffer.from(signature);
  if (bytes.length < 8 || bytes[0] !== 0x30) return 'not a DER-encoded ECDSA signature (no SEQUENCE)';
  const length = bytes[1] ?? 0;
  // P-256 and P-384 signatures are shorter than 128 bytes: short-form lengths only.
  if (length >= 0x80 || length !== bytes.length - 2)
    return 'not a DER-encoded ECDSA signature (the SEQUENCE length does not match)';
  let at = 2;
  for (const name of ['r', 's']) {
    if (bytes[at] !== 0x02) return `not a DER-encoded ECDSA signature (${name} is not an INTEGER)`;
    const size = bytes[at + 1] ?? 0;
    const first = bytes[at + 2];
    if (size === 0 || size >= 0x80 || at + 2 + size > bytes.length || first === undefined)
      return `not a DER-encoded ECDSA signature (the length of ${name} does not fit)`;
    if ((first & 0x80) !== 0) return `not a DER-encoded ECDSA signature (${name} is negative)`;
    if (first === 0 && size > 1 && ((bytes[at + 3] ?? 0) & 0x80) === 0)
      return `not a DER-encoded ECDSA signature (${name} is not in minimal form)`;
    at += 2 + size;
  }
  return at === bytes.length ? undefined : 'not a DER-encoded ECDSA signature (bytes after s)';
}

/**
 * The configuration block a block's SIGNATURES metadata names as in force
 * (`OrdererBlockMetadata.last_config`), which the orderers' signatures cover.
 */
function lastConfigOf(metadataBytes: Uint8Array, where: string): number {
  const metadata = decodeExact(metadataBytes, (bytes) => common.Metadata.deserializeBinary(bytes), where);
  return (
    decodePart(
      metadata.getValue_asU8(),
      (bytes) => common.OrdererBlockMetadata.deserializeBinary(bytes),
      where,
      'orderer block metadata',
    )
      .getLastConfig()
      ?.getIndex() ?? 0
  );
}

/** The headers of a decoded envelope, and the id its nonce and creator give (`SHA-256(nonce ‖ creator)`). */
interface EnvelopeHeaders {
  readonly payload: common.Payload;
  readonly channelHeader: common.ChannelHeader;
  readonly signatureHeader: common.SignatureHeader;
  readonly computedId: string;
}

/** Decodes an envelope's payload and headers, naming `where` when one does not decode. */
function headersOf(envelope: common.Envelope, where: string): EnvelopeHeaders {
  const payload = decodePart(
    envelope.getPayload_asU8(),
    (bytes) => common.Payload.deserializeBinary(bytes),
    `${where} payload`,
    'transaction payload',
  );
  const channelHeader = decodePart(
    payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
    (bytes) => common.ChannelHeader.deserializeBinary(bytes),
    `${where} channel header`,
    'channel header',
  );
  const signatureHeader = decodePart(
    payload.getHeader()?.getSignatureHeader_asU8() ?? new Uint8Array(),
    (bytes) => common.SignatureHeader.deserializeBinary(bytes),
    `${where} signature header`,
    'signature header',
  );
  const computedId = createHash('sha256')
    .update(signatureHeader.getNonce_asU8())
    .update(signatureHeader.getCreator_asU8())
    .digest('hex');
  return { payload, channelHeader, signatureHeader, computedId };
}

function fieldsOf(header: common.BlockHeader): HeaderFields {
  return {
    number: BigInt(header.getNumber()),
    previousHash: header.getPreviousHash_asU8(),
    dataHash: header.getDataHash_asU8(),
  };
}

/** Why an ECDSA signature is not in the low-S form Fabric accepts ({@link hasHighS}), or undefined when it is. */
function highSProblem(signature: Uint8Array, certificate: X509Certificate): string | undefined {
  try {
    return hasHighS(signature, certificate.publicKey)
      ? 'an ECDSA signature whose S is above half the curve order, which Fabric refuses (low-S rule)'
      : undefined;
  } catch {
    return "not a DER-encoded ECDSA signature of the certificate key's curve";
  }
}

/**
 * Whether a signature verifies, after insisting it is DER with a low S (refusing with
 * `code` at `where` when it is not).
 */
function verifies(
  message: Uint8Array,
  signature: Uint8Array,
  certificate: X509Certificate,
  code: ProofFailure['code'],
  where: string,
): boolean {
  const problem = derSignatureProblem(signature) ?? highSProblem(signature, certificate);
  if (problem !== undefined) refuse(code, where, `${where}: ${problem}`);
  try {
    return verifySignature('sha256', message, certificate.publicKey, signature);
  } catch {
    return false;
  }
}

/** A certificate's subject on one line, as the verdict names a signer. */
function subjectOf(identity: CheckedIdentity): string {
  return identity.certificate.subject.replaceAll('\n', ', ');
}

function trusted(identity: CheckedIdentity, where: string): CheckedIdentity {
  if (identity.untrusted !== undefined) refuse('CERTIFICATE', where, `${where}: ${identity.untrusted}`);
  return identity;
}

function identityAt(serialized: Uint8Array, config: ChannelConfig, at: SigningTime, where: string): CheckedIdentity {
  decodePart(serialized, (bytes) => msp.SerializedIdentity.deserializeBinary(bytes), where, 'serialised identity');
  try {
    return checkIdentity(serialized, config.msps, at);
  } catch {
    // OpenSSL's words ("asn1 encoding routines::wrong tag") name no part of the bundle.
    refuse('CERTIFICATE', where, `${where}: the identity's certificate is not a PEM-encoded X.509 certificate`);
  }
}

/** A base-128 varint at `offset` of `bytes`, and where the next field starts; undefined past the end or over 10 bytes. */
function varintAt(bytes: Uint8Array, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  for (let index = 0; index < 10 && offset + index < bytes.length; index += 1) {
    const byte = bytes[offset + index] ?? 0;
    value += (byte & 0x7f) * 2 ** (7 * index);
    if ((byte & 0x80) === 0) return { value, next: offset + index + 1 };
  }
  return undefined;
}

/**
 * Whether `entry` is laid out as Fabric's orderers write an envelope: its payload field
 * (1, length-delimited, not empty), then its signature field (2, length-delimited, not
 * empty; absent only where `unsigned`), then nothing but fields numbered 3 or more (a
 * client may add fields Fabric does not know; its orderers keep them, after the known
 * ones), each whole within the entry.
 */
function envelopeLaidOut(entry: Uint8Array, unsigned: boolean): boolean {
  let offset = 0;
  let field = 0;
  while (offset < entry.length) {
    const tag = varintAt(entry, offset);
    if (tag === undefined) return false;
    const number = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    // Field 1 first, then 2 (unless unsigned), then only unknown fields: one way to read the bytes.
    const expected = field === 0 ? number === 1 : number === 2 ? field === 1 : number >= 3 && (field >= 2 || unsigned);
    if (!expected) return false;
    offset = tag.next;
    if (wireType === 0) {
      const value = varintAt(entry, offset);
      if (value === undefined) return false;
      offset = value.next;
    } else if (wireType === 1 || wireType === 5) {
      offset += wireType === 1 ? 8 : 4;
    } else if (wireType === 2) {
      const length = varintAt(entry, offset);
      if (length === undefined || (number <= 2 && length.value === 0)) return false;
      offset = length.next + length.value;
    } else return false;
    if (offset > entry.length) return false;
    field = number <= 2 ? number : 3;
  }
  return field >= (unsigned ? 1 : 2);
}

/**
 * Insists that every entry of a block's data is one envelope as Fabric's orderers write
 * them (see {@link envelopeLaidOut}). Fabric's data hash is SHA-256 over the entries
 * joined with nothing between them, so the hash alone would let a bundle cut the same
 * bytes into other entries (an envelope carried inside another transaction's payload
 * presented as an entry of its own, an empty entry before the transaction). Entries that
 * each start with the payload field and hold no other payload or signature field can be
 * cut only one way: where the next payload field begins. A configuration block holds one
 * entry, whose signature is absent in the genesis block (`configtxgen` signs nothing).
 */
function requireEnvelopeEntries(data: common.BlockData, where: string, kind: 'transactions' | 'configuration'): void {
  const entries = data.getDataList_asU8();
  if (kind === 'configuration' && entries.length !== 1)
    refuse('ENCODING', where, `${where}: a configuration block holds one entry, not ${entries.length}`);
  entries.forEach((entry, index) => {
    const place = `${where} entry ${index}`;
    if (!envelopeLaidOut(entry, kind === 'configuration'))
      refuse(
        'ENCODING',
        place,
        `${place}: not an envelope as the orderers write each entry, a payload and a signature first and no other (the data hash covers the entries joined, so each must be one)`,
      );
  });
}

/**
 * Checks the orderer signatures of one block's SIGNATURES metadata, each signer's
 * certificate judged at `at` (see `ordererSigningTime`); returns the valid signers.
 */
function ordererSigners(
  metadataBytes: Uint8Array,
  header: HeaderFields,
  config: ChannelConfig,
  at: SigningTime,
  where: string,
): CheckedIdentity[] {
  const metadata = decodeExact(
    metadataBytes,
    (bytes) => common.Metadata.deserializeBinary(bytes),
    `${where} signatures`,
  );
  const signers: CheckedIdentity[] = [];
  const signatures = metadata.getSignaturesList();
  if (signatures.length === 0) refuse('ORDERER_SIGNATURE', where, `${where} carries no orderer signature`);
  signatures.forEach((signature, index) => {
    // Counted from 1, as a reader counts them: "orderer signature 1 of block 57".
    const place = `orderer signature ${index + 1} of ${where}`;
    const signatureHeader = signature.getSignatureHeader_asU8();
    if (signatureHeader.length === 0)
      refuse('ORDERER_SIGNATURE', place, `${place} has no signature header (BFT identifier headers are not supported)`);
    const creator = decodePart(
      signatureHeader,
      (bytes) => common.SignatureHeader.deserializeBinary(bytes),
      place,
      'signature header',
    ).getCreator_asU8();
    const signer = trusted(identityAt(creator, config, at, place), place);
    if (signer.msp?.kind !== 'orderer')
      refuse('ORDERER_SIGNATURE', place, `${place} is by ${signer.mspId}, not an orderer organisation`);
    // Fabric counts a signer once: a signature repeated would count one orderer twice
    // towards a policy asking for more than one.
    const earlier = signers.findIndex(
      (other) => other.certificate.fingerprint256 === signer.certificate.fingerprint256,
    );
    if (earlier >= 0)
      refuse(
        'ORDERER_SIGNATURE',
        place,
        `${place} is by the orderer of orderer signature ${earlier + 1}; a block carries one signature per orderer`,
      );
    const signed = Buffer.concat([metadata.getValue_asU8(), signatureHeader, blockHeaderBytes(header)]);
    if (!verifies(signed, signature.getSignature_asU8(), signer.certificate, 'ORDERER_SIGNATURE', place))
      refuse(
        'ORDERER_SIGNATURE',
        place,
        `${place} does not verify over the metadata value, signature header and block header`,
      );
    signers.push(signer);
  });
  return signers;
}

/**
 * The endorsers of one endorsed action, each trusted by its MSP at `at` and with a
 * signature over the proposal response payload and its identity that verifies.
 */
function checkedEndorsers(
  endorsed: peer.ChaincodeEndorsedAction,
  config: ChannelConfig,
  at: Date,
  txWhere: string,
): CheckedIdentity[] {
  const responsePayload = endorsed.getProposalResponsePayload_asU8();
  return endorsed.getEndorsementsList().map((endorsement, index) => {
    const where = `${txWhere} endorsement ${index}`;
    const endorser = trusted(identityAt(endorsement.getEndorser_asU8(), config, at, where), where);
    if (
      !verifies(
        Buffer.concat([responsePayload, endorsement.getEndorser_asU8()]),
        endorsement.getSignature_asU8(),
        endorser.certificate,
        'ENDORSEMENT_SIGNATURE',
        where,
      )
    )
      refuse(
        'ENDORSEMENT_SIGNATURE',
        where,
        `${where} (${endorser.mspId}): the signature over the proposal response payload and endorser does not verify`,
      );
    return endorser;
  });
}

function timeOf(channelHeader: common.ChannelHeader): Date {
  // google-protobuf's Timestamp typings are not installed; the two fields are all that is read.
  const timestamp = channelHeader.getTimestamp() as unknown as { getSeconds(): number; getNanos(): number } | undefined;
  return new Date((timestamp?.getSeconds() ?? 0) * 1000 + Math.floor((timestamp?.getNanos() ?? 0) / 1e6));
}

/**
 * When an orderer's certificate must have been good for its signature of a block of the
 * bundle to count: at some moment from the proven transaction's creation to now. Nothing in
 * a block's header or signature metadata carries a time, and the bundle's `exportedAt` is
 * signed by nobody, so no instant is bound. The transaction's block and the newest one were
 * signed in that span; an anchor (a configuration or definition commit's block, often
 * earlier) is held to it too, so that a certificate expired or revoked before the
 * transaction, whose key may have leaked since, can vouch for no block of a proof. A
 * certificate renewed after the transaction therefore counts; for an anchor signed with one
 * that expired before it, the exporter sends the version 2 header chain instead.
 */
function ordererSigningTime(transactionTime: Date): SigningTime {
  const now = new Date();
  // A creator's clock ahead of the verifier's leaves only the transaction's own time.
  return { from: transactionTime, to: now < transactionTime ? transactionTime : now };
}

/** A key-level policy the verifier applies, read from the signed transaction that set it. */
interface AppliedKeyPolicy {
  readonly key: string;
  readonly policy: common.SignaturePolicyEnvelope;
  /**
   * `transaction <id> (block <n>, position <i>)` when the setting transaction is in the
   * proven transaction's block, whose data the bundle binds; otherwise the place is the
   * exporting peer's word and the text says so.
   */
  readonly setBy: string;
}

/**
 * Reads and checks one `keyPolicies` entry: the key is one the transaction wrote; the
 * setting transaction is not placed after it (an entry of the same block must be that
 * block's earlier entry, which the block's data shows; an earlier block's is the exporting
 * peer's word, as that block's data is not in the bundle), has the id its nonce and
 * creator give, a client signature and endorsements that verify against the channel's
 * MSPs, and a metadata write that sets the key's `VALIDATION_PARAMETER`.
 */
function keyPolicyOf(
  bundle: ProofBundle,
  entry: NonNullable<ProofBundle['keyPolicies']>[number],
  index: number,
  written: WrittenKeys,
  config: ChannelConfig,
  blockData: common.BlockData,
): AppliedKeyPolicy {
  const where = `keyPolicies.${index}`;
  const place = `block ${entry.setBy.block}, position ${entry.setBy.index}`;
  if (entry.namespace !== bundle.chaincode.name || !written.keys.includes(entry.key))
    refuse(
      'KEY_POLICY',
      where,
      `${where}: the transaction wrote no key ${JSON.stringify(entry.key)} in namespace ${entry.namespace}, so no policy of it applies`,
    );
  const envelopeBytes = bytesOf(entry.setBy.envelope);
  const sameBlock = entry.setBy.block === bundle.block.number;
  if (
    entry.setBy.block > bundle.block.number ||
    (sameBlock &&
      (entry.setBy.index >= bundle.transaction.index ||
        !Buffer.from(blockData.getDataList_asU8()[entry.setBy.index] ?? new Uint8Array()).equals(envelopeBytes)))
  )
    refuse(
      'KEY_POLICY',
      where,
      `${where}: transaction ${entry.setBy.transactionId} at ${place} does not come before the transaction on the ledger`,
    );
  const setBy = `transaction ${entry.setBy.transactionId} (${sameBlock ? place : `the exporting peer says ${place}`})`;
  const envelope = decodeExact(
    envelopeBytes,
    (bytes) => common.Envelope.deserializeBinary(bytes),
    `${where} setBy.envelope`,
  );
  const { payload, channelHeader, signatureHeader, computedId } = headersOf(envelope, `${where} setBy.envelope`);
  if (
    channelHeader.getType() !== common.HeaderType.ENDORSER_TRANSACTION ||
    channelHeader.getChannelId() !== bundle.channel ||
    channelHeader.getTxId() !== entry.setBy.transactionId ||
    computedId !== entry.setBy.transactionId
  )
    refuse(
      'KEY_POLICY',
      where,
      `${where}: the setting envelope is not endorser transaction ${entry.setBy.transactionId} on channel ${bundle.channel}`,
    );
  const at = timeOf(channelHeader);
  const creatorWhere = `${where} setBy creator`;
  const creator = trusted(identityAt(signatureHeader.getCreator_asU8(), config, at, creatorWhere), creatorWhere);
  if (
    !verifies(
      envelope.getPayload_asU8(),
      envelope.getSignature_asU8(),
      creator.certificate,
      'KEY_POLICY',
      `${where} setBy client signature`,
    )
  )
    refuse('KEY_POLICY', where, `${where}: the client's signature over the setting envelope does not verify`);
  const transaction = decodePart(
    payload.getData_asU8(),
    (bytes) => peer.Transaction.deserializeBinary(bytes),
    `${where} setBy.envelope payload data`,
    'endorser transaction',
  );
  transaction.getActionsList().forEach((action, actionIndex) => {
    const endorsed = decodePart(
      action.getPayload_asU8(),
      (bytes) => peer.ChaincodeActionPayload.deserializeBinary(bytes),
      `${where} setBy action ${actionIndex}`,
      'chaincode action payload',
    ).getAction();
    if (endorsed === undefined)
      refuse('KEY_POLICY', where, `${where}: the setting transaction's action ${actionIndex} has no endorsement`);
    checkedEndorsers(endorsed, config, at, `${where} setBy`);
  });
  const event = decodePart(
    payload.getData_asU8(),
    (bytes) => keyPolicyEvent(bytes, entry.namespace, entry.key),
    `${where} setBy read/write set`,
    'read/write set',
  );
  if (event?.kind !== 'set')
    refuse(
      'KEY_POLICY',
      where,
      `${where}: ${setBy} does not set a key-level policy of key ${JSON.stringify(entry.key)}`,
    );
  const policy = decodePart(
    event.policy,
    (bytes) => common.SignaturePolicyEnvelope.deserializeBinary(bytes),
    `${where} policy`,
    'signature policy envelope',
  );
  return { key: entry.key, policy, setBy };
}

/**
 * Checks a record proof's `record`: its key is the one the chaincode holds that kind and
 * id under (`recordKey`), in the chaincode's namespace, and the transaction wrote it
 * (with a value that holds the record, for a payout inside its milestone). The kind and
 * id are what the verdict reports, so neither may name another record than the key.
 */
function checkRecord(
  record: NonNullable<ProofBundle['record']>,
  chaincode: string,
  payloadData: Uint8Array,
  txWhere: string,
): void {
  let expected: string;
  try {
    expected = recordKey(record.kind, record.id);
  } catch (error) {
    refuse('RECORD_KEY', 'record', `record: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (record.key !== expected)
    refuse(
      'RECORD_KEY',
      'record',
      `record: ${record.kind} ${record.id} is held under key ${JSON.stringify(expected)}, not ${JSON.stringify(record.key)}`,
    );
  const value =
    record.namespace === chaincode
      ? decodePart(
          payloadData,
          (bytes) => writtenValue(bytes, record.namespace, record.key),
          `${txWhere} read/write set`,
          'read/write set',
        )
      : undefined;
  if (value === undefined)
    refuse(
      'RECORD_KEY',
      'record',
      `record: ${txWhere} wrote no key ${JSON.stringify(record.key)} in namespace ${record.namespace}, so it does not prove ${record.kind} ${record.id}`,
    );
  const problem = recordValueProblem(record.kind, record.id, value);
  if (problem !== undefined) refuse('RECORD_KEY', 'record', `record: ${problem} (key ${JSON.stringify(record.key)})`);
}

/** The chaincode definition a transaction was validated under, as {@link definitionOf} read it from the ledger. */
interface AppliedDefinition {
  readonly policy: peer.ApplicationPolicy;
  readonly committedBy: string;
  readonly policySetBy: string;
}

/**
 * Reads the chaincode policy from the `_lifecycle` transactions of `chaincode.definition`
 * and binds each of them to the ledger: its block's data hashes into that block's header
 * in the chain (checked in step 5 with the rest of the chain), it is the entry its
 * position names, an endorser transaction whose id its nonce and creator give, and it is
 * where the previous link read the definition's sequence (the proven transaction for the
 * first). The first wrote `chaincode.sequence`; each next one the sequence before; the
 * last, and only the last, wrote the validation parameter.
 */
function definitionOf(
  bundle: ProofBundle,
  provenPayloadData: Uint8Array,
  headerOf: (number: number, what: string) => common.BlockHeader,
  txWhere: string,
): AppliedDefinition {
  const name = bundle.chaincode.name;
  const sequenceKey = definitionFieldKey(name, 'Sequence');
  const described = (entry: ProofBundle['chaincode']['definition'][number]) =>
    `_lifecycle transaction ${entry.transactionId} (block ${entry.block}, position ${entry.index})`;
  let readerData = provenPayloadData;
  let readerWhere = txWhere;
  let expectedSequence = bundle.chaincode.sequence;
  const entries = bundle.chaincode.definition;
  for (const [index, entry] of entries.entries()) {
    const where = `chaincode.definition.${index}`;
    const read = decodePart(
      readerData,
      (bytes) => readVersion(bytes, lifecycleNamespace, sequenceKey),
      `${readerWhere} read/write set`,
      'read/write set',
    );
    if (read === undefined || read === null)
      refuse(
        'CHAINCODE_DEFINITION',
        readerWhere,
        `${readerWhere} read no committed definition of chaincode ${name} (no version of ${lifecycleNamespace} key ${sequenceKey}), so the policy it was validated under is not on the ledger`,
      );
    if (read.block !== entry.block || read.index !== entry.index)
      refuse(
        'CHAINCODE_DEFINITION',
        where,
        `${where}: ${readerWhere} read the definition of chaincode ${name} committed at block ${read.block} position ${read.index}, not at block ${entry.block} position ${entry.index}`,
      );
    const data = decodeExact(
      bytesOf(entry.data),
      (bytes) => common.BlockData.deserializeBinary(bytes),
      `${where} data`,
    );
    requireEnvelopeEntries(data, `${where} data`, 'transactions');
    if (!blockDataHash(data.getDataList_asU8()).equals(Buffer.from(headerOf(entry.block, where).getDataHash_asU8())))
      refuse(
        'DATA_HASH',
        `${where} data`,
        `${where} data: SHA-256 of the data does not match the data_hash of block ${entry.block} among the bundle's headers`,
      );
    const envelopeBytes = data.getDataList_asU8()[entry.index];
    if (envelopeBytes === undefined)
      refuse('CHAINCODE_DEFINITION', where, `${where}: block ${entry.block} has no entry at position ${entry.index}`);
    const envelope = decodePart(envelopeBytes, (bytes) => common.Envelope.deserializeBinary(bytes), where, 'envelope');
    const { payload, channelHeader, computedId } = headersOf(envelope, where);
    if (
      channelHeader.getType() !== common.HeaderType.ENDORSER_TRANSACTION ||
      channelHeader.getChannelId() !== bundle.channel ||
      channelHeader.getTxId() !== entry.transactionId ||
      computedId !== entry.transactionId
    )
      refuse(
        'CHAINCODE_DEFINITION',
        where,
        `${where}: entry ${entry.index} of block ${entry.block} is not endorser transaction ${entry.transactionId} on channel ${bundle.channel}`,
      );
    const writes = decodePart(
      payload.getData_asU8(),
      (bytes) => definitionWrites(bytes, name),
      `${where} read/write set`,
      'chaincode definition write set',
    );
    if (writes.sequence !== expectedSequence)
      refuse(
        'CHAINCODE_DEFINITION',
        where,
        `${where}: ${described(entry)} committed sequence ${writes.sequence ?? '(none)'} of chaincode ${name}, expected ${expectedSequence}`,
      );
    const last = index === entries.length - 1;
    if (writes.policy !== undefined && !last)
      refuse(
        'CHAINCODE_DEFINITION',
        where,
        `${where}: ${described(entry)} wrote the policy of chaincode ${name}; the commits after it in the bundle do not belong`,
      );
    if (writes.policy !== undefined) {
      const first = entries[0] ?? entry;
      return { policy: writes.policy, committedBy: described(first), policySetBy: described(entry) };
    }
    if (last)
      refuse(
        'CHAINCODE_DEFINITION',
        where,
        `${where}: ${described(entry)} kept the policy of sequence ${expectedSequence - 1}, whose commit the bundle does not carry`,
      );
    readerData = payload.getData_asU8();
    readerWhere = where;
    expectedSequence -= 1;
  }
  // The schema requires at least one entry, and the loop returns or refuses at the last.
  refuse('CHAINCODE_DEFINITION', 'chaincode.definition', 'chaincode.definition: no commit of the chaincode definition');
}

interface Checked {
  transaction: NonNullable<ProofVerdict['transaction']>;
  signedBlock: NonNullable<ProofVerdict['signedBlock']>;
  anchoredBlocks: NonNullable<ProofVerdict['anchoredBlocks']>;
  endorsementPolicy: string;
  chaincodeDefinition: NonNullable<ProofVerdict['chaincodeDefinition']>;
  ordererPolicy: string;
  /** The latest configuration, and the one in force at the transaction's block when it differs. */
  configs: readonly ChannelConfig[];
}

function check(bundle: ProofBundle): Checked {
  // 1. The configuration: its MSPs and policies judge every signature below (its hash is checked in step 5).
  const configWhere = `configuration block ${bundle.config.blockNumber} data`;
  const configData = decodeExact(
    bytesOf(bundle.config.data),
    (bytes) => common.BlockData.deserializeBinary(bytes),
    configWhere,
  );
  requireEnvelopeEntries(configData, configWhere, 'configuration');
  let config: ChannelConfig;
  try {
    config = readChannelConfig(configData);
  } catch (error) {
    refuse('CONFIG', configWhere, `${configWhere}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (config.channel !== bundle.channel)
    refuse('CONFIG', configWhere, `${configWhere} is for channel ${config.channel}, not ${bundle.channel}`);
  // The transaction is judged by the configuration in force at its block (the organisations
  // and policies of that time, before a later add-org or remove-org): the one the orderers'
  // signed metadata of that block names (its signatures are checked in step 5).
  const inForce = lastConfigOf(bytesOf(bundle.block.signatures), `block ${bundle.block.number} signatures`);
  const carried = bundle.transactionConfig;
  let transactionConfig = config;
  let transactionConfigData: common.BlockData | undefined;
  const transactionConfigWhere = `transaction configuration block ${carried?.blockNumber ?? inForce} data`;
  if (inForce === bundle.config.blockNumber) {
    if (carried !== undefined)
      refuse(
        'CONFIG',
        transactionConfigWhere,
        `${transactionConfigWhere}: block ${bundle.block.number} was validated under configuration block ${inForce}, the bundle's latest; no other belongs`,
      );
  } else {
    if (carried?.blockNumber !== inForce)
      refuse(
        'CONFIG',
        `block ${bundle.block.number} signatures`,
        `block ${bundle.block.number} signatures name configuration block ${inForce} as in force, which the bundle does not carry`,
      );
    transactionConfigData = decodeExact(
      bytesOf(carried.data),
      (bytes) => common.BlockData.deserializeBinary(bytes),
      transactionConfigWhere,
    );
    requireEnvelopeEntries(transactionConfigData, transactionConfigWhere, 'configuration');
    try {
      transactionConfig = readChannelConfig(transactionConfigData);
    } catch (error) {
      refuse(
        'CONFIG',
        transactionConfigWhere,
        `${transactionConfigWhere}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (transactionConfig.channel !== bundle.channel)
      refuse(
        'CONFIG',
        transactionConfigWhere,
        `${transactionConfigWhere} is for channel ${transactionConfig.channel}, not ${bundle.channel}`,
      );
  }
  // The headers are decoded here for the parts that name their blocks; step 5 checks that they chain.
  const headers = bundle.headers.map((text, index) =>
    decodeExact(bytesOf(text), (bytes) => common.BlockHeader.deserializeBinary(bytes), `headers.${index}`),
  );
  headers.forEach((header, index) => {
    const previous = headers[index - 1];
    if (previous !== undefined && header.getNumber() <= previous.getNumber())
      refuse(
        'HEADER_CHAIN',
        `headers.${index}`,
        `headers.${index} is block ${header.getNumber()}, after block ${previous.getNumber()}: headers are in ascending block order, each block once`,
      );
  });
  const byNumber = new Map(headers.map((header) => [header.getNumber(), header]));
  const headerOf = (number: number, what: string): common.BlockHeader => {
    const header = byNumber.get(number);
    if (header === undefined)
      refuse('HEADER_CHAIN', what, `${what}: block ${number} is not among the bundle's headers`);
    return header;
  };
  // 2. The transaction: in its block's data, flagged VALID by the peer.
  const blockWhere = `block ${bundle.block.number}`;
  const data = decodeExact(
    bytesOf(bundle.block.data),
    (bytes) => common.BlockData.deserializeBinary(bytes),
    `${blockWhere} data`,
  );
  requireEnvelopeEntries(data, `${blockWhere} data`, 'transactions');
  const envelopeBytes = bytesOf(bundle.transaction.envelope);
  const inBlock = data.getDataList_asU8()[bundle.transaction.index];
  if (inBlock === undefined || !Buffer.from(inBlock).equals(envelopeBytes))
    refuse(
      'TRANSACTION_NOT_IN_BLOCK',
      `${blockWhere} data ${bundle.transaction.index}`,
      `the transaction envelope is not entry ${bundle.transaction.index} of ${blockWhere}'s data`,
    );
  if (bundle.block.validationCode !== 'VALID')
    refuse(
      'NOT_VALID',
      `${blockWhere} validation flags`,
      `the peer recorded the transaction as ${bundle.block.validationCode}, not VALID`,
    );
  // 3. The client's envelope (id, channel, signature) and every endorsement, against the policy.
  const txWhere = `transaction ${bundle.transactionId}`;
  const envelope = decodeExact(
    envelopeBytes,
    (bytes) => common.Envelope.deserializeBinary(bytes),
    `${txWhere} envelope`,
  );
  const { payload, channelHeader, signatureHeader, computedId } = headersOf(envelope, txWhere);
  if (channelHeader.getType() !== common.HeaderType.ENDORSER_TRANSACTION)
    refuse('TRANSACTION_ID', txWhere, `${txWhere} is not an endorser transaction`);
  if (channelHeader.getTxId() !== bundle.transactionId || computedId !== bundle.transactionId)
    refuse(
      'TRANSACTION_ID',
      `${txWhere} channel header`,
      `${txWhere}: the envelope's id (${channelHeader.getTxId()}) or SHA-256(nonce ‖ creator) (${computedId}) is not ${bundle.transactionId}`,
    );
  if (channelHeader.getChannelId() !== bundle.channel)
    refuse(
      'TRANSACTION_ID',
      `${txWhere} channel header`,
      `${txWhere} is on channel ${channelHeader.getChannelId()}, not ${bundle.channel}`,
    );
  // google-protobuf's Timestamp typings are not installed; the two fields are all that is read.
  const timestamp = channelHeader.getTimestamp() as unknown as { getSeconds(): number; getNanos(): number } | undefined;
  const at = new Date((timestamp?.getSeconds() ?? 0) * 1000 + Math.floor((timestamp?.getNanos() ?? 0) / 1e6));
  const creator = trusted(
    identityAt(signatureHeader.getCreator_asU8(), transactionConfig, at, `${txWhere} creator`),
    `${txWhere} creator`,
  );
  const transaction = decodePart(
    payload.getData_asU8(),
    (bytes) => peer.Transaction.deserializeBinary(bytes),
    `${txWhere} payload data`,
    'endorser transaction',
  );
  const actions = transaction.getActionsList();
  if (actions.length === 0) refuse('ENDORSEMENT_POLICY', txWhere, `${txWhere} carries no chaincode action`);
  const endorserIds = new Set<string>();
  let policy: PolicyOutcome | undefined;
  let keyDescriptions: string[] = [];
  const written = decodePart(
    payload.getData_asU8(),
    (bytes) => writtenKeys(bytes, bundle.chaincode.name),
    `${txWhere} read/write set`,
    'read/write set',
  );
  const keyPolicies = (bundle.keyPolicies ?? []).map((entry, index, entries) => {
    const first = entries.findIndex((other) => other.namespace === entry.namespace && other.key === entry.key);
    // A key has one policy when a transaction is validated; a second entry could only restate or contradict it.
    if (first !== index)
      refuse(
        'KEY_POLICY',
        `keyPolicies.${index}`,
        `keyPolicies.${index}: key ${JSON.stringify(entry.key)} has its policy in keyPolicies.${first} already; a key has one`,
      );
    return keyPolicyOf(bundle, entry, index, written, transactionConfig, data);
  });
  if (bundle.record !== undefined) checkRecord(bundle.record, bundle.chaincode.name, payload.getData_asU8(), txWhere);
  // The chaincode's policy is bound to the ledger whether or not a key-level policy replaces it here.
  const definition = definitionOf(bundle, payload.getData_asU8(), headerOf, txWhere);
  const covered = new Set(keyPolicies.map((entry) => entry.key));
  const chaincodePolicyApplies =
    written.privateWrites || written.keys.length === 0 || written.keys.some((key) => !covered.has(key));
  actions.forEach((action, actionIndex) => {
    const actionWhere = `${txWhere} action ${actionIndex}`;
    const endorsed = decodePart(
      action.getPayload_asU8(),
      (bytes) => peer.ChaincodeActionPayload.deserializeBinary(bytes),
      actionWhere,
      'chaincode action payload',
    ).getAction();
    if (endorsed === undefined)
      refuse(
        'ENDORSEMENT_POLICY',
        `${txWhere} action ${actionIndex}`,
        `${txWhere} action ${actionIndex} has no endorsed action`,
      );
    const responsePayload = endorsed.getProposalResponsePayload_asU8();
    const chaincodeAction = decodePart(
      decodePart(
        responsePayload,
        (bytes) => peer.ProposalResponsePayload.deserializeBinary(bytes),
        `${actionWhere} proposal response payload`,
        'proposal response payload',
      ).getExtension_asU8(),
      (bytes) => peer.ChaincodeAction.deserializeBinary(bytes),
      `${actionWhere} chaincode action`,
      'chaincode action',
    );
    const chaincode = chaincodeAction.getChaincodeId()?.getName();
    if (chaincode !== bundle.chaincode.name)
      refuse(
        'ENDORSEMENT_POLICY',
        `${txWhere} action ${actionIndex}`,
        `${txWhere} invokes chaincode ${chaincode ?? '(none)'}, the bundle's policy is for ${bundle.chaincode.name}`,
      );
    const version = chaincodeAction.getChaincodeId()?.getVersion() ?? '';
    if (version !== bundle.chaincode.version)
      refuse(
        'CHAINCODE_DEFINITION',
        `${txWhere} action ${actionIndex}`,
        `${txWhere}: its endorsers ran version ${version} of chaincode ${bundle.chaincode.name}, not ${bundle.chaincode.version} as the bundle says`,
      );
    const endorsers = checkedEndorsers(endorsed, transactionConfig, at, txWhere);
    endorsers.forEach((endorser) => endorserIds.add(endorser.mspId));
    const keyOutcomes = keyPolicies.map((entry) => {
      const outcome = evaluateSignaturePolicy(entry.policy, endorsers);
      if (!outcome.satisfied)
        refuse(
          'ENDORSEMENT_POLICY',
          `${txWhere} action ${actionIndex}`,
          `${txWhere}: the endorsements (${endorsers.map((endorser) => endorser.mspId).join(', ')}) do not satisfy the key-level policy of key ${JSON.stringify(entry.key)} (set by ${entry.setBy}): ${outcome.description}`,
        );
      return `key ${JSON.stringify(entry.key)}: ${outcome.description} (set by ${entry.setBy})`;
    });
    keyDescriptions = keyOutcomes;
    // Fabric's validator asks for the chaincode's policy only for written keys without their own.
    if (!chaincodePolicyApplies) return;
    const required = definition.policy;
    const signaturePolicy = required.getSignaturePolicy();
    policy =
      signaturePolicy !== undefined
        ? evaluateSignaturePolicy(signaturePolicy, endorsers)
        : evaluateConfigPolicy(transactionConfig, required.getChannelConfigPolicyReference(), endorsers);
    if (!policy.satisfied)
      refuse(
        'ENDORSEMENT_POLICY',
        `${txWhere} action ${actionIndex}`,
        `${txWhere}: the endorsements (${[...endorserIds].join(', ')}) do not satisfy ${policy.description}`,
      );
  });
  // Last of the envelope, so that a changed endorsement is reported as such rather than as a broken client signature.
  if (
    !verifies(
      envelope.getPayload_asU8(),
      envelope.getSignature_asU8(),
      creator.certificate,
      'CLIENT_SIGNATURE',
      `${txWhere} client signature`,
    )
  )
    refuse(
      'CLIENT_SIGNATURE',
      `${txWhere} envelope`,
      `${txWhere}: the client's signature over the envelope payload does not verify`,
    );

  // 4. The block's data hashes into its header.
  const blockHeader = decodeExact(
    bytesOf(bundle.block.header),
    (bytes) => common.BlockHeader.deserializeBinary(bytes),
    `${blockWhere} header`,
  );
  if (!blockDataHash(data.getDataList_asU8()).equals(Buffer.from(blockHeader.getDataHash_asU8())))
    refuse(
      'DATA_HASH',
      `${blockWhere} data`,
      `${blockWhere} data: SHA-256 of the data does not match the header's data_hash`,
    );

  // 5. The headers: each run of consecutive blocks linked by previous_hash, and ending in a block whose orderer signatures the bundle carries.
  const signedHeader = headerOf(bundle.signedBlock.number, 'signedBlock.number');
  if (signedHeader !== headers[headers.length - 1])
    refuse(
      'HEADER_CHAIN',
      'signedBlock.number',
      `the signed block ${bundle.signedBlock.number} is not the last of the bundle's headers`,
    );
  if (bundle.version === 2) {
    if (bundle.anchors !== undefined)
      refuse('BUNDLE_FORMAT', 'anchors', 'anchors: a version 2 bundle carries one header chain and no anchors');
    headers.forEach((header, index) => {
      const first = headers[0]?.getNumber() ?? 0;
      if (header.getNumber() !== first + index)
        refuse(
          'HEADER_CHAIN',
          `headers.${index}`,
          `headers.${index} is block ${header.getNumber()}, expected ${first + index}: a version 2 bundle carries one unbroken header chain`,
        );
    });
  }
  const anchors = new Map<number, string>();
  (bundle.anchors ?? []).forEach((anchor, index) => {
    const where = `anchors.${index}`;
    headerOf(anchor.number, where);
    if (
      anchors.has(anchor.number) ||
      anchor.number === bundle.signedBlock.number ||
      anchor.number === bundle.block.number
    )
      refuse(
        'HEADER_CHAIN',
        where,
        `${where}: block ${anchor.number}'s orderer signatures are in the bundle already; a block has one entry`,
      );
    // One order, as for headers, so that no two byte forms of a bundle say the same.
    const previous = [...anchors.keys()].at(-1);
    if (previous !== undefined && anchor.number < previous)
      refuse(
        'HEADER_CHAIN',
        where,
        `${where}: block ${anchor.number} after block ${previous}; anchors are in ascending block order`,
      );
    anchors.set(anchor.number, anchor.signatures);
  });
  headers.forEach((header, index) => {
    const next = headers[index + 1];
    const number = header.getNumber();
    if (next !== undefined && next.getNumber() === number + 1) {
      if (!blockHeaderHash(fieldsOf(header)).equals(Buffer.from(next.getPreviousHash_asU8())))
        refuse(
          'HEADER_CHAIN',
          `block ${next.getNumber()} header`,
          `block ${next.getNumber()} header: previous_hash does not match the hash of block ${number}`,
        );
      return;
    }
    if (number !== bundle.signedBlock.number && number !== bundle.block.number && !anchors.has(number))
      refuse(
        'HEADER_CHAIN',
        `headers.${index}`,
        `headers.${index}: block ${number} ends a run of headers (the next is ${next === undefined ? 'none' : `block ${next.getNumber()}`}), and the bundle carries no orderer signatures of it`,
      );
  });
  if (
    !Buffer.from(blockHeader.serializeBinary()).equals(
      Buffer.from(headerOf(bundle.block.number, `${blockWhere} header`).serializeBinary()),
    )
  )
    refuse(
      'HEADER_CHAIN',
      `${blockWhere} header`,
      `${blockWhere} header differs from block ${bundle.block.number} among the bundle's headers`,
    );
  const ordererTime = ordererSigningTime(at);
  const ordererPolicyPath = '/Channel/Orderer/BlockValidation';
  // Every block whose signatures end a run proves its run as the newest block proves its own.
  const signedBy = (signatures: string, header: common.BlockHeader, where: string) => {
    const signers = ordererSigners(bytesOf(signatures), fieldsOf(header), config, ordererTime, where);
    const outcome = evaluateConfigPolicy(config, ordererPolicyPath, signers);
    if (!outcome.satisfied)
      refuse('ORDERER_POLICY', where, `${where}: the orderer signatures do not satisfy ${outcome.description}`);
    return { signers, outcome };
  };
  signedBy(bundle.block.signatures, blockHeader, blockWhere);
  const anchoredBlocks = [...anchors].map(([number, signatures]) => ({
    number,
    signers: signedBy(signatures, headerOf(number, `block ${number}`), `block ${number}`).signers.map(subjectOf),
  }));

  if (
    !blockDataHash(configData.getDataList_asU8()).equals(
      Buffer.from(headerOf(bundle.config.blockNumber, configWhere).getDataHash_asU8()),
    )
  )
    refuse('DATA_HASH', configWhere, `${configWhere}: SHA-256 of the data does not match the data_hash of its header`);
  if (
    transactionConfigData !== undefined &&
    !blockDataHash(transactionConfigData.getDataList_asU8()).equals(
      Buffer.from(headerOf(inForce, transactionConfigWhere).getDataHash_asU8()),
    )
  )
    refuse(
      'DATA_HASH',
      transactionConfigWhere,
      `${transactionConfigWhere}: SHA-256 of the data does not match the data_hash of its header`,
    );

  // 6. The orderers signed the newest block, whose metadata names the latest configuration.
  const signedWhere = `block ${bundle.signedBlock.number}`;
  const { signers, outcome: ordererOutcome } = signedBy(bundle.signedBlock.signatures, signedHeader, signedWhere);
  const latest = lastConfigOf(bytesOf(bundle.signedBlock.signatures), `${signedWhere} signatures`);
  if (latest !== bundle.config.blockNumber)
    refuse(
      'CONFIG',
      configWhere,
      `${configWhere}: ${signedWhere} names configuration block ${latest} as the latest, not ${bundle.config.blockNumber}`,
    );
  return {
    transaction: {
      id: bundle.transactionId,
      channel: bundle.channel,
      block: bundle.block.number,
      index: bundle.transaction.index,
      timestamp: at.toISOString(),
      creatorMspId: creator.mspId,
      chaincode: bundle.chaincode.name,
      endorsers: [...endorserIds].sort(),
    },
    signedBlock: { number: bundle.signedBlock.number, signers: signers.map(subjectOf) },
    anchoredBlocks,
    endorsementPolicy: [...(policy === undefined ? [] : [policy.description]), ...keyDescriptions].join('; '),
    chaincodeDefinition: {
      name: bundle.chaincode.name,
      version: bundle.chaincode.version,
      sequence: bundle.chaincode.sequence,
      committedBy: definition.committedBy,
      policySetBy: definition.policySetBy,
    },
    ordererPolicy: ordererOutcome.description,
    configs: transactionConfig === config ? [config] : [config, transactionConfig],
  };
}

/** The version of a bundle of this format older than the one this code reads, if it is one. */
function olderVersion(input: unknown): number | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const { format, version } = input as { format?: unknown; version?: unknown };
  return format === proofFormat && version === 1 ? version : undefined;
}

/** The root CA fingerprints of every MSP of the configurations, each MSP once (the latest configuration's first). */
function trustAnchorsOf(configs: readonly ChannelConfig[]): NonNullable<ProofVerdict['trustAnchors']> {
  const anchors = new Map<string, string[]>();
  for (const config of configs)
    for (const member of config.msps)
      if (!anchors.has(member.mspId))
        anchors.set(
          member.mspId,
          member.roots.map((root) => root.fingerprint256),
        );
  return [...anchors].map(([mspId, rootFingerprints]) => ({ mspId, rootFingerprints }));
}

/**
 * Verifies a proof bundle offline (no network): the bundle's headers, each run of
 * consecutive blocks linked by previous_hash up to a block the orderers signed (per the
 * channel's /Channel/Orderer/BlockValidation policy of the latest configuration, which the
 * newest block's signed metadata names), the configuration blocks and the transaction's
 * block hashed into those headers, the transaction in
 * its block with a VALID flag, the client's signature, every endorsement's signature,
 * each signer's certificate chaining to its MSP in the configuration, and the
 * endorsements satisfying the endorsement policy of the chaincode definition they were
 * validated under, read from the `_lifecycle` transaction that committed it (hashed into
 * the same headers), and the key-level policies of the keys they wrote (one entry per key;
 * where an earlier block holds the setting transaction is the exporter's word, and the
 * verdict says so). For a record's proof, the kind and id of `record` must give the key it
 * names (the chaincode's key layout, `recordKey`) and the transaction must have written
 * it. A version 1 bundle is refused (its chaincode policy is bound to nothing); a version 2
 * bundle (one run of headers to the newest block) is read as version 3. Stops at the first
 * failure.
 *
 * Certificates are judged at times the bundle's signatures bind, never at `exportedAt`,
 * which nobody signs: the creator's and endorsers' at the transaction's channel-header
 * timestamp (the creator signs it, the endorsers sign the proposal's hash, and the block
 * data the orderers sign holds it); a key-level policy's setter's at its own transaction's
 * timestamp; the orderers' at some moment from the transaction's timestamp to the
 * verification, since they signed its block and the newest one after it (and the block of
 * each other run of headers) and nothing dates those signatures (a certificate renewed since counts; one expired or revoked before the
 * transaction does not).
 *
 * @param input - the parsed JSON of a bundle (see `proofBundleSchema`); never throws on bad input.
 * @returns the verdict, with the failure's code, place and reason when it does not hold.
 */
export function verifyProof(input: unknown): ProofVerdict {
  const older = olderVersion(input);
  if (older !== undefined)
    return {
      valid: false,
      failures: [
        {
          code: 'BUNDLE_FORMAT',
          where: 'version',
          message: `version: a version ${older} bundle carries the chaincode policy as the peer's state held it at export, bound to no ledger transaction; export the proof again`,
        },
      ],
      notChecked,
    };
  const parsed = proofBundleSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      valid: false,
      failures: [
        {
          code: 'BUNDLE_FORMAT',
          where: issue?.path.join('.') ?? '',
          message: `not a proof bundle: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
        },
      ],
      notChecked,
    };
  }
  try {
    const checked = check(structuredClone(parsed.data));
    return {
      valid: true,
      failures: [],
      transaction: checked.transaction,
      signedBlock: checked.signedBlock,
      ...(checked.anchoredBlocks.length === 0 ? {} : { anchoredBlocks: checked.anchoredBlocks }),
      endorsementPolicy: checked.endorsementPolicy,
      chaincodeDefinition: checked.chaincodeDefinition,
      ...(parsed.data.record === undefined ? {} : { record: parsed.data.record }),
      ordererPolicy: checked.ordererPolicy,
      trustAnchors: trustAnchorsOf(checked.configs),
      notChecked,
    };
  } catch (error) {
    if (error instanceof Refusal) return { valid: false, failures: [error.failure], notChecked };
    return {
      valid: false,
      failures: [
        {
          code: 'ENCODING',
          where: 'bundle',
          message: `bundle: cannot be decoded: ${error instanceof Error ? error.message : String(error)}`,
        },
      ],
      notChecked,
    };
  }
}
