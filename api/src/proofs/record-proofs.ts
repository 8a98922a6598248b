import type { z } from 'zod';
import {
  accessGrantRefSchema,
  agreementIdSchema,
  credentialRequestSchema,
  grantRefSchema,
  offerRefSchema,
  proposalRefSchema,
  provenanceRecordRefSchema,
  workRefRequestSchema,
} from '@gigledger/chaincode/model';
import type { LedgerClient, ProofBundle } from '@gigledger/gateway';
import { bundleTransaction } from './bundle-transaction.js';

/** What a proof of a record needs of it: the transaction that last wrote it, and the field holding its id in the stored value. */
export interface RecordWriter {
  readonly transactionId: string;
  /** The id's field in the record's stored JSON, which picks the record's key out of the transaction's writes. */
  readonly idField: string;
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
      return { transactionId: latest?.txId ?? view.agreement.updatedTxId, idField: 'agreementId' };
    },
  },
  credential: {
    id: credentialRequestSchema.shape.credentialId,
    writer: async (client, credentialId) => ({
      transactionId: (await client.credentials.getCredential({ credentialId })).updatedTxId,
      idField: 'credentialId',
    }),
  },
  proposal: {
    id: proposalRefSchema.shape.proposalId,
    writer: async (client, proposalId) => ({
      transactionId: (await client.governance.getProposal({ proposalId })).proposal.updatedTxId,
      idField: 'proposalId',
    }),
  },
  work: {
    id: workRefRequestSchema.shape.workId,
    writer: async (client, workId) => ({
      transactionId: (await client.ip.getWork({ workId })).updatedTxId,
      idField: 'workId',
    }),
  },
  'licence-offer': {
    id: offerRefSchema.shape.offerId,
    writer: async (client, offerId) => ({
      transactionId: (await client.licensing.getOffer({ offerId })).updatedTxId,
      idField: 'offerId',
    }),
  },
  licence: {
    id: grantRefSchema.shape.grantId,
    writer: async (client, grantId) => ({
      transactionId: (await client.licensing.getGrant({ grantId })).updatedTxId,
      idField: 'grantId',
    }),
  },
  'provenance-record': {
    id: provenanceRecordRefSchema.shape.recordId,
    writer: async (client, recordId) => ({
      transactionId: (await client.provenance.getRecord({ recordId })).txId,
      idField: 'recordId',
    }),
  },
  'dataset-access-grant': {
    id: accessGrantRefSchema.shape.grantId,
    writer: async (client, grantId) => {
      const grant = await client.provenance.getAccessGrant({ grantId });
      return { transactionId: grant.revocation?.txId ?? grant.txId, idField: 'grantId' };
    },
  },
} satisfies Record<string, ProvableKind>;

/** A kind of record `GET /v1/proofs/records/{kind}/{id}` proves. */
export type ProvableKindName = keyof typeof provableKinds;

/** Every provable kind, in the order the API documents them. */
export const provableKindNames = Object.keys(provableKinds) as [ProvableKindName, ...ProvableKindName[]];

/**
 * The key among a transaction's public writes that holds the record: the write whose
 * JSON value carries the id in its id field. Undefined when the transaction wrote no such value.
 */
export function recordKeyOf(
  writes: readonly { readonly namespace: string; readonly key: string; readonly value: Uint8Array }[],
  idField: string,
  id: string,
): { namespace: string; key: string } | undefined {
  for (const write of writes) {
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(write.value).toString('utf8'));
    } catch {
      continue;
    }
    if (typeof value === 'object' && value !== null && (value as Record<string, unknown>)[idField] === id)
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
  const found = recordKeyOf(bundleTransaction(bundle).writes, writer.idField, id);
  return found === undefined ? undefined : { ...bundle, record: { kind, id, ...found } };
}
