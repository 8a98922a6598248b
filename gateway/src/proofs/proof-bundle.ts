import { common, msp } from '@hyperledger/fabric-protos';
import { z } from 'zod';

/**
 * Whether a text is the one standard base64 encoding of its bytes: the unused bits of a
 * last character, and the padding, may differ without changing the bytes, which would let
 * two texts of one signed document say the same.
 */
export function isCanonicalBase64(text: string): boolean {
  return Buffer.from(text, 'base64').toString('base64') === text;
}

/** Standard base64 of binary Fabric structures (protobuf bytes as the ledger holds them). */
const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be standard base64')
  .refine((value) => value.length % 4 === 0, 'must be standard base64 (length a multiple of 4)')
  // The unused bits of a last character may be set without changing the bytes: only the
  // one form the exporter writes is taken, so that no two texts of a bundle say the same.
  .refine(isCanonicalBase64, 'must be canonical base64 (the bits after the last byte zero)');

const blockNumber = z.number().int().nonnegative();

/** The name the `format` field carries; a verifier refuses any other. */
export const proofFormat = 'gigledger.fabric-transaction-proof';
/**
 * The version of the format this code writes. Version 1 carried the chaincode policy as
 * read from the peer's state at export time, bound by no hash; its bundles are refused with
 * that reason (export them again). Version 2 carried one unbroken header chain from the
 * lowest block a part came from to the newest block (one header per block: it grew with the
 * ledger); its bundles still verify, where their headers make that one run.
 */
export const proofVersion = 3;

/** The versions a verifier reads: the one written, and 2, whose bundles stay valid. */
export const readableProofVersions = [2, proofVersion] as const;

/**
 * A proof that a transaction is on a Fabric channel's ledger, verifiable offline
 * (version 3). Binary parts are standard base64 of the bytes the ledger holds:
 *
 * - `transaction.envelope`: the `common.Envelope` exactly as it sits in its block's data
 *   (client signature, proposal, endorsements).
 * - `block.header` / `block.data`: the `common.BlockHeader` and `common.BlockData` of the
 *   block holding it; `block.signatures` is that block's `common.Metadata` at index
 *   SIGNATURES. `block.validationCode` is the peer's `TxValidationCode` name for the
 *   transaction: Fabric writes the TRANSACTIONS_FILTER after ordering and nobody signs it,
 *   so the bundle carries only this transaction's flag, as the exporting peer recorded it.
 * - `headers`: the `common.BlockHeader` of each block a part of the bundle comes from (the
 *   transaction's, the configuration blocks', the chaincode definition commits') and of the
 *   signed block, in ascending block order. Consecutive blocks form a run, each header
 *   linked to the one before by its `previous_hash`; the last block of every run carries
 *   orderer signatures in the bundle: the signed block's (`signedBlock`), the transaction
 *   block's (`block.signatures`) or an entry of `anchors` (ascending too). Every ECDSA
 *   signature is in the low-S form Fabric signs and accepts. A bundle's size therefore does not
 *   grow with the ledger's height (version 2 carried every header from the lowest part's
 *   block to the newest). When the configuration the signed block names no longer accepts
 *   the orderer signatures of an anchor (its orderer removed, or its certificate expired
 *   or revoked before the transaction was created), the exporter sends instead one run of
 *   headers from the lowest part's block to the newest, as version 2 did.
 * - `signedBlock.signatures`: the signed block's `common.Metadata` at index SIGNATURES
 *   (orderer signatures over metadata value ‖ signature header ‖ ASN.1 header). The signed
 *   block is the newest block when exported: its metadata names the latest configuration.
 * - `anchors`: the SIGNATURES metadata of every other block that ends a run of `headers`.
 * - `config.data`: the `common.BlockData` of the channel's latest configuration block,
 *   whose MSPs (root and intermediate CA certificates, node OUs) and policies the verifier reads.
 * - `transactionConfig`: when the configuration in force at the transaction's block (the
 *   one its signed metadata names) is not the latest, that configuration block's
 *   `common.BlockData`: the transaction's signers and a channel policy its definition
 *   refers to are judged by the organisations of that time (an organisation removed since
 *   still counts for what it endorsed while a member). Its block's header is in `headers`.
 * - `chaincode.definition`: the `_lifecycle` transactions (CommitChaincodeDefinition)
 *   that committed the definition the transaction was validated under, newest first, each
 *   with its block's `common.BlockData` (hashed into that block's header in `headers`) and
 *   its position there. The first is the one that wrote the definition's sequence key at
 *   the version the transaction read it (Fabric adds that read to every invocation, and
 *   its MVCC check held it current at commit); each next one is where the previous one
 *   read the sequence, up to the commit that wrote the validation parameter (a commit
 *   writes only the fields that changed). The policy is read from that write set, and
 *   `chaincode.sequence` is the sequence the first one wrote; `chaincode.version` is the
 *   version the endorsers named in their response.
 * - `keyPolicies`: for each public key of the chaincode's namespace the transaction wrote
 *   that had a key-level (state-based) endorsement policy when it was validated, the
 *   signed envelope of the transaction whose metadata write set that policy
 *   (`VALIDATION_PARAMETER`), with its block number and position. The policy is read from
 *   that envelope, whose client and endorser signatures the verifier checks; bundles
 *   written before key-level policies were exported lack the field.
 * - `record`: for the proof of a record (`GET /v1/proofs/records/{kind}/{id}`), which
 *   record and which key of the chaincode's namespace holds it; the verifier checks that
 *   the transaction wrote that key.
 */
export const proofBundleSchema = z.strictObject({
  format: z.literal(proofFormat),
  version: z.literal(readableProofVersions),
  channel: z.string().min(1),
  transactionId: z.string().regex(/^[0-9a-f]{64}$/),
  exportedAt: z.iso.datetime(),
  transaction: z.strictObject({ index: z.number().int().nonnegative(), envelope: base64 }),
  block: z.strictObject({
    number: blockNumber,
    header: base64,
    data: base64,
    signatures: base64,
    validationCode: z.string().min(1),
  }),
  headers: z.array(base64).min(1),
  signedBlock: z.strictObject({ number: blockNumber, signatures: base64 }),
  anchors: z.array(z.strictObject({ number: blockNumber, signatures: base64 })).optional(),
  config: z.strictObject({ blockNumber, data: base64 }),
  transactionConfig: z.strictObject({ blockNumber, data: base64 }).optional(),
  chaincode: z.strictObject({
    name: z.string().min(1),
    version: z.string(),
    sequence: z.number().int().positive(),
    definition: z
      .array(
        z.strictObject({
          transactionId: z.string().regex(/^[0-9a-f]{64}$/),
          block: blockNumber,
          index: z.number().int().nonnegative(),
          data: base64,
        }),
      )
      .min(1),
  }),
  keyPolicies: z
    .array(
      z.strictObject({
        namespace: z.string().min(1),
        key: z.string(),
        setBy: z.strictObject({
          transactionId: z.string().regex(/^[0-9a-f]{64}$/),
          block: blockNumber,
          index: z.number().int().nonnegative(),
          envelope: base64,
        }),
      }),
    )
    .optional(),
  record: z
    .strictObject({ kind: z.string().min(1), id: z.string().min(1), namespace: z.string().min(1), key: z.string() })
    .optional(),
});

/** A parsed proof bundle (see {@link proofBundleSchema} for each field). */
export type ProofBundle = z.infer<typeof proofBundleSchema>;

/** One binary field of a bundle, by its path, for tools that inspect or alter it. */
export interface BinaryPart {
  readonly path: string;
  get(): string;
  set(value: string): void;
}

/** Every binary field of a bundle (the parts a one-byte change must break). */
export function binaryParts(bundle: ProofBundle): BinaryPart[] {
  const { transaction, block, signedBlock, config } = bundle;
  const parts: BinaryPart[] = [
    { path: 'transaction.envelope', get: () => transaction.envelope, set: (value) => (transaction.envelope = value) },
    { path: 'block.header', get: () => block.header, set: (value) => (block.header = value) },
    { path: 'block.data', get: () => block.data, set: (value) => (block.data = value) },
    { path: 'block.signatures', get: () => block.signatures, set: (value) => (block.signatures = value) },
    {
      path: 'signedBlock.signatures',
      get: () => signedBlock.signatures,
      set: (value) => (signedBlock.signatures = value),
    },
    { path: 'config.data', get: () => config.data, set: (value) => (config.data = value) },
    ...bundle.headers.map((header, index) => ({
      path: `headers.${index}`,
      get: () => bundle.headers[index] ?? header,
      set: (value: string) => (bundle.headers[index] = value),
    })),
  ];
  (bundle.anchors ?? []).forEach((anchor, index) =>
    parts.push({
      path: `anchors.${index}.signatures`,
      get: () => anchor.signatures,
      set: (value) => (anchor.signatures = value),
    }),
  );
  const transactionConfig = bundle.transactionConfig;
  if (transactionConfig !== undefined)
    parts.push({
      path: 'transactionConfig.data',
      get: () => transactionConfig.data,
      set: (value) => (transactionConfig.data = value),
    });
  (bundle.keyPolicies ?? []).forEach((entry, index) =>
    parts.push({
      path: `keyPolicies.${index}.setBy.envelope`,
      get: () => entry.setBy.envelope,
      set: (value) => (entry.setBy.envelope = value),
    }),
  );
  bundle.chaincode.definition.forEach((entry, index) =>
    parts.push({
      path: `chaincode.definition.${index}.data`,
      get: () => entry.data,
      set: (value) => (entry.data = value),
    }),
  );
  return parts;
}

/**
 * The MSP id of the identity that created (signed) the bundle's transaction, read from
 * its envelope's signature header without verifying anything.
 *
 * @throws Error when the envelope cannot be decoded.
 */
export function proofCreatorMspId(bundle: ProofBundle): string {
  const envelope = common.Envelope.deserializeBinary(Buffer.from(bundle.transaction.envelope, 'base64'));
  const header = common.Payload.deserializeBinary(envelope.getPayload_asU8()).getHeader();
  const signatureHeader = common.SignatureHeader.deserializeBinary(
    header?.getSignatureHeader_asU8() ?? new Uint8Array(),
  );
  return msp.SerializedIdentity.deserializeBinary(signatureHeader.getCreator_asU8()).getMspid();
}
