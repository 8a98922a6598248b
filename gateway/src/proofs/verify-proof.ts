import { createHash, verify as verifySignature, type X509Certificate } from 'node:crypto';
import { common, peer } from '@hyperledger/fabric-protos';
import { blockDataHash, blockHeaderBytes, blockHeaderHash, type HeaderFields } from './block-hash.js';
import { readChannelConfig, type ChannelConfig } from './channel-config.js';
import { checkIdentity, type CheckedIdentity } from './identities.js';
import { evaluateConfigPolicy, evaluateSignaturePolicy, type PolicyOutcome } from './policy.js';
import { proofBundleSchema, type ProofBundle } from './proof-bundle.js';

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
    | 'ENDORSEMENT_POLICY';
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
  /** The block whose orderer signatures anchor the chain, and who signed it. */
  readonly signedBlock?: { readonly number: number; readonly signers: readonly string[] };
  readonly endorsementPolicy?: string;
  readonly ordererPolicy?: string;
  /**
   * SHA-256 fingerprints of the root CA certificates of each MSP in the configuration:
   * the trust anchors a third party compares with those it knows out of band.
   */
  readonly trustAnchors?: readonly { readonly mspId: string; readonly rootFingerprints: readonly string[] }[];
  /** What this proof cannot show, so that nobody reads more into it. */
  readonly notChecked: readonly string[];
}

const notChecked = [
  'the validation flag is the exporting peer’s record (Fabric does not sign TRANSACTIONS_FILTER); MVCC read conflicts need the state and are not re-checked',
  'key-level (state-based) endorsement policies live in the peers’ state and are not in the bundle; the chaincode-level policy was evaluated',
  'the endorsement policy is the chaincode definition at export time, read from _lifecycle, not bound by a hash',
  'revocation is judged at the transaction’s time: a certificate an MSP’s revocation list names with a later date still counts',
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
  } catch (error) {
    refuse(
      'ENCODING',
      where,
      `${where} is not a valid protobuf message (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (!Buffer.from(message.serializeBinary()).equals(Buffer.from(bytes)))
    refuse('ENCODING', where, `${where} is not in its canonical encoding`);
  return message;
}

function fieldsOf(header: common.BlockHeader): HeaderFields {
  return {
    number: BigInt(header.getNumber()),
    previousHash: header.getPreviousHash_asU8(),
    dataHash: header.getDataHash_asU8(),
  };
}

function verifies(message: Uint8Array, signature: Uint8Array, certificate: X509Certificate): boolean {
  try {
    return verifySignature('sha256', message, certificate.publicKey, signature);
  } catch {
    return false;
  }
}

function trusted(identity: CheckedIdentity, where: string): CheckedIdentity {
  if (identity.untrusted !== undefined) refuse('CERTIFICATE', where, `${where}: ${identity.untrusted}`);
  return identity;
}

function identityAt(serialized: Uint8Array, config: ChannelConfig, at: Date, where: string): CheckedIdentity {
  try {
    return checkIdentity(serialized, config.msps, at);
  } catch (error) {
    refuse(
      'CERTIFICATE',
      where,
      `${where}: the identity cannot be read (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** Checks the orderer signatures of one block's SIGNATURES metadata; returns the valid signers. */
function ordererSigners(
  metadataBytes: Uint8Array,
  header: HeaderFields,
  config: ChannelConfig,
  at: Date,
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
    const place = `${where} orderer signature ${index}`;
    const signatureHeader = signature.getSignatureHeader_asU8();
    if (signatureHeader.length === 0)
      refuse('ORDERER_SIGNATURE', place, `${place} has no signature header (BFT identifier headers are not supported)`);
    const creator = common.SignatureHeader.deserializeBinary(signatureHeader).getCreator_asU8();
    const signer = trusted(identityAt(creator, config, at, place), place);
    if (signer.msp?.kind !== 'orderer')
      refuse('ORDERER_SIGNATURE', place, `${place} is by ${signer.mspId}, not an orderer organisation`);
    const signed = Buffer.concat([metadata.getValue_asU8(), signatureHeader, blockHeaderBytes(header)]);
    if (!verifies(signed, signature.getSignature_asU8(), signer.certificate))
      refuse(
        'ORDERER_SIGNATURE',
        place,
        `${place} does not verify over the metadata value, signature header and block header`,
      );
    signers.push(signer);
  });
  return signers;
}

interface Checked {
  transaction: NonNullable<ProofVerdict['transaction']>;
  signedBlock: NonNullable<ProofVerdict['signedBlock']>;
  endorsementPolicy: string;
  ordererPolicy: string;
  config: ChannelConfig;
}

function check(bundle: ProofBundle): Checked {
  // 1. The configuration: its MSPs and policies judge every signature below (its hash is checked in step 5).
  const configWhere = `configuration block ${bundle.config.blockNumber} data`;
  const configData = decodeExact(
    bytesOf(bundle.config.data),
    (bytes) => common.BlockData.deserializeBinary(bytes),
    configWhere,
  );
  let config: ChannelConfig;
  try {
    config = readChannelConfig(configData);
  } catch (error) {
    refuse('CONFIG', configWhere, `${configWhere}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (config.channel !== bundle.channel)
    refuse('CONFIG', configWhere, `${configWhere} is for channel ${config.channel}, not ${bundle.channel}`);
  // 2. The transaction: in its block's data, flagged VALID by the peer.
  const blockWhere = `block ${bundle.block.number}`;
  const data = decodeExact(
    bytesOf(bundle.block.data),
    (bytes) => common.BlockData.deserializeBinary(bytes),
    `${blockWhere} data`,
  );
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
  const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
  const channelHeader = common.ChannelHeader.deserializeBinary(
    payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
  );
  const signatureHeader = common.SignatureHeader.deserializeBinary(
    payload.getHeader()?.getSignatureHeader_asU8() ?? new Uint8Array(),
  );
  if (channelHeader.getType() !== common.HeaderType.ENDORSER_TRANSACTION)
    refuse('TRANSACTION_ID', txWhere, `${txWhere} is not an endorser transaction`);
  const computedId = createHash('sha256')
    .update(signatureHeader.getNonce_asU8())
    .update(signatureHeader.getCreator_asU8())
    .digest('hex');
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
    identityAt(signatureHeader.getCreator_asU8(), config, at, `${txWhere} creator`),
    `${txWhere} creator`,
  );
  const transaction = peer.Transaction.deserializeBinary(payload.getData_asU8());
  const actions = transaction.getActionsList();
  if (actions.length === 0) refuse('ENDORSEMENT_POLICY', txWhere, `${txWhere} carries no chaincode action`);
  const endorserIds = new Set<string>();
  let policy: PolicyOutcome | undefined;
  actions.forEach((action, actionIndex) => {
    const endorsed = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8()).getAction();
    if (endorsed === undefined)
      refuse(
        'ENDORSEMENT_POLICY',
        `${txWhere} action ${actionIndex}`,
        `${txWhere} action ${actionIndex} has no endorsed action`,
      );
    const responsePayload = endorsed.getProposalResponsePayload_asU8();
    const chaincodeAction = peer.ChaincodeAction.deserializeBinary(
      peer.ProposalResponsePayload.deserializeBinary(responsePayload).getExtension_asU8(),
    );
    const chaincode = chaincodeAction.getChaincodeId()?.getName();
    if (chaincode !== bundle.chaincode.name)
      refuse(
        'ENDORSEMENT_POLICY',
        `${txWhere} action ${actionIndex}`,
        `${txWhere} invokes chaincode ${chaincode ?? '(none)'}, the bundle's policy is for ${bundle.chaincode.name}`,
      );
    const endorsers = endorsed.getEndorsementsList().map((endorsement, index) => {
      const where = `${txWhere} endorsement ${index}`;
      const endorser = trusted(identityAt(endorsement.getEndorser_asU8(), config, at, where), where);
      if (
        !verifies(
          Buffer.concat([responsePayload, endorsement.getEndorser_asU8()]),
          endorsement.getSignature_asU8(),
          endorser.certificate,
        )
      )
        refuse(
          'ENDORSEMENT_SIGNATURE',
          where,
          `${where} (${endorser.mspId}): the signature over the proposal response payload and endorser does not verify`,
        );
      endorserIds.add(endorser.mspId);
      return endorser;
    });
    const required = bundle.chaincode.endorsementPolicy;
    policy =
      'channelConfigPolicyReference' in required
        ? evaluateConfigPolicy(config, required.channelConfigPolicyReference, endorsers)
        : evaluateSignaturePolicy(
            common.SignaturePolicyEnvelope.deserializeBinary(bytesOf(required.signaturePolicy)),
            endorsers,
          );
    if (!policy.satisfied)
      refuse(
        'ENDORSEMENT_POLICY',
        `${txWhere} action ${actionIndex}`,
        `${txWhere}: the endorsements (${[...endorserIds].join(', ')}) do not satisfy ${policy.description}`,
      );
  });
  // Last of the envelope, so that a changed endorsement is reported as such rather than as a broken client signature.
  if (!verifies(envelope.getPayload_asU8(), envelope.getSignature_asU8(), creator.certificate))
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

  // 5. The header chain, from its first block to the signed block, holding the block and the configuration.
  const headers = bundle.headers.map((text, index) =>
    decodeExact(bytesOf(text), (bytes) => common.BlockHeader.deserializeBinary(bytes), `headers.${index}`),
  );
  const first = headers[0]?.getNumber() ?? 0;
  const headerOf = (number: number, what: string): common.BlockHeader => {
    const header = headers[number - first];
    if (header === undefined)
      refuse(
        'HEADER_CHAIN',
        what,
        `${what}: block ${number} is not in the header chain (blocks ${first}–${first + headers.length - 1})`,
      );
    return header;
  };
  headers.forEach((header, index) => {
    if (header.getNumber() !== first + index)
      refuse(
        'HEADER_CHAIN',
        `headers.${index}`,
        `headers.${index} is block ${header.getNumber()}, expected ${first + index}`,
      );
    const previous = headers[index - 1];
    if (
      previous !== undefined &&
      !blockHeaderHash(fieldsOf(previous)).equals(Buffer.from(header.getPreviousHash_asU8()))
    )
      refuse(
        'HEADER_CHAIN',
        `block ${header.getNumber()} header`,
        `block ${header.getNumber()} header: previous_hash does not match the hash of block ${previous.getNumber()}`,
      );
  });
  const signedHeader = headerOf(bundle.signedBlock.number, 'signedBlock');
  if (signedHeader !== headers[headers.length - 1])
    refuse(
      'HEADER_CHAIN',
      'signedBlock',
      `the signed block ${bundle.signedBlock.number} is not the last header of the chain`,
    );
  if (
    !Buffer.from(blockHeader.serializeBinary()).equals(
      Buffer.from(headerOf(bundle.block.number, `${blockWhere} header`).serializeBinary()),
    )
  )
    refuse(
      'HEADER_CHAIN',
      `${blockWhere} header`,
      `${blockWhere} header differs from block ${bundle.block.number} in the header chain`,
    );
  ordererSigners(
    bytesOf(bundle.block.signatures),
    fieldsOf(blockHeader),
    config,
    new Date(bundle.exportedAt),
    blockWhere,
  );

  if (
    !blockDataHash(configData.getDataList_asU8()).equals(
      Buffer.from(headerOf(bundle.config.blockNumber, configWhere).getDataHash_asU8()),
    )
  )
    refuse('DATA_HASH', configWhere, `${configWhere}: SHA-256 of the data does not match the data_hash of its header`);

  // 6. The orderers signed the newest block (and with it, through the chain, every earlier header).
  const signedWhere = `block ${bundle.signedBlock.number}`;
  const ordererPolicyPath = '/Channel/Orderer/BlockValidation';
  // Orderer certificates are judged at the time the bundle says the block was read (its export).
  const signers = ordererSigners(
    bytesOf(bundle.signedBlock.signatures),
    fieldsOf(signedHeader),
    config,
    new Date(bundle.exportedAt),
    signedWhere,
  );
  const ordererOutcome = evaluateConfigPolicy(config, ordererPolicyPath, signers);
  if (!ordererOutcome.satisfied)
    refuse(
      'ORDERER_POLICY',
      signedWhere,
      `${signedWhere}: the orderer signatures do not satisfy ${ordererOutcome.description}`,
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
    signedBlock: {
      number: bundle.signedBlock.number,
      signers: signers.map((signer) => signer.certificate.subject.replaceAll('\n', ', ')),
    },
    endorsementPolicy: policy?.description ?? '',
    ordererPolicy: ordererOutcome.description,
    config,
  };
}

/**
 * Verifies a proof bundle offline (no network): the header chain up to a block the
 * orderers signed (per the channel's /Channel/Orderer/BlockValidation policy), the
 * configuration and the transaction's block hashed into that chain, the transaction in
 * its block with a VALID flag, the client's signature, every endorsement's signature,
 * each signer's certificate chaining to its MSP in the configuration, and the
 * endorsements satisfying the chaincode's endorsement policy. Stops at the first failure.
 *
 * @param input - the parsed JSON of a bundle (see `proofBundleSchema`); never throws on bad input.
 * @returns the verdict, with the failure's code, place and reason when it does not hold.
 */
export function verifyProof(input: unknown): ProofVerdict {
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
      endorsementPolicy: checked.endorsementPolicy,
      ordererPolicy: checked.ordererPolicy,
      trustAnchors: checked.config.msps.map((member) => ({
        mspId: member.mspId,
        rootFingerprints: member.roots.map((root) => root.fingerprint256),
      })),
      notChecked,
    };
  } catch (error) {
    if (error instanceof Refusal) return { valid: false, failures: [error.failure], notChecked };
    return {
      valid: false,
      failures: [
        {
          code: 'ENCODING',
          where: '',
          message: `the bundle cannot be decoded: ${error instanceof Error ? error.message : String(error)}`,
        },
      ],
      notChecked,
    };
  }
}
