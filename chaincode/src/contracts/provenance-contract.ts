import { Info } from 'fabric-contract-api';
import {
  registeredSubjectDataSchema,
  datasetSubjectDataTransientKey,
  provenanceContractName,
  provenanceEvents,
  provenanceTransactions as spec,
} from '../model/provenance';
import { contractClass, transaction } from '../ledger/contract-class';
import { announcing, emitEvent, eventBase } from '../ledger/events';
import { parseTransient } from '../ledger/transient';
import * as access from './provenance/access';
import * as erasure from './provenance/erasure';
import { readLineage } from './provenance/lineage';
import { registerDataset, registerModel } from './provenance/records';
import { requireProvenanceRecord } from './provenance/store';

/**
 * Dataset and model provenance. Records carry a content hash (the first registrant
 * keeps it), licence, GDPR legal basis, PII class and retention; derived records name
 * their parents, which must exist first, so lineage is acyclic. Dataset controllers
 * grant access for a purpose and scope until an expiry, and every use is logged under
 * its own key. Personal data in private collections (agreement terms, dataset subject
 * data) is erased on its controller's request with Fabric's purge, leaving the hash and
 * a verifiable receipt.
 */
@Info({ title: 'Provenance', description: 'Datasets, models, lineage, access grants and GDPR erasure receipts' })
export class ProvenanceContract extends contractClass(provenanceContractName, {
  /**
   * Registers a dataset; the caller becomes its controller. Subject data, if any, comes
   * in the transient map under `subjectData` and only its hash reaches the channel.
   */
  registerDataset: transaction(spec.registerDataset, {
    prepare: (tx) =>
      tx.ctx.stub.getTransient().has(datasetSubjectDataTransientKey)
        ? parseTransient(tx.ctx, datasetSubjectDataTransientKey, registeredSubjectDataSchema)
        : undefined,
    fingerprint: (request, subjectData) => ({ request, subjectData: subjectData ?? null }),
    run: async (tx, request, subjectData) => {
      const record = await registerDataset(tx, request, subjectData);
      emitEvent(tx.ctx, provenanceEvents.datasetRegistered, { ...eventBase(tx), record });
      return record;
    },
  }),
  registerModel: transaction(
    spec.registerModel,
    announcing(provenanceEvents.modelRegistered, registerModel, (record) => ({ record })),
  ),
  grantAccess: transaction(
    spec.grantAccess,
    announcing(provenanceEvents.accessGranted, access.grantAccess, (grant) => ({ grant })),
  ),
  revokeAccess: transaction(
    spec.revokeAccess,
    announcing(provenanceEvents.accessRevoked, access.revokeAccess, (grant) => ({ grant })),
  ),
  /** The grantee logs one use of its grant; the access id is this transaction's id. */
  recordAccess: transaction(
    spec.recordAccess,
    announcing(provenanceEvents.accessRecorded, access.recordAccess, (entry) => ({ access: entry })),
  ),
  /** GDPR Art. 17 erasure of agreement terms or dataset subject data, with a receipt. */
  requestErasure: transaction(
    spec.requestErasure,
    announcing(provenanceEvents.personalDataErased, erasure.requestErasure, (receipt) => ({ receipt })),
  ),
  /** A dataset or model record; provenance records are open to every member of the channel. */
  getRecord: transaction(spec.getRecord, (tx, request) => requireProvenanceRecord(tx.ctx, request.recordId)),
  /** Ancestors or descendants of a record as a graph, up to a depth (3 by default, at most 10). */
  getLineage: transaction(spec.getLineage, (tx, request) =>
    readLineage(tx.ctx, { ...request, depth: request.depth ?? 3 }),
  ),
  getAccessGrant: transaction(spec.getAccessGrant, (tx, request) =>
    access.getAccessGrant(tx.ctx, tx.caller, request.grantId),
  ),
  listAccessGrants: transaction(spec.listAccessGrants, (tx, request) =>
    access.listAccessGrants(tx.ctx, tx.caller, request),
  ),
  /** Every logged use of a dataset's grants, for its controller and auditors. */
  listAccessLog: transaction(spec.listAccessLog, (tx, request) => access.listAccessLog(tx.ctx, tx.caller, request)),
  getSubjectData: transaction(spec.getSubjectData, (tx, request) =>
    erasure.getSubjectData(tx.ctx, tx.caller, request.datasetId),
  ),
  getErasureReceipt: transaction(spec.getErasureReceipt, (tx, request) =>
    erasure.getErasureReceipt(tx.ctx, tx.caller, request.receiptId),
  ),
  /** Checks an erasure receipt against the ledger as it is now. */
  verifyErasure: transaction(spec.verifyErasure, (tx, request) =>
    erasure.verifyErasure(tx.ctx, tx.caller, request.receiptId),
  ),
}) {}
