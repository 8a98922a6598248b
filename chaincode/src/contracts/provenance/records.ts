import { provenanceCommandRoles } from '../../model/access-roles';
import {
  datasetSubjectDataBytes,
  datasetSubjectDataCollection,
  datasetSubjectDataSha256,
  type DatasetRecord,
  type DatasetSubjectData,
  type Derivation,
  type ModelRecord,
  type ProvenanceRecord,
} from '../../model/provenance';
import type { Party } from '../../model/party';
import { requireRole, requireUserId } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import type { Tx } from '../../ledger/tx';
import {
  provenanceRecords,
  readHashOwner,
  requireProvenanceRecord,
  subjectDataKey,
  writeChildEdge,
  writeHashOwner,
} from './store';
import { requireCollectionMember } from '../../ledger/collections';

/** The caller as the controller of what they register. */
function controllerOf(tx: Tx, action: string): Party {
  return { mspId: tx.caller.mspId, userId: requireUserId(tx.caller, action) };
}

/**
 * Refuses a record id or content hash already registered. The first registrant of a
 * hash keeps it: the refusal names the earlier record, its controller, transaction and
 * time, which are public on the channel anyway.
 *
 * @throws RefusalError ALREADY_EXISTS naming `recordId` or `contentSha256`.
 */
async function requireNew(tx: Tx, recordId: string, contentSha256: string): Promise<void> {
  if ((await provenanceRecords.read(tx.ctx, recordId)) !== undefined) {
    refuse('ALREADY_EXISTS', `provenance record ${recordId} already exists; choose another id`, 'recordId');
  }
  const earlierId = await readHashOwner(tx.ctx, contentSha256);
  if (earlierId === undefined) return;
  const earlier = await requireProvenanceRecord(tx.ctx, earlierId);
  refuse(
    'ALREADY_EXISTS',
    `content ${contentSha256} is already registered as ${earlier.kind} ${earlier.recordId} by ` +
      `${earlier.controller.mspId}/${earlier.controller.userId} in transaction ${earlier.txId} at ${earlier.registeredAt}`,
    'contentSha256',
  );
}

/**
 * Checks that every parent exists. A parent must be registered before its child, so
 * the lineage graph can never hold a cycle.
 *
 * @throws RefusalError NOT_FOUND naming `<field>.<index>`.
 */
async function requireParents(tx: Tx, ids: readonly string[], field: string): Promise<ProvenanceRecord[]> {
  const parents: ProvenanceRecord[] = [];
  for (const [index, id] of ids.entries()) parents.push(await requireProvenanceRecord(tx.ctx, id, `${field}.${index}`));
  return parents;
}

async function indexDerivation(tx: Tx, childId: string, derivation: Derivation | undefined): Promise<void> {
  if (derivation === undefined) return;
  for (const parentId of derivation.parents) {
    await writeChildEdge(tx.ctx, parentId, childId, {
      relation: 'derivedFrom',
      transformation: derivation.transformation,
    });
  }
}

/** What every record takes from its registration request and transaction. */
function registration(
  tx: Tx,
  request: Pick<ProvenanceRecord, 'recordId' | 'contentSha256' | 'title' | 'licence' | 'derivedFrom'>,
  controller: Party,
): Pick<
  ProvenanceRecord,
  'recordId' | 'contentSha256' | 'title' | 'licence' | 'controller' | 'derivedFrom' | 'registeredAt' | 'txId'
> {
  return {
    recordId: request.recordId,
    contentSha256: request.contentSha256,
    title: request.title,
    licence: request.licence,
    controller,
    ...(request.derivedFrom === undefined ? {} : { derivedFrom: request.derivedFrom }),
    registeredAt: tx.at,
    txId: tx.txId,
  };
}

/** Writes a new record, claims its content hash for it and indexes it under its parents. */
async function storeNewRecord(tx: Tx, record: ProvenanceRecord): Promise<void> {
  await provenanceRecords.write(tx.ctx, record);
  await writeHashOwner(tx.ctx, record.contentSha256, record.recordId);
  await indexDerivation(tx, record.recordId, record.derivedFrom);
}

/**
 * Registers a dataset with the caller as its controller, and its subject data, when
 * given, in the `datasetSubjectData` collection (only the hash reaches the channel).
 *
 * @throws RefusalError FORBIDDEN for other roles; IDENTITY_INCOMPLETE without userId;
 *   ALREADY_EXISTS for a taken id or content hash; NOT_FOUND for a missing parent;
 *   VALIDATION_FAILED for subject data on a dataset classed as holding no personal data,
 *   or a retention date already past.
 */
export async function registerDataset(
  tx: Tx,
  request: Omit<DatasetRecord, 'kind' | 'controller' | 'registeredAt' | 'txId' | 'subjectData'>,
  subjectData: DatasetSubjectData | undefined,
): Promise<DatasetRecord> {
  requireRole(tx.caller, provenanceCommandRoles.registerDataset, 'register a dataset');
  const controller = controllerOf(tx, 'registering a dataset');
  if (subjectData !== undefined && request.piiClass === 'none') {
    refuse(
      'VALIDATION_FAILED',
      'piiClass: a dataset with subject data holds personal data; class it pseudonymised, personal or specialCategory',
      'piiClass',
    );
  }
  if (request.retention.kind === 'until' && Date.parse(request.retention.until) <= Date.parse(tx.at)) {
    refuse('VALIDATION_FAILED', 'retention.until: must be after the registration time', 'retention.until');
  }
  await requireNew(tx, request.recordId, request.contentSha256);
  await requireParents(tx, request.derivedFrom?.parents ?? [], 'derivedFrom.parents');
  const record: DatasetRecord = {
    kind: 'dataset',
    ...registration(tx, request, controller),
    source: request.source,
    legalBasis: request.legalBasis,
    piiClass: request.piiClass,
    retention: request.retention,
    ...(subjectData === undefined
      ? {}
      : { subjectData: { status: 'held' as const, sha256: datasetSubjectDataSha256(subjectData) } }),
  };
  await storeNewRecord(tx, record);
  if (subjectData !== undefined) {
    requireCollectionMember(
      tx.ctx,
      datasetSubjectDataCollection,
      `keep the subject data of dataset ${record.recordId}`,
    );
    await tx.ctx.stub.putPrivateData(
      datasetSubjectDataCollection,
      subjectDataKey(tx.ctx, record.recordId),
      datasetSubjectDataBytes(subjectData),
    );
  }
  return record;
}

/**
 * Registers a model trained from registered datasets; the caller becomes its controller.
 *
 * @throws RefusalError as {@link registerDataset}; NOT_FOUND for a missing training
 *   dataset (`trainedOn.<i>`); VALIDATION_FAILED when `trainedOn` names a model.
 */
export async function registerModel(
  tx: Tx,
  request: Omit<ModelRecord, 'kind' | 'controller' | 'registeredAt' | 'txId'>,
): Promise<ModelRecord> {
  requireRole(tx.caller, provenanceCommandRoles.registerModel, 'register a model');
  const controller = controllerOf(tx, 'registering a model');
  await requireNew(tx, request.recordId, request.contentSha256);
  const datasets = await requireParents(tx, request.trainedOn, 'trainedOn');
  datasets.forEach((dataset, index) => {
    if (dataset.kind !== 'dataset') {
      refuse(
        'VALIDATION_FAILED',
        `trainedOn.${index}: ${dataset.recordId} is a model, not a dataset; name it in derivedFrom`,
        `trainedOn.${index}`,
      );
    }
  });
  await requireParents(tx, request.derivedFrom?.parents ?? [], 'derivedFrom.parents');
  const record: ModelRecord = {
    kind: 'model',
    ...registration(tx, request, controller),
    trainedOn: request.trainedOn,
    trainingCodeSha256: request.trainingCodeSha256,
  };
  await storeNewRecord(tx, record);
  for (const datasetId of record.trainedOn) {
    if (record.derivedFrom?.parents.includes(datasetId)) continue;
    await writeChildEdge(tx.ctx, datasetId, record.recordId, { relation: 'trainedOn' });
  }
  return record;
}
