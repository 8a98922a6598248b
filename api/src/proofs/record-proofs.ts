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
import {
  recordKey,
  recordValueProblem,
  type LedgerClient,
  type ProofBundle,
  type RecordKind,
} from '@gigledger/gateway';
import { notFound } from '../errors/api-error.js';
import { bundleTransaction } from './bundle-transaction.js';

/** What a proof of a record needs of it: the transaction that last wrote it. */
export interface RecordWriter {
  readonly transactionId: string;
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
 * `GET /v1/proofs/records/{kind}/{id}`: the kinds whose keys the gateway's `recordKey`
 * knows, so that the verifier can tell the record's key from its kind and id. Each record
 * keeps the id of the transaction that last wrote it (`updatedTxId`, or `txId` and a
 * revocation's for records written once and then revoked); agreements are found through
 * their key history.
 */
export const provableKinds = {
  agreement: {
    id: agreementIdSchema,
    writer: async (client, agreementId) => {
      const view = await client.agreements.getAgreement({ agreementId });
      const [latest] = view.history;
      return { transactionId: latest?.txId ?? view.agreement.updatedTxId };
    },
  },
  milestone: {
    id: milestoneRefSchema,
    writer: async (client, id) => {
      const [agreementId = '', milestoneId = ''] = id.split('/');
      return { transactionId: (await milestoneOf(client, agreementId, milestoneId)).updatedTxId };
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
      return { transactionId: milestone.updatedTxId };
    },
  },
  credential: {
    id: credentialRequestSchema.shape.credentialId,
    writer: async (client, credentialId) => ({
      transactionId: (await client.credentials.getCredential({ credentialId })).updatedTxId,
    }),
  },
  proposal: {
    id: proposalRefSchema.shape.proposalId,
    writer: async (client, proposalId) => ({
      transactionId: (await client.governance.getProposal({ proposalId })).proposal.updatedTxId,
    }),
  },
  work: {
    id: workRefRequestSchema.shape.workId,
    writer: async (client, workId) => ({ transactionId: (await client.ip.getWork({ workId })).updatedTxId }),
  },
  'licence-offer': {
    id: offerRefSchema.shape.offerId,
    writer: async (client, offerId) => ({
      transactionId: (await client.licensing.getOffer({ offerId })).updatedTxId,
    }),
  },
  licence: {
    id: grantRefSchema.shape.grantId,
    writer: async (client, grantId) => ({
      transactionId: (await client.licensing.getGrant({ grantId })).updatedTxId,
    }),
  },
  'provenance-record': {
    id: provenanceRecordRefSchema.shape.recordId,
    writer: async (client, recordId) => {
      // An erasure of a dataset's subject data rewrites the record after its registration.
      const record = await client.provenance.getRecord({ recordId });
      return { transactionId: record.updatedTxId ?? record.txId };
    },
  },
  'dataset-access-grant': {
    id: accessGrantRefSchema.shape.grantId,
    writer: async (client, grantId) => {
      const grant = await client.provenance.getAccessGrant({ grantId });
      return { transactionId: grant.revocation?.txId ?? grant.txId };
    },
  },
  'audit-grant': {
    id: auditGrantRefSchema.shape.grantId,
    writer: async (client, grantId) => ({
      transactionId: (await client.audit.getAuditGrant({ grantId })).updatedTxId,
    }),
  },
  parameter: {
    id: parameterNameSchema,
    writer: async (client, name) => ({
      transactionId: (await client.parameters.getParameter({ name: parameterNameSchema.parse(name) })).txId,
    }),
  },
} satisfies Record<RecordKind, ProvableKind>;

/** A kind of record `GET /v1/proofs/records/{kind}/{id}` proves. */
export type ProvableKindName = keyof typeof provableKinds;

/** Every provable kind, in the order the API documents them. */
export const provableKindNames = Object.keys(provableKinds) as [ProvableKindName, ...ProvableKindName[]];

/**
 * The write among a transaction's public writes of `namespace` that holds record `id` of
 * `kind`: the one under the record's own key (`recordKey`), whose value holds the record
 * (a payout's milestone lists it). Undefined when the transaction wrote no such value. A
 * transaction that writes a record also writes index entries and related records naming
 * its id (a work's ownership change, an agreement's milestones), so the key decides.
 *
 * @throws Error when `id` is not of the kind's form (ids are parsed by `provableKinds` first).
 */
export function recordKeyOf(
  writes: readonly { readonly namespace: string; readonly key: string; readonly value: Uint8Array }[],
  namespace: string,
  kind: ProvableKindName,
  id: string,
): { namespace: string; key: string } | undefined {
  const key = recordKey(kind, id);
  // The last write of a key is the one the ledger keeps.
  const write = writes.findLast((candidate) => candidate.namespace === namespace && candidate.key === key);
  if (write === undefined || recordValueProblem(kind, id, write.value) !== undefined) return undefined;
  return { namespace, key };
}

/**
 * The bundle of a record's last writer with its `record` part: the record, and the key
 * among the transaction's writes that holds it. Undefined when the transaction wrote no
 * value of the record (the record named a writer that did not write it).
 *
 * @throws Error when the bundle's transaction cannot be decoded.
 */
export function withRecord(bundle: ProofBundle, kind: ProvableKindName, id: string): ProofBundle | undefined {
  const found = recordKeyOf(bundleTransaction(bundle).writes, bundle.chaincode.name, kind, id);
  return found === undefined ? undefined : { ...bundle, record: { kind, id, ...found } };
}
