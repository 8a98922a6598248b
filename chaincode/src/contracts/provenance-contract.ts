import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import {
  datasetSubjectDataSchema,
  datasetSubjectDataTransientKey,
  provenanceContractName,
  provenanceEvents,
  provenanceTransactions as spec,
  type AccessGrantRecord,
  type AccessLogEntry,
  type DatasetRecord,
  type ErasureReceipt,
  type ErasureVerification,
  type LineageGraph,
  type ModelRecord,
  type ProvenanceRecord,
  type SubjectDataResult,
} from '../model/provenance';
import { emitEvent } from '../ledger/events';
import { runTransaction } from '../ledger/transaction';
import { parseTransient } from '../ledger/transient';
import { actorOf, type Tx } from '../ledger/tx';
import * as access from './provenance/access';
import * as erasure from './provenance/erasure';
import { readLineage } from './provenance/lineage';
import { registerDataset, registerModel } from './provenance/records';
import { requireProvenanceRecord } from './provenance/store';

function eventBase(tx: Tx) {
  return { at: tx.at, txId: tx.txId, actor: actorOf(tx.caller) };
}

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
export class ProvenanceContract extends Contract {
  constructor() {
    super(provenanceContractName);
  }

  /**
   * Registers a dataset; the caller becomes its controller. Subject data, if any, comes
   * in the transient map under `subjectData` and only its hash reaches the channel.
   */
  @Transaction()
  registerDataset(ctx: Context, requestJson: string): Promise<DatasetRecord> {
    return runTransaction(ctx, spec.registerDataset, requestJson, {
      prepare: () =>
        ctx.stub.getTransient().has(datasetSubjectDataTransientKey)
          ? parseTransient(ctx, datasetSubjectDataTransientKey, datasetSubjectDataSchema)
          : undefined,
      fingerprint: (request, subjectData) => ({ request, subjectData: subjectData ?? null }),
      run: async (tx, request, subjectData) => {
        const record = await registerDataset(tx, request, subjectData);
        emitEvent(ctx, provenanceEvents.datasetRegistered, { ...eventBase(tx), record });
        return record;
      },
    });
  }

  @Transaction()
  registerModel(ctx: Context, requestJson: string): Promise<ModelRecord> {
    return runTransaction(ctx, spec.registerModel, requestJson, async (tx, request) => {
      const record = await registerModel(tx, request);
      emitEvent(ctx, provenanceEvents.modelRegistered, { ...eventBase(tx), record });
      return record;
    });
  }

  @Transaction()
  grantAccess(ctx: Context, requestJson: string): Promise<AccessGrantRecord> {
    return runTransaction(ctx, spec.grantAccess, requestJson, async (tx, request) => {
      const grant = await access.grantAccess(tx, request);
      emitEvent(ctx, provenanceEvents.accessGranted, { ...eventBase(tx), grant });
      return grant;
    });
  }

  @Transaction()
  revokeAccess(ctx: Context, requestJson: string): Promise<AccessGrantRecord> {
    return runTransaction(ctx, spec.revokeAccess, requestJson, async (tx, request) => {
      const grant = await access.revokeAccess(tx, request);
      emitEvent(ctx, provenanceEvents.accessRevoked, { ...eventBase(tx), grant });
      return grant;
    });
  }

  /** The grantee logs one use of its grant; the access id is this transaction's id. */
  @Transaction()
  recordAccess(ctx: Context, requestJson: string): Promise<AccessLogEntry> {
    return runTransaction(ctx, spec.recordAccess, requestJson, async (tx, request) => {
      const entry = await access.recordAccess(tx, request);
      emitEvent(ctx, provenanceEvents.accessRecorded, { ...eventBase(tx), access: entry });
      return entry;
    });
  }

  /** GDPR Art. 17 erasure of agreement terms or dataset subject data, with a receipt. */
  @Transaction()
  requestErasure(ctx: Context, requestJson: string): Promise<ErasureReceipt> {
    return runTransaction(ctx, spec.requestErasure, requestJson, async (tx, request) => {
      const receipt = await erasure.requestErasure(tx, request);
      emitEvent(ctx, provenanceEvents.personalDataErased, { ...eventBase(tx), receipt });
      return receipt;
    });
  }

  /** A dataset or model record; provenance records are open to every member of the channel. */
  @Transaction(false)
  getRecord(ctx: Context, requestJson: string): Promise<ProvenanceRecord> {
    return runTransaction(ctx, spec.getRecord, requestJson, (tx, request) =>
      requireProvenanceRecord(tx.ctx, request.recordId),
    );
  }

  /** Ancestors or descendants of a record as a graph, up to a depth (3 by default, at most 10). */
  @Transaction(false)
  getLineage(ctx: Context, requestJson: string): Promise<LineageGraph> {
    return runTransaction(ctx, spec.getLineage, requestJson, (tx, request) =>
      readLineage(tx.ctx, { ...request, depth: request.depth ?? 3 }),
    );
  }

  @Transaction(false)
  getAccessGrant(ctx: Context, requestJson: string): Promise<AccessGrantRecord> {
    return runTransaction(ctx, spec.getAccessGrant, requestJson, (tx, request) =>
      access.getAccessGrant(tx.ctx, tx.caller, request.grantId),
    );
  }

  @Transaction(false)
  listAccessGrants(ctx: Context, requestJson: string): Promise<AccessGrantRecord[]> {
    return runTransaction(ctx, spec.listAccessGrants, requestJson, (tx, request) =>
      access.listAccessGrants(tx.ctx, tx.caller, request.datasetId),
    );
  }

  /** Every logged use of a dataset's grants, for its controller and auditors. */
  @Transaction(false)
  listAccessLog(ctx: Context, requestJson: string): Promise<AccessLogEntry[]> {
    return runTransaction(ctx, spec.listAccessLog, requestJson, (tx, request) =>
      access.listAccessLog(tx.ctx, tx.caller, request),
    );
  }

  @Transaction(false)
  getSubjectData(ctx: Context, requestJson: string): Promise<SubjectDataResult> {
    return runTransaction(ctx, spec.getSubjectData, requestJson, (tx, request) =>
      erasure.getSubjectData(tx.ctx, tx.caller, request.datasetId),
    );
  }

  @Transaction(false)
  getErasureReceipt(ctx: Context, requestJson: string): Promise<ErasureReceipt> {
    return runTransaction(ctx, spec.getErasureReceipt, requestJson, (tx, request) =>
      erasure.getErasureReceipt(tx.ctx, tx.caller, request.receiptId),
    );
  }

  /** Checks an erasure receipt against the ledger as it is now. */
  @Transaction(false)
  verifyErasure(ctx: Context, requestJson: string): Promise<ErasureVerification> {
    return runTransaction(ctx, spec.verifyErasure, requestJson, (tx, request) =>
      erasure.verifyErasure(tx.ctx, tx.caller, request.receiptId),
    );
  }
}
