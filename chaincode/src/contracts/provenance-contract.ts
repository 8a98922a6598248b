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
import { parseArgument } from '../ledger/refusal';
import { runRequestOnce } from '../ledger/requests';
import { parseTransient } from '../ledger/transient';
import { actorOf, txOf, type Tx } from '../ledger/tx';
import { callerOf } from '../ledger/caller';
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
  async registerDataset(ctx: Context, requestJson: string): Promise<DatasetRecord> {
    const request = parseArgument(spec.registerDataset.request, requestJson);
    const subjectData = ctx.stub.getTransient().has(datasetSubjectDataTransientKey)
      ? parseTransient(ctx, datasetSubjectDataTransientKey, datasetSubjectDataSchema)
      : undefined;
    const tx = txOf(ctx);
    return runRequestOnce(
      ctx,
      spec.registerDataset,
      request,
      async () => {
        const record = await registerDataset(tx, request, subjectData);
        emitEvent(ctx, provenanceEvents.datasetRegistered, { ...eventBase(tx), record });
        return record;
      },
      { request, subjectData: subjectData ?? null },
    );
  }

  @Transaction()
  async registerModel(ctx: Context, requestJson: string): Promise<ModelRecord> {
    const request = parseArgument(spec.registerModel.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.registerModel, request, async () => {
      const record = await registerModel(tx, request);
      emitEvent(ctx, provenanceEvents.modelRegistered, { ...eventBase(tx), record });
      return record;
    });
  }

  @Transaction()
  async grantAccess(ctx: Context, requestJson: string): Promise<AccessGrantRecord> {
    const request = parseArgument(spec.grantAccess.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.grantAccess, request, async () => {
      const grant = await access.grantAccess(tx, request);
      emitEvent(ctx, provenanceEvents.accessGranted, { ...eventBase(tx), grant });
      return grant;
    });
  }

  @Transaction()
  async revokeAccess(ctx: Context, requestJson: string): Promise<AccessGrantRecord> {
    const request = parseArgument(spec.revokeAccess.request, requestJson);
    const tx = txOf(ctx);
    const grant = await access.revokeAccess(tx, request);
    emitEvent(ctx, provenanceEvents.accessRevoked, { ...eventBase(tx), grant });
    return grant;
  }

  /** The grantee logs one use of its grant; the access id is this transaction's id. */
  @Transaction()
  async recordAccess(ctx: Context, requestJson: string): Promise<AccessLogEntry> {
    const request = parseArgument(spec.recordAccess.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.recordAccess, request, async () => {
      const entry = await access.recordAccess(tx, request);
      emitEvent(ctx, provenanceEvents.accessRecorded, { ...eventBase(tx), access: entry });
      return entry;
    });
  }

  /** GDPR Art. 17 erasure of agreement terms or dataset subject data, with a receipt. */
  @Transaction()
  async requestErasure(ctx: Context, requestJson: string): Promise<ErasureReceipt> {
    const request = parseArgument(spec.requestErasure.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.requestErasure, request, async () => {
      const receipt = await erasure.requestErasure(tx, request);
      emitEvent(ctx, provenanceEvents.personalDataErased, { ...eventBase(tx), receipt });
      return receipt;
    });
  }

  /** A dataset or model record; provenance records are open to every member of the channel. */
  @Transaction(false)
  async getRecord(ctx: Context, requestJson: string): Promise<ProvenanceRecord> {
    const request = parseArgument(spec.getRecord.request, requestJson);
    return requireProvenanceRecord(ctx, request.recordId);
  }

  /** Ancestors or descendants of a record as a graph, up to a depth (3 by default, at most 10). */
  @Transaction(false)
  async getLineage(ctx: Context, requestJson: string): Promise<LineageGraph> {
    const request = parseArgument(spec.getLineage.request, requestJson);
    return readLineage(ctx, { ...request, depth: request.depth ?? 3 });
  }

  @Transaction(false)
  async getAccessGrant(ctx: Context, requestJson: string): Promise<AccessGrantRecord> {
    const request = parseArgument(spec.getAccessGrant.request, requestJson);
    return access.getAccessGrant(ctx, callerOf(ctx), request.grantId);
  }

  @Transaction(false)
  async listAccessGrants(ctx: Context, requestJson: string): Promise<AccessGrantRecord[]> {
    const request = parseArgument(spec.listAccessGrants.request, requestJson);
    return access.listAccessGrants(ctx, callerOf(ctx), request.datasetId);
  }

  /** Every logged use of a dataset's grants, for its controller and auditors. */
  @Transaction(false)
  async listAccessLog(ctx: Context, requestJson: string): Promise<AccessLogEntry[]> {
    const request = parseArgument(spec.listAccessLog.request, requestJson);
    return access.listAccessLog(ctx, callerOf(ctx), request);
  }

  @Transaction(false)
  async getSubjectData(ctx: Context, requestJson: string): Promise<SubjectDataResult> {
    const request = parseArgument(spec.getSubjectData.request, requestJson);
    return erasure.getSubjectData(ctx, callerOf(ctx), request.datasetId);
  }

  @Transaction(false)
  async getErasureReceipt(ctx: Context, requestJson: string): Promise<ErasureReceipt> {
    const request = parseArgument(spec.getErasureReceipt.request, requestJson);
    return erasure.getErasureReceipt(ctx, callerOf(ctx), request.receiptId);
  }

  /** Checks an erasure receipt against the ledger as it is now. */
  @Transaction(false)
  async verifyErasure(ctx: Context, requestJson: string): Promise<ErasureVerification> {
    const request = parseArgument(spec.verifyErasure.request, requestJson);
    return erasure.verifyErasure(ctx, callerOf(ctx), request.receiptId);
  }
}
