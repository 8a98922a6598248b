import { z } from 'zod';
import {
  accessGrantRefSchema,
  agreementIdSchema,
  auditGrantRefSchema,
  credentialRequestSchema,
  grantRefSchema,
  instructionKinds,
  milestoneIdSchema,
  offerRefSchema,
  parameterNameSchema,
  proposalRefSchema,
  provenanceRecordRefSchema,
  workRefRequestSchema,
  type MilestoneRecord,
} from '@gigledger/chaincode/model';
import type { LedgerClient, ProofBundle } from '@gigledger/gateway';
import { notFound } from '../errors/api-error.js';
import { bundleTransaction } from './bundle-transaction.js';

/** What a proof of a record needs of it: the transaction that last wrote it, and how to tell its stored value. */
export interface RecordWriter {
  readonly transactionId: string;
  /** Whether a stored JSON value among the transaction's writes is the one that holds the record. */
  readonly holds: (value: Record<string, unknown>) => boolean;
}

/** A writer whose record is the stored value with `id` in its field `idField`. */
function writerById(transactionId: string, idField: string, id: string): RecordWriter {
  return { transactionId, holds: (value) => value[idField] === id };
}

/**
 * A milestone's id in a proof request: `<agreementId>/<milestoneId>`, each part by the
 * chaincode's own schema.
 */
const milestoneRefSchema = z.string().transform((value, context) => {
  const parts = value.split('/');
  const agreementId = agreementIdSchema.safeParse(parts[0]);
  const milestoneId = milestoneIdSchema.safeParse(parts[1]);
  if (parts.length !== 2 || !agreementId.success || !milestoneId.success) {
    context.addIssue({ code: 'custom', message: 'must be <agreementId>/<milestoneId>' });
    return z.NEVER;
  }
  return value;
});

/**
 * A payout's id: its settlement instruction's id, `<agreementId>/<milestoneId>/<kind>-<n>`
 * (the form the chaincode gives every instruction, kinds `fund-escrow`, `release`, `refund`).
 */
const instructionRefSchema = z.string().transform((value, context) => {
  const parts = value.split('/');
  const [agreementId, milestoneId, numbered] = parts;
  const kindAndNumber = /^(.+)-([1-9][0-9]{0,5})$/.exec(numbered ?? '');
  if (
    parts.length !== 3 ||
    !agreementIdSchema.safeParse(agreementId).success ||
    !milestoneIdSchema.safeParse(milestoneId).success ||
    kindAndNumber === null ||
    !(instructionKinds as readonly string[]).includes(kindAndNumber[1] ?? '')
  ) {
    context.addIssue({
      code: 'custom',
      message: `must be <agreementId>/<milestoneId>/<kind>-<n> with kind ${instructionKinds.join(', ')}`,
    });
    return z.NEVER;
  }
  return value;
});

/** The milestone `<agreementId>/<milestoneId>` as the caller reads it through the chaincode. */
async function milestoneOf(client: LedgerClient, agreementId: string, milestoneId: string): Promise<MilestoneRecord> {
  const view = await client.agreements.getAgreement({ agreementId });
  const milestone = view.milestones.find((candidate) => candidate.milestoneId === milestoneId);
  if (milestone === undefined) throw notFound(`milestone ${agreementId}/${milestoneId}`, 'id');
  return milestone;
}

/** A milestone's stored value: both parts of its key are in it. */
function holdsMilestone(agreementId: string, milestoneId: string) {
  return (value: Record<string, unknown>) =>
    value['agreementId'] === agreementId && value['milestoneId'] === milestoneId;
}

/** One kind of record a proof can be asked for by its id. */
interface ProvableKind {
  /** The chaincode's own schema of the id, so a malformed id is refused as the chaincode would. */
  readonly id: z.ZodType<string>;
  /**
   * Reads the record through the chaincode as the caller (the chaincode's visibility,
   * audit grants included) and names its last writer.
   */
  readonly writer: (client: LedgerClient, id: string) => Promise<RecordWriter>;
}

/**
 * The records a proof can be asked for, by the kind named in
 * `GET /v1/proofs/records/{kind}/{id}`. Each record keeps the id of the transaction that
 * last wrote it (`updatedTxId`, or `txId` and a revocation's for records written once and
 * then revoked); agreements are found through their key history.
 */
export const provableKinds = {
  agreement: {
    id: agreementIdSchema,
    writer: async (client, agreementId) => {
      const view = await client.agreements.getAgreement({ agreementId });
      const [latest] = view.history;
      return writerById(latest?.txId ?? view.agreement.updatedTxId, 'agreementId', agreementId);
    },
  },
  milestone: {
    id: milestoneRefSchema,
    writer: async (client, id) => {
      const [agreementId = '', milestoneId = ''] = id.split('/');
      const milestone = await milestoneOf(client, agreementId, milestoneId);
      return { transactionId: milestone.updatedTxId, holds: holdsMilestone(agreementId, milestoneId) };
    },
  },
  /*
   * A payout lives in its milestone's record, so its proof is the milestone's last write:
   * it shows the instruction's latest status (held, pending, paid, failed) and, on a
   * payout to the freelancer, the compliance check that cleared or held it.
   */
  payout: {
    id: instructionRefSchema,
    writer: async (client, instructionId) => {
      const [agreementId = '', milestoneId = ''] = instructionId.split('/');
      const milestone = await milestoneOf(client, agreementId, milestoneId);
      if (!milestone.instructions.some((instruction) => instruction.instructionId === instructionId))
        throw notFound(`payout ${instructionId}`, 'id');
      return { transactionId: milestone.updatedTxId, holds: holdsMilestone(agreementId, milestoneId) };
    },
  },
  credential: {
    id: credentialRequestSchema.shape.credentialId,
    writer: async (client, credentialId) =>
      writerById((await client.credentials.getCredential({ credentialId })).updatedTxId, 'credentialId', credentialId),
  },
  proposal: {
    id: proposalRefSchema.shape.proposalId,
    writer: async (client, proposalId) =>
      writerById((await client.governance.getProposal({ proposalId })).proposal.updatedTxId, 'proposalId', proposalId),
  },
  work: {
    id: workRefRequestSchema.shape.workId,
    writer: async (client, workId) => writerById((await client.ip.getWork({ workId })).updatedTxId, 'workId', workId),
  },
  'licence-offer': {
    id: offerRefSchema.shape.offerId,
    writer: async (client, offerId) =>
      writerById((await client.licensing.getOffer({ offerId })).updatedTxId, 'offerId', offerId),
  },
  licence: {
    id: grantRefSchema.shape.grantId,
    writer: async (client, grantId) =>
      writerById((await client.licensing.getGrant({ grantId })).updatedTxId, 'grantId', grantId),
  },
  'provenance-record': {
    id: provenanceRecordRefSchema.shape.recordId,
    writer: async (client, recordId) =>
      writerById((await client.provenance.getRecord({ recordId })).txId, 'recordId', recordId),
  },
  'dataset-access-grant': {
    id: accessGrantRefSchema.shape.grantId,
    writer: async (client, grantId) => {
      const grant = await client.provenance.getAccessGrant({ grantId });
      return writerById(grant.revocation?.txId ?? grant.txId, 'grantId', grantId);
    },
  },
  'audit-grant': {
    id: auditGrantRefSchema.shape.grantId,
    writer: async (client, grantId) =>
      writerById((await client.audit.getAuditGrant({ grantId })).updatedTxId, 'grantId', grantId),
  },
  parameter: {
    id: parameterNameSchema,
    writer: async (client, name) =>
      writerById((await client.parameters.getParameter({ name: parameterNameSchema.parse(name) })).txId, 'name', name),
  },
} satisfies Record<string, ProvableKind>;

/** A kind of record `GET /v1/proofs/records/{kind}/{id}` proves. */
export type ProvableKindName = keyof typeof provableKinds;

/** Every provable kind, in the order the API documents them. */
export const provableKindNames = Object.keys(provableKinds) as [ProvableKindName, ...ProvableKindName[]];

/**
 * The key among a transaction's public writes that holds the record: the write whose
 * JSON value `holds` accepts. Undefined when the transaction wrote no such value.
 */
export function recordKeyOf(
  writes: readonly { readonly namespace: string; readonly key: string; readonly value: Uint8Array }[],
  holds: RecordWriter['holds'],
): { namespace: string; key: string } | undefined {
  for (const write of writes) {
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(write.value).toString('utf8'));
    } catch {
      continue;
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && holds(value as Record<string, unknown>))
      return { namespace: write.namespace, key: write.key };
  }
  return undefined;
}

/**
 * The bundle of a record's last writer with its `record` part: the record, and the key
 * among the transaction's writes that holds it. Undefined when the transaction wrote no
 * value of the record (the record named a writer that did not write it).
 */
export function withRecord(
  bundle: ProofBundle,
  kind: ProvableKindName,
  id: string,
  writer: RecordWriter,
): ProofBundle | undefined {
  const found = recordKeyOf(bundleTransaction(bundle).writes, writer.holds);
  return found === undefined ? undefined : { ...bundle, record: { kind, id, ...found } };
}
