import { agreementListerRoles } from '../../model/access-roles';
import {
  agreementTermsCollection,
  agreementTermsSchema,
  agreementTermsSha256,
  type AgreementTerms,
  type AgreementTermsResult,
  type AgreementView,
  type MilestoneHistoryEntry,
  type PanelDispute,
  type PartyQueryRole,
  type TermsVerification,
} from '../../model/agreement';
import {
  agreementRecordSchema,
  milestoneRecordSchema,
  type AgreementRecord,
  type TaskRecord,
} from '../../model/agreement-records';
import { type Party } from '../../model/party';
import type { Page, PageRequest } from '../../model/page';
import type { Caller } from '../../model/identity';
import { refuse } from '../../ledger/refusal';
import { decodeRecord, readFilledPage } from '../../ledger/state';
import { readErasureMarker } from '../../ledger/erasures';
import type { Context } from 'fabric-contract-api';
import { auditGrantCoversAgreement, canReadAgreement, requireReadableAgreement } from './access';
import { describeCaller, isParty, requireRole, requireUserId } from '../../ledger/caller';
import { finalStatuses } from './settlement';
import {
  agreementKey,
  milestoneKey,
  readMilestones,
  readPanelSeatPage,
  readPartyIndexPage,
  readTasks,
  requireAgreement,
  requireMilestone,
  termsKey,
} from './store';
import { requireCollectionMember } from '../../ledger/collections';

interface Modification {
  txId: string;
  at: string;
  isDelete: boolean;
  value: Uint8Array;
}

/** Modifications of a key, newest first, from the peer's history database. */
async function historyOf(ctx: Context, key: string): Promise<Modification[]> {
  const modifications: Modification[] = [];
  const iterator = await ctx.stub.getHistoryForKey(key);
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const { txId, isDelete, value, timestamp } = next.value;
      const millis = Number(timestamp.seconds.toString()) * 1000 + Math.floor(timestamp.nanos / 1_000_000);
      modifications.push({ txId, at: new Date(millis).toISOString(), isDelete, value });
    }
  } finally {
    await iterator.close();
  }
  return modifications;
}

/**
 * The agreement, its milestones and the history of the agreement record.
 *
 * @throws RefusalError NOT_FOUND when the agreement does not exist or the caller may not read it (one answer for both).
 */
export async function getAgreement(ctx: Context, caller: Caller, agreementId: string): Promise<AgreementView> {
  const agreement = await requireReadableAgreement(ctx, caller, agreementId);
  const milestones = await readMilestones(ctx, agreement);
  const history = (await historyOf(ctx, agreementKey(ctx, agreementId))).map((modification) => {
    const status = modification.isDelete ? undefined : decodeRecord(agreementRecordSchema, modification.value).status;
    return {
      txId: modification.txId,
      at: modification.at,
      isDelete: modification.isDelete,
      ...(status === undefined ? {} : { status }),
    };
  });
  return {
    agreement,
    milestones,
    completed: milestones.every((milestone) => finalStatuses.includes(milestone.status)),
    history,
  };
}

/** Whether every milestone has reached a final state; reads milestones until one has not. */
async function isCompleted(ctx: Context, agreement: AgreementRecord): Promise<boolean> {
  for (const milestoneId of agreement.milestoneIds) {
    const milestone = await requireMilestone(ctx, agreement, milestoneId);
    if (!finalStatuses.includes(milestone.status)) return false;
  }
  return true;
}

/**
 * Agreements in which a party plays a role. A person may list their own; auditors, HR
 * systems and admins may list anyone's, each seeing only the agreements it may read
 * (an admin those naming a person of its organisation, an auditor those its grants cover).
 * `completed` keeps the agreements whose milestones are all final (true) or not (false).
 * One page at a time (`pageSize`, `bookmark`): a page holds at most `pageSize` agreements,
 * filled past those left out (see {@link readFilledPage}); it may hold fewer only past
 * many left out in a row, so only an empty bookmark ends the list.
 *
 * @throws RefusalError FORBIDDEN for anyone else; VALIDATION_FAILED `bookmark` for a
 *   bookmark this list did not answer with.
 */
export async function listAgreementsByParty(
  ctx: Context,
  caller: Caller,
  request: Party & { role?: PartyQueryRole | undefined; completed?: boolean | undefined } & PageRequest,
): Promise<Page<{ role: PartyQueryRole; agreement: AgreementRecord }>> {
  if (!isParty(caller, request) && !(caller.role !== undefined && agreementListerRoles.includes(caller.role))) {
    refuse(
      'FORBIDDEN',
      `only ${request.mspId} user ${request.userId}, an auditor, an HR system or an admin may list that user's agreements; the caller is ${describeCaller(caller)}`,
    );
  }
  return readFilledPage(request, async (page) => {
    const { entries, bookmark } = await readPartyIndexPage(ctx, request, request.role, page);
    const items: { role: PartyQueryRole; agreement: AgreementRecord }[] = [];
    for (const entry of entries) {
      const agreement = await requireAgreement(ctx, entry.agreementId);
      if (!canReadAgreement(caller, agreement)) continue;
      if (!(await auditGrantCoversAgreement(ctx, caller, agreement))) continue;
      if (request.completed !== undefined && (await isCompleted(ctx, agreement)) !== request.completed) continue;
      items.push({ role: entry.role, agreement });
    }
    return { items, bookmark };
  });
}

/**
 * The disputes whose panel holds the calling arbitrator, found through the seats recorded
 * when each dispute was opened (disputes opened under an earlier chaincode version have none).
 * `decided` keeps those with a decision (true) or without one (false). An arbitrator whose
 * governance decision was withdrawn lists nothing, as they may read none of those
 * agreements any more. One page at a time, filled as {@link listAgreementsByParty}'s.
 *
 * @throws RefusalError FORBIDDEN unless the caller holds role arbitrator with a userId;
 *   VALIDATION_FAILED `bookmark` for a bookmark this list did not answer with.
 */
export async function listPanelDisputes(
  ctx: Context,
  caller: Caller,
  request: { decided?: boolean | undefined } & PageRequest,
): Promise<Page<PanelDispute>> {
  requireRole(caller, ['arbitrator'], 'list the disputes whose panel holds them');
  const arbitrator = { mspId: caller.mspId, userId: requireUserId(caller, 'list the disputes whose panel holds them') };
  return readFilledPage(request, async (page) => {
    const { seats, bookmark } = await readPanelSeatPage(ctx, arbitrator, page);
    const items: PanelDispute[] = [];
    for (const seat of seats) {
      const agreement = await requireAgreement(ctx, seat.agreementId);
      if (!canReadAgreement(caller, agreement)) continue;
      const milestone = await requireMilestone(ctx, agreement, seat.milestoneId);
      if (request.decided !== undefined && (milestone.dispute?.decision !== undefined) !== request.decided) continue;
      items.push({ agreement, milestone });
    }
    return { items, bookmark };
  });
}

/**
 * Every version of a milestone record, newest first.
 *
 * @throws RefusalError NOT_FOUND when the agreement does not exist or the caller may not read it (one answer for both).
 */
export async function getMilestoneHistory(
  ctx: Context,
  caller: Caller,
  request: { agreementId: string; milestoneId: string },
): Promise<MilestoneHistoryEntry[]> {
  const agreement = await requireReadableAgreement(ctx, caller, request.agreementId);
  await requireMilestone(ctx, agreement, request.milestoneId);
  const history = await historyOf(ctx, milestoneKey(ctx, request.agreementId, request.milestoneId));
  return history.map((modification) => ({
    txId: modification.txId,
    at: modification.at,
    isDelete: modification.isDelete,
    ...(modification.isDelete ? {} : { milestone: decodeRecord(milestoneRecordSchema, modification.value) }),
  }));
}

/**
 * The tasks of a batch milestone, in the client's order.
 *
 * @throws RefusalError NOT_FOUND when the agreement does not exist or the caller may not read it (one answer for both).
 */
export async function listTasks(
  ctx: Context,
  caller: Caller,
  request: { agreementId: string; milestoneId: string },
): Promise<TaskRecord[]> {
  const agreement = await requireReadableAgreement(ctx, caller, request.agreementId);
  const milestone = await requireMilestone(ctx, agreement, request.milestoneId);
  return readTasks(ctx, milestone);
}

/**
 * The confidential terms, for the two parties only, read from their organisation's peer;
 * once erased (GDPR Art. 17), the answer says so and names the erasure receipt.
 *
 * @throws RefusalError NOT_FOUND, as for a missing agreement, unless the caller may read
 *   it (an auditor under an audit grant), or when this peer does not hold the terms (its
 *   organisation is not a member of the collection); FORBIDDEN when a reader who is not a
 *   party (evaluator, overseer) calls.
 */
export async function getTerms(ctx: Context, caller: Caller, agreementId: string): Promise<AgreementTermsResult> {
  // Whoever may read the agreement (an auditor under a grant) is told why the terms are
  // not theirs; anyone else is answered as for a missing agreement.
  const agreement = await requireReadableAgreement(ctx, caller, agreementId);
  // Identity alone decides: the terms are the parties' own, whichever certificate they use.
  if (!isParty(caller, agreement.client) && !isParty(caller, agreement.freelancer)) {
    refuse(
      'FORBIDDEN',
      `only the client or the freelancer may read the terms of agreement ${agreementId}; the caller is ${describeCaller(caller)}`,
    );
  }
  const key = termsKey(ctx, agreementId);
  const erasure = await readErasureMarker(ctx, agreementTermsCollection, key);
  if (erasure !== undefined) {
    return {
      status: 'erased',
      agreementId,
      termsSha256: agreement.termsSha256,
      receiptId: erasure.receiptId,
      erasedAt: erasure.at,
    };
  }
  requireCollectionMember(ctx, agreementTermsCollection, `read the terms of agreement ${agreementId}`);
  const bytes = await ctx.stub.getPrivateData(agreementTermsCollection, key);
  if (bytes.length === 0) {
    refuse(
      'NOT_FOUND',
      `this peer holds no terms of agreement ${agreementId}; ask a peer of a party's organisation`,
      'agreementId',
    );
  }
  return {
    status: 'held',
    agreementId,
    termsSha256: agreement.termsSha256,
    terms: decodeRecord(agreementTermsSchema, bytes),
  };
}

/**
 * Checks a terms document against the hash on the agreement and the collection's own
 * hash, which every peer of the channel keeps whether or not it holds the terms.
 *
 * @throws RefusalError NOT_FOUND when the agreement does not exist or the caller may not read it (one answer for both).
 */
export async function verifyTerms(
  ctx: Context,
  caller: Caller,
  request: { agreementId: string; terms: AgreementTerms },
): Promise<TermsVerification> {
  const agreement = await requireReadableAgreement(ctx, caller, request.agreementId);
  const documentSha256 = agreementTermsSha256(request.terms);
  const collectionHash = await ctx.stub.getPrivateDataHash(
    agreementTermsCollection,
    termsKey(ctx, request.agreementId),
  );
  return {
    agreementId: request.agreementId,
    termsSha256: agreement.termsSha256,
    documentSha256,
    matches: documentSha256 === agreement.termsSha256,
    privateDataHashMatches: Buffer.from(collectionHash).toString('hex') === documentSha256,
  };
}
