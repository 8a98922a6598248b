import type { Context } from 'fabric-contract-api';
import { provenanceAuditorRoles, provenanceCommandRoles } from '../../model/access-roles';
import { agreementTermsCollection } from '../../model/agreement';
import type { Caller } from '../../model/identity';
import type { Party } from '../../model/party';
import type { AgreementRecord } from '../../model/agreement-records';
import type { AuditedRecord } from '../../model/audit';
import { auditGrantAllows, refuseMissingRecord } from '../audit/scope';
import {
  datasetSubjectDataCollection,
  datasetSubjectDataSchema,
  type DatasetRecord,
  type ErasureReceipt,
  type ErasureTarget,
  type ErasureVerification,
  type SubjectDataResult,
} from '../../model/provenance';
import { describeCaller, isParty, requireRole } from '../../ledger/caller';
import { readErasureMarker, writeErasureMarker } from '../../ledger/erasures';
import { refuse, refuseIdTaken } from '../../ledger/refusal';
import { decodeRecord } from '../../ledger/state';
import { actorOf, type Tx } from '../../ledger/tx';
import { requireVisibleToActor } from '../agreement/access';
import { readMilestones, requireAgreement, termsKey } from '../agreement/store';
import { finalStatuses } from '../agreement/settlement';
import { requireController, requireDataset } from './access';
import { erasureReceipts, provenanceRecords, subjectDataKey } from './store';
import { requireCollectionMember } from '../../ledger/collections';
import { requireMemberOrganisations } from '../governance/member-organisations';

/** The private data a target names: its collection, key, and the hash the channel ledger keeps of it. */
interface PrivateData {
  readonly collection: string;
  readonly key: string;
  readonly sha256: string;
  readonly dataset?: DatasetRecord;
  /** Whose personal data it holds, when the record says: an agreement's two parties. */
  readonly subjects?: { readonly parties: readonly Party[]; readonly described: string };
}

/**
 * Who may erase the target's personal data, and where it lies. Agreement terms are one
 * document holding both parties' personal data, and Fabric purges whole keys: either
 * party, as controller of the personal data it put in the terms, may have the whole
 * document erased. A dataset's subject data is its controller's.
 *
 * @throws RefusalError NOT_FOUND (agreement hidden from the caller, dataset missing, or
 *   no subject data); NOT_CONTROLLER.
 */
async function controlledData(tx: Tx, target: ErasureTarget): Promise<PrivateData> {
  if (target.kind === 'agreementTerms') {
    // Named where the caller put it, missing and hidden alike, so the field tells nothing either.
    const agreement = await requireAgreement(tx.ctx, target.agreementId, 'target.agreementId');
    requireVisibleToActor(tx.caller, agreement, 'target.agreementId');
    if (!isParty(tx.caller, agreement.client) && !isParty(tx.caller, agreement.freelancer)) {
      refuse(
        'NOT_CONTROLLER',
        `only the client or the freelancer of agreement ${agreement.agreementId} may have its terms erased; ` +
          `the caller is ${describeCaller(tx.caller)}`,
      );
    }
    await requireTermsOutOfForce(tx.ctx, agreement);
    return {
      collection: agreementTermsCollection,
      key: termsKey(tx.ctx, agreement.agreementId),
      sha256: agreement.termsSha256,
      subjects: {
        parties: [agreement.client, agreement.freelancer],
        described: `the client or the freelancer of agreement ${agreement.agreementId}, whose personal data its terms hold`,
      },
    };
  }
  const dataset = await requireDataset(tx.ctx, target.datasetId, 'target.datasetId');
  requireController(tx.caller, dataset, 'have its subject data erased');
  if (dataset.subjectData === undefined) {
    refuse('NOT_FOUND', `dataset ${dataset.recordId} holds no subject data`, 'target.datasetId');
  }
  return {
    collection: datasetSubjectDataCollection,
    key: subjectDataKey(tx.ctx, dataset.recordId),
    sha256: dataset.subjectData.sha256,
    dataset,
  };
}

/**
 * An accepted agreement's terms are what its open milestones are performed and disputed
 * under: erasure gives way to the contract and to legal claims under it (GDPR Art. 17(1)(b),
 * 17(3)(e)) until every milestone has ended. An offer's terms may go (it can then no
 * longer be accepted), as may those of an agreement declined, cancelled or completed.
 *
 * @throws RefusalError INVALID_STATE naming `target.agreementId` and the open milestones.
 */
async function requireTermsOutOfForce(ctx: Context, agreement: AgreementRecord): Promise<void> {
  if (agreement.status !== 'active') return;
  const open = (await readMilestones(ctx, agreement)).filter((milestone) => !finalStatuses.includes(milestone.status));
  if (open.length === 0) return;
  const listed = open.map((milestone) => `${milestone.milestoneId} ${milestone.status}`).join(', ');
  refuse(
    'INVALID_STATE',
    `agreement ${agreement.agreementId} is in force (milestones ${listed}): its terms are kept while it is ` +
      'performed and may be disputed (GDPR Art. 17(3)(e)), and may be erased once every milestone is paid, ' +
      'settled, refunded or cancelled',
    'target.agreementId',
  );
}

function describeTarget(target: ErasureTarget): string {
  return target.kind === 'agreementTerms'
    ? `the terms of agreement ${target.agreementId}`
    : `the subject data of dataset ${target.datasetId}`;
}

/**
 * Erases personal data on request of its controller (GDPR Art. 17): purges the key from
 * the private data collection on every member peer (Fabric's purge, which also drops
 * its past versions), keeps the hash on the channel ledger, marks the key as erased and
 * records a receipt naming who asked, the legal ground, the data subject, what was
 * purged, and this transaction. The block is where this transaction commits.
 *
 * @throws RefusalError FORBIDDEN for other roles; NOT_FOUND / NOT_CONTROLLER as
 *   {@link controlledData}; PERSONAL_DATA_ERASED when already erased; ALREADY_EXISTS
 *   for a taken receipt id.
 *   VALIDATION_FAILED (`dataSubject.mspId`) for a party of an organisation outside the consortium;
 *   VALIDATION_FAILED (`dataSubject`) for agreement terms naming neither of its parties.
 */
export async function requestErasure(
  tx: Tx,
  request: {
    receiptId: string;
    target: ErasureTarget;
    dataSubject: Party;
    ground: string;
    reason?: string | undefined;
  },
): Promise<ErasureReceipt> {
  requireRole(tx.caller, provenanceCommandRoles.requestErasure, 'request the erasure of personal data');
  const data = await controlledData(tx, request.target);
  await requireMemberOrganisations(tx, [{ field: 'dataSubject', party: request.dataSubject }]);
  // The receipt is shown to its data subject: naming someone else would show it to them.
  if (
    data.subjects !== undefined &&
    !data.subjects.parties.some(
      (party) => party.mspId === request.dataSubject.mspId && party.userId === request.dataSubject.userId,
    )
  ) {
    refuse('VALIDATION_FAILED', `dataSubject: must be ${data.subjects.described}`, 'dataSubject');
  }
  const earlier = await readErasureMarker(tx.ctx, data.collection, data.key);
  if (earlier !== undefined) {
    refuse(
      'PERSONAL_DATA_ERASED',
      `${describeTarget(request.target)} were already erased at ${earlier.at} (receipt ${earlier.receiptId})`,
      request.target.kind === 'agreementTerms' ? 'target.agreementId' : 'target.datasetId',
    );
  }
  if ((await erasureReceipts.read(tx.ctx, request.receiptId)) !== undefined) {
    refuseIdTaken('erasure receipt', request.receiptId, 'receiptId');
  }
  const { objectType, attributes } = tx.ctx.stub.splitCompositeKey(data.key);
  const receipt: ErasureReceipt = {
    receiptId: request.receiptId,
    target: request.target,
    requestedBy: actorOf(tx.caller),
    dataSubject: request.dataSubject,
    legalBasis: `GDPR Art. 17(1)(${request.ground})`,
    ...(request.reason === undefined ? {} : { reason: request.reason }),
    purged: { collection: data.collection, objectType, keyAttributes: attributes, sha256: data.sha256 },
    at: tx.at,
    txId: tx.txId,
  };
  await tx.ctx.stub.purgePrivateData(data.collection, data.key);
  await writeErasureMarker(tx.ctx, data.collection, data.key, {
    receiptId: receipt.receiptId,
    at: tx.at,
    txId: tx.txId,
  });
  if (data.dataset !== undefined) {
    await provenanceRecords.write(tx.ctx, {
      ...data.dataset,
      subjectData: { status: 'erased', sha256: data.sha256, receiptId: receipt.receiptId, erasedAt: tx.at },
      updatedAt: tx.at,
      updatedTxId: tx.txId,
    });
  }
  await erasureReceipts.write(tx.ctx, receipt);
  return receipt;
}

/**
 * Whoever asked, the data subject, the data's controllers (both parties of an agreement
 * whose terms were erased, the controller of a dataset), and auditors under an audit grant.
 *
 * An auditor no live grant covers may not, and learns no more than that the id names nothing.
 */
async function mayReadReceipt(ctx: Context, caller: Caller, receipt: ErasureReceipt): Promise<boolean> {
  if (caller.mspId === receipt.requestedBy.mspId && caller.userId === receipt.requestedBy.userId) return true;
  if (isParty(caller, receipt.dataSubject)) return true;
  const controllers = await receiptControllers(ctx, receipt);
  if (controllers.some((controller) => isParty(caller, controller))) return true;
  if (caller.role === undefined || !provenanceAuditorRoles.includes(caller.role)) return false;
  return auditGrantAllows(ctx, caller, auditedReceipt(receipt, controllers), [receipt.dataSubject, ...controllers]);
}

/**
 * The controllers of the data a receipt erased: both parties of an agreement whose terms
 * were erased, the controller of a dataset.
 *
 * @throws RefusalError NOT_FOUND when the agreement or dataset is gone.
 */
export async function receiptControllers(ctx: Context, receipt: ErasureReceipt): Promise<Party[]> {
  if (receipt.target.kind === 'agreementTerms') {
    const agreement = await requireAgreement(ctx, receipt.target.agreementId);
    return [agreement.client, agreement.freelancer];
  }
  return [(await requireDataset(ctx, receipt.target.datasetId)).controller];
}

/**
 * An erasure receipt as an audit grant sees it: it concerns the data subject's and the
 * data's controllers' organisations and dates from the erasure.
 */
export function auditedReceipt(receipt: ErasureReceipt, controllers: readonly Party[]): AuditedRecord {
  const organisations = [receipt.requestedBy.mspId, receipt.dataSubject.mspId, ...controllers.map((c) => c.mspId)];
  return { kind: 'provenance', organisations: [...new Set(organisations)], at: receipt.at };
}

/**
 * A receipt, for whoever asked, the data subject, the data's controllers and auditors
 * under a live audit grant naming `provenance`.
 *
 * @throws RefusalError NOT_FOUND when missing or when the caller may not read it, an
 *   auditor's audit grants included (one answer for all, after the same reads).
 */
export async function getErasureReceipt(ctx: Context, caller: Caller, receiptId: string): Promise<ErasureReceipt> {
  const receipt = await erasureReceipts.read(ctx, receiptId);
  const refuseAsMissing = (): never => refuse('NOT_FOUND', `erasure receipt ${receiptId} does not exist`, 'receiptId');
  if (receipt === undefined) return refuseMissingRecord(ctx, caller, refuseAsMissing);
  if (!(await mayReadReceipt(ctx, caller, receipt))) refuseAsMissing();
  return receipt;
}

/**
 * Checks a receipt against the ledger now, on the peer that answers: the target's record
 * still holds the hash the receipt names, the key is marked erased by this receipt, the
 * collection's hash of the key (kept by every peer of the channel while the data exists)
 * is gone, and the peer no longer holds the data. A client checks every copy by asking
 * a peer of each member organisation (the Gateway's target organisations).
 *
 * @throws RefusalError NOT_FOUND as {@link getErasureReceipt}.
 */
export async function verifyErasure(ctx: Context, caller: Caller, receiptId: string): Promise<ErasureVerification> {
  const receipt = await getErasureReceipt(ctx, caller, receiptId);
  const key = ctx.stub.createCompositeKey(receipt.purged.objectType, receipt.purged.keyAttributes);
  const ledgerSha256 =
    receipt.target.kind === 'agreementTerms'
      ? (await requireAgreement(ctx, receipt.target.agreementId)).termsSha256
      : ((await requireDataset(ctx, receipt.target.datasetId)).subjectData?.sha256 ?? '');
  const marker = await readErasureMarker(ctx, receipt.purged.collection, key);
  const privateHash = await ctx.stub.getPrivateDataHash(receipt.purged.collection, key);
  const hashMatches = ledgerSha256 === receipt.purged.sha256;
  const recordedAsErased = marker?.receiptId === receipt.receiptId && marker.txId === receipt.txId;
  const privateDataAbsent = privateHash.length === 0;
  const privateDataOnPeer = await privateDataOn(ctx, receipt.purged.collection, key);
  return {
    receipt,
    ledgerSha256,
    hashMatches,
    recordedAsErased,
    privateDataAbsent,
    privateDataOnPeer,
    verified: hashMatches && recordedAsErased && privateDataAbsent && privateDataOnPeer !== 'present',
  };
}

/**
 * Whether the answering peer still holds the data itself. A peer outside the collection,
 * or a caller whose organisation may not read it (`memberOnlyRead`), makes Fabric refuse
 * the read; that peer never held the data, and its hash answers for it.
 */
async function privateDataOn(
  ctx: Context,
  collection: string,
  key: string,
): Promise<'absent' | 'present' | 'notReadable'> {
  try {
    return (await ctx.stub.getPrivateData(collection, key)).length === 0 ? 'absent' : 'present';
  } catch {
    return 'notReadable';
  }
}

/**
 * A dataset's subject data, for its controller, from a member peer; or that it was erased.
 *
 * @throws RefusalError NOT_FOUND for a missing dataset, one without subject data, or a
 *   peer that holds none (not a member of the collection); NOT_CONTROLLER.
 */
export async function getSubjectData(ctx: Context, caller: Caller, datasetId: string): Promise<SubjectDataResult> {
  const dataset = await requireDataset(ctx, datasetId);
  requireController(caller, dataset, 'read its subject data');
  const state = dataset.subjectData;
  if (state === undefined) refuse('NOT_FOUND', `dataset ${datasetId} holds no subject data`, 'datasetId');
  if (state.status === 'erased') {
    return {
      status: 'erased' as const,
      datasetId,
      sha256: state.sha256,
      receiptId: state.receiptId,
      erasedAt: state.erasedAt,
    };
  }
  requireCollectionMember(ctx, datasetSubjectDataCollection, `read the subject data of dataset ${datasetId}`);
  const bytes = await ctx.stub.getPrivateData(datasetSubjectDataCollection, subjectDataKey(ctx, datasetId));
  if (bytes.length === 0) {
    refuse(
      'NOT_FOUND',
      `this peer holds no subject data of dataset ${datasetId}; ask a peer of a member organisation`,
      'datasetId',
    );
  }
  return {
    status: 'held' as const,
    datasetId,
    sha256: state.sha256,
    subjectData: decodeRecord(datasetSubjectDataSchema, bytes),
  };
}
