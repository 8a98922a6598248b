import {
  agreementTermsBytes,
  agreementTermsCollection,
  type AgreementDetails,
  type AgreementTerms,
  type DraftAgreementRequest,
} from '../../model/agreement';
import { agreementEvents } from '../../model/agreement-events';
import type {
  AgreementRecord,
  AgreementStatus,
  MilestoneRecord,
  PartySide,
  SettlementInstruction,
  TaskRecord,
} from '../../model/agreement-records';
import { describeCaller, isParty, requireUserId } from '../../ledger/caller';
import { readErasureMarker } from '../../ledger/erasures';
import { refuse, refuseIdTaken } from '../../ledger/refusal';
import { readParameter } from '../parameter/store';
import { requireEitherSide, requireSide } from './access';
import { escrowHeldStatuses, escrowOf, finalStatuses, newInstruction } from './settlement';
import {
  agreementExists,
  agreementKey,
  createOwnedRecord,
  indexParty,
  milestoneKey,
  milestoneLabel,
  readMilestones,
  requireAgreement,
  taskKey,
  termsKey,
  writeAgreement,
  writeMilestone,
} from './store';
import { reached, touched, type Tx } from '../../ledger/tx';
import { instructionIssue } from '../parameter/settlement-organisations';
import { emitAgreementEvent } from './events';
import { collectionMembers, requireCollectionMember } from '../../ledger/collections';
import { requireMemberOrganisations } from '../governance/member-organisations';

/**
 * Checks of a draft that need the caller and the transaction time but no state, so a
 * draft that fails them reads nothing.
 *
 * @throws RefusalError FORBIDDEN unless the caller is the client the draft names;
 *   VALIDATION_FAILED when a due date is not after the transaction time.
 */
export function checkDraft(tx: Tx, request: DraftAgreementRequest): void {
  const action = `draft agreement ${request.agreementId}`;
  requireUserId(tx.caller, action);
  if (tx.caller.role !== 'client' || !isParty(tx.caller, request.client)) {
    refuse('FORBIDDEN', `only the client named in the draft may ${action}; the caller is ${describeCaller(tx.caller)}`);
  }
  request.milestones.forEach((milestone, index) => {
    if (reached(tx, milestone.dueDate)) {
      const field = `milestones.${index}.dueDate`;
      refuse('VALIDATION_FAILED', `${field}: must be after the transaction time ${tx.at}`, field);
    }
  });
}

/**
 * Creates the agreement, its milestones and tasks, each bound to both parties'
 * organisations, the party index entries and the confidential terms.
 *
 * @throws RefusalError ALREADY_EXISTS for a taken id (the same answer whether or not the
 *   caller may read the agreement holding it); PARAMETER_INVALID when a consortium
 *   parameter is unset; VALIDATION_FAILED when maxRevisions exceeds the consortium's,
 *   or when the freelancer's organisation is outside the terms collection.
 *   VALIDATION_FAILED (`evaluator.mspId`) for a party of an organisation outside the consortium.
 */
export async function draftAgreement(
  tx: Tx,
  request: DraftAgreementRequest,
  terms: AgreementTerms,
  termsSha256: string,
): Promise<AgreementDetails> {
  const { ctx } = tx;
  if (await agreementExists(ctx, request.agreementId)) {
    refuseIdTaken('agreement', request.agreementId, 'agreementId');
  }
  // The freelancer must read the confidential terms to accept and deliver; one of an
  // organisation outside the terms collection (or of no organisation on the channel)
  // could never act, so the agreement would stay offered for ever. The client is the
  // caller, whose organisation is checked where the terms are written.
  const termsReaders = collectionMembers(agreementTermsCollection);
  if (!termsReaders.includes(request.freelancer.mspId)) {
    refuse(
      'VALIDATION_FAILED',
      `freelancer.mspId: ${request.freelancer.mspId} is not a member of private data collection ${agreementTermsCollection} (${termsReaders.join(', ')}), so this freelancer could never read the agreement's terms`,
      'freelancer.mspId',
    );
  }
  if (request.evaluator !== undefined) {
    await requireMemberOrganisations(tx, [{ field: 'evaluator', party: request.evaluator }]);
  }
  const platformFeeBps = (await readParameter(ctx, 'platformFeeBps')).value;
  const defaultReviewWindowSeconds = (await readParameter(ctx, 'defaultReviewWindowSeconds')).value;
  const maxRevisions = (await readParameter(ctx, 'maxRevisions')).value;
  if (request.maxRevisions !== undefined && request.maxRevisions > maxRevisions) {
    refuse(
      'VALIDATION_FAILED',
      `maxRevisions: must be at most ${maxRevisions}, the consortium's limit`,
      'maxRevisions',
    );
  }

  const agreement: AgreementRecord = {
    agreementId: request.agreementId,
    title: request.title,
    client: request.client,
    freelancer: request.freelancer,
    ...(request.evaluator === undefined ? {} : { evaluator: request.evaluator }),
    status: 'offered',
    termsSha256,
    milestoneIds: request.milestones.map((milestone) => milestone.milestoneId),
    revisionLimit: request.maxRevisions ?? maxRevisions,
    platformFeeBps,
    createdAt: tx.at,
    createdTxId: tx.txId,
    updatedAt: tx.at,
    updatedTxId: tx.txId,
  };
  await createOwnedRecord(ctx, agreement, agreementKey(ctx, agreement.agreementId), agreement);

  const milestones: MilestoneRecord[] = [];
  for (const [index, draft] of request.milestones.entries()) {
    const milestone: MilestoneRecord = {
      agreementId: agreement.agreementId,
      milestoneId: draft.milestoneId,
      position: index + 1,
      kind: draft.kind,
      title: draft.title,
      amount: draft.amount,
      currency: draft.currency,
      acceptanceCriteria:
        draft.kind === 'deliverable'
          ? draft.acceptanceCriteria
          : { description: draft.acceptanceCriteria.description, thresholds: [] },
      dueDate: draft.dueDate,
      reviewWindowSeconds: draft.reviewWindowSeconds ?? defaultReviewWindowSeconds,
      ...(draft.kind === 'deliverable' && draft.ipAssignment === 'client' ? { ipAssignment: 'client' as const } : {}),
      status: 'unfunded',
      submissions: [],
      rejectionCount: 0,
      instructions: [],
      ...(draft.kind === 'batch'
        ? {
            batch: {
              taskAmount: draft.taskAmount,
              taskCount: draft.tasks.length,
              submitted: 0,
              accepted: 0,
              rejected: 0,
            },
          }
        : {}),
      createdAt: tx.at,
      updatedAt: tx.at,
      updatedTxId: tx.txId,
    };
    await createOwnedRecord(ctx, agreement, milestoneKey(ctx, agreement.agreementId, milestone.milestoneId), milestone);
    milestones.push(milestone);
    if (draft.kind !== 'batch') continue;
    for (const [taskIndex, taskDraft] of draft.tasks.entries()) {
      const task: TaskRecord = {
        agreementId: agreement.agreementId,
        milestoneId: milestone.milestoneId,
        taskId: taskDraft.taskId,
        position: taskIndex + 1,
        instructions: taskDraft.instructions,
        ...(taskDraft.inputSha256 === undefined ? {} : { inputSha256: taskDraft.inputSha256 }),
        status: 'open',
        submissions: [],
        rejectionCount: 0,
        updatedAt: tx.at,
        updatedTxId: tx.txId,
      };
      await createOwnedRecord(
        ctx,
        agreement,
        taskKey(ctx, agreement.agreementId, milestone.milestoneId, task.taskId),
        task,
      );
    }
  }

  await indexParty(ctx, agreement.client, 'client', agreement.agreementId);
  await indexParty(ctx, agreement.freelancer, 'freelancer', agreement.agreementId);
  if (agreement.evaluator !== undefined) {
    await indexParty(ctx, agreement.evaluator, 'evaluator', agreement.agreementId);
  }
  requireCollectionMember(ctx, agreementTermsCollection, `keep the terms of agreement ${agreement.agreementId}`);
  await ctx.stub.putPrivateData(
    agreementTermsCollection,
    termsKey(ctx, agreement.agreementId),
    agreementTermsBytes(terms),
  );

  emitAgreementEvent(tx, agreementEvents.agreementDrafted, agreement.agreementId, { agreement, milestones });
  return { agreement, milestones };
}

function requireAgreementStatus(agreement: AgreementRecord, allowed: readonly AgreementStatus[], done: string): void {
  if (!allowed.includes(agreement.status)) {
    refuse(
      'INVALID_STATE',
      `agreement ${agreement.agreementId} is ${agreement.status}, not ${allowed.join(' or ')}, so it cannot be ${done}`,
      'agreementId',
    );
  }
}

/**
 * @throws RefusalError FORBIDDEN unless the freelancer calls; INVALID_STATE unless offered;
 *   TERMS_MISMATCH when the freelancer read other terms than the recorded ones;
 *   PERSONAL_DATA_ERASED when a party had the terms erased (GDPR Art. 17) while offered:
 *   nobody can read what would be agreed, so nothing can be accepted.
 */
export async function acceptAgreement(
  tx: Tx,
  request: { agreementId: string; termsSha256: string },
): Promise<AgreementRecord> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  const action = `accept agreement ${agreement.agreementId}`;
  requireSide(tx.caller, agreement, 'freelancer', action);
  requireAgreementStatus(agreement, ['offered'], 'accepted');
  if (request.termsSha256 !== agreement.termsSha256) {
    refuse(
      'TERMS_MISMATCH',
      `the terms accepted (${request.termsSha256}) are not the terms of agreement ${agreement.agreementId} (${agreement.termsSha256})`,
      'termsSha256',
    );
  }
  const erasure = await readErasureMarker(tx.ctx, agreementTermsCollection, termsKey(tx.ctx, agreement.agreementId));
  if (erasure !== undefined) {
    refuse(
      'PERSONAL_DATA_ERASED',
      `the terms of agreement ${agreement.agreementId} were erased at ${erasure.at} (receipt ${erasure.receiptId}), ` +
        'so no terms are left to accept; the client may draft the work again',
      'agreementId',
    );
  }
  const accepted = touched(tx, { ...agreement, status: 'active' as const, acceptedAt: tx.at });
  await writeAgreement(tx.ctx, accepted);
  emitAgreementEvent(tx, agreementEvents.agreementAccepted, agreement.agreementId, { agreement: accepted });
  return accepted;
}

/**
 * @throws RefusalError FORBIDDEN unless the freelancer calls; INVALID_STATE unless offered.
 */
export async function declineAgreement(
  tx: Tx,
  request: { agreementId: string; reason: string },
): Promise<AgreementRecord> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  const action = `decline agreement ${agreement.agreementId}`;
  requireSide(tx.caller, agreement, 'freelancer', action);
  requireAgreementStatus(agreement, ['offered'], 'declined');
  const declined = touched(tx, {
    ...agreement,
    status: 'declined' as const,
    declined: { reason: request.reason, at: tx.at, txId: tx.txId },
  });
  await writeAgreement(tx.ctx, declined);
  for (const milestone of await readMilestones(tx.ctx, agreement)) {
    await writeMilestone(tx.ctx, touched(tx, { ...milestone, status: 'cancelled' as const }));
  }
  emitAgreementEvent(tx, agreementEvents.agreementDeclined, agreement.agreementId, {
    agreement: declined,
    reason: request.reason,
  });
  return declined;
}

/**
 * Cancels an agreement. Before any escrow is funded either party may cancel alone;
 * afterwards the first party's call records a request and the other party's call
 * cancels, refunding every milestone whose escrow is still held.
 *
 * @throws RefusalError FORBIDDEN unless a party calls; INVALID_STATE when the agreement is
 *   over or complete (every milestone paid, settled, refunded or cancelled), when escrow
 *   awaits confirmation, a milestone is disputed or accepted but not released, or the
 *   same party asks twice.
 */
export async function cancelAgreement(
  tx: Tx,
  request: { agreementId: string; reason: string },
): Promise<AgreementDetails> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  const action = `cancel agreement ${agreement.agreementId}`;
  const side = requireEitherSide(tx.caller, agreement, action);
  requireAgreementStatus(agreement, ['offered', 'active'], 'cancelled');
  const milestones = await readMilestones(tx.ctx, agreement);
  for (const milestone of milestones) {
    const label = milestoneLabel(agreement.agreementId, milestone.milestoneId);
    if (milestone.status === 'funding') {
      refuse(
        'INVALID_STATE',
        `escrow of ${label} awaits settlement confirmation; cancel after it is confirmed or failed`,
        'agreementId',
      );
    }
    if (milestone.status === 'disputed') {
      refuse('INVALID_STATE', `${label} is disputed; cancel after the arbitrators decide`, 'agreementId');
    }
    if (milestone.status === 'accepted') {
      refuse('INVALID_STATE', `${label} is accepted; release it before cancelling the agreement`, 'agreementId');
    }
  }
  // A completed agreement stays active: its accepted terms still bind the parties (the
  // work's licence, its confidentiality), and cancelling it would change no milestone.
  if (milestones.length > 0 && milestones.every((milestone) => finalStatuses.includes(milestone.status))) {
    refuse(
      'INVALID_STATE',
      `every milestone of agreement ${agreement.agreementId} is ${[...new Set(milestones.map((m) => m.status))].join(' or ')}: it is complete, and there is nothing left to cancel`,
      'agreementId',
    );
  }

  const neverFunded = milestones.every((milestone) => milestone.status === 'unfunded');
  const pending = agreement.cancellationRequest;
  if (!neverFunded && agreement.status === 'active' && (pending === undefined || pending.by === side)) {
    if (pending !== undefined) {
      const other: PartySide = side === 'client' ? 'freelancer' : 'client';
      refuse(
        'INVALID_STATE',
        `the ${side} has already asked to cancel agreement ${agreement.agreementId}; escrow has been funded, so the ${other} must agree`,
        'agreementId',
      );
    }
    const requested = touched(tx, {
      ...agreement,
      cancellationRequest: { by: side, reason: request.reason, at: tx.at, txId: tx.txId },
    });
    await writeAgreement(tx.ctx, requested);
    emitAgreementEvent(tx, agreementEvents.cancellationRequested, agreement.agreementId, {
      agreement: requested,
      requestedBy: side,
      reason: request.reason,
    });
    return { agreement: requested, milestones };
  }

  const cancelled = touched(tx, {
    ...agreement,
    status: 'cancelled' as const,
    cancellation: {
      agreedBy: pending === undefined || pending.by === side ? [side] : [pending.by, side],
      reason: request.reason,
      at: tx.at,
      txId: tx.txId,
    },
  });
  await writeAgreement(tx.ctx, cancelled);
  const refunds: SettlementInstruction[] = [];
  const after: MilestoneRecord[] = [];
  const issue = await instructionIssue(tx);
  for (const milestone of milestones) {
    let changed: MilestoneRecord | undefined;
    if (milestone.status === 'unfunded') {
      changed = touched(tx, { ...milestone, status: 'cancelled' as const });
    } else if (escrowHeldStatuses.includes(milestone.status)) {
      const refund = newInstruction(
        issue,
        agreement,
        milestone,
        milestone.instructions,
        'refund',
        'cancellation',
        escrowOf(milestone),
      );
      refunds.push(refund);
      changed = touched(tx, {
        ...milestone,
        status: 'refunding' as const,
        instructions: [...milestone.instructions, refund],
      });
    }
    if (changed !== undefined) await writeMilestone(tx.ctx, changed);
    after.push(changed ?? milestone);
  }
  emitAgreementEvent(
    tx,
    agreementEvents.agreementCancelled,
    agreement.agreementId,
    { agreement: cancelled, milestones: after },
    refunds,
  );
  return { agreement: cancelled, milestones: after };
}
