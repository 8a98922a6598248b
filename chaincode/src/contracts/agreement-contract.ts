import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import {
  agreementTermsSchema,
  agreementTermsSha256,
  agreementTermsTransientKey,
  agreementTransactions as spec,
  type AgreementDetails,
  type AgreementTerms,
  type AgreementTermsResult,
  type AgreementView,
  type MilestoneHistoryEntry,
  type PartyQueryRole,
  type TaskBatchResult,
  type TermsVerification,
} from '../model/agreement';
import {
  agreementContractName,
  type AgreementRecord,
  type MilestoneRecord,
  type TaskRecord,
} from '../model/agreement-records';
import { parseTransient } from '../ledger/transient';
import {
  confirmSettlement,
  fundMilestone,
  reissueFailedPayout,
  releaseMilestone,
  retryHeldPayout,
} from './agreement/escrow';
import { castDisputeVote, openDispute } from './agreement/disputes';
import { acceptAgreement, cancelAgreement, checkDraft, declineAgreement, draftAgreement } from './agreement/lifecycle';
import * as queries from './agreement/queries';
import {
  acceptMilestone,
  claimAcceptance,
  postEvaluation,
  rejectDeliverable,
  submitDeliverable,
} from './agreement/review';
import { claimTasksAcceptance, reviewTasks, submitTasks } from './agreement/tasks';
import { runTransaction } from '../ledger/transaction';

/**
 * Work agreements between an enterprise client and an ML professional: milestones
 * with escrow, deliveries, reviews, evaluations, disputes and micro-task batches.
 *
 * Every transaction takes one JSON argument, validated against its schema in
 * `model/agreement.ts` before any state is read. Keys of an agreement can only be
 * changed with endorsements from both parties' organisations.
 */
@Info({ title: 'Agreements', description: 'Work agreements, escrowed milestones, reviews and disputes' })
export class AgreementContract extends Contract {
  constructor() {
    super(agreementContractName);
  }

  /**
   * The client drafts an agreement and offers it to the freelancer. The confidential
   * terms come in the transient map under `terms`; only their SHA-256 is on the channel.
   * Repeating a request id returns the stored result.
   */
  @Transaction()
  draftAgreement(ctx: Context, requestJson: string): Promise<AgreementDetails> {
    return runTransaction(ctx, spec.draftAgreement, requestJson, {
      prepare: (tx, request) => {
        const terms: AgreementTerms = parseTransient(ctx, agreementTermsTransientKey, agreementTermsSchema);
        checkDraft(tx, request);
        return { terms, termsSha256: agreementTermsSha256(terms) };
      },
      // The terms hash joins the fingerprint so that a retry with other terms is refused.
      fingerprint: (request, { termsSha256 }) => ({ request, termsSha256 }),
      run: (tx, request, { terms, termsSha256 }) => draftAgreement(tx, request, terms, termsSha256),
    });
  }
  /** The freelancer accepts the offer, naming the hash of the terms they read. */
  @Transaction()
  acceptAgreement(ctx: Context, requestJson: string): Promise<AgreementRecord> {
    return runTransaction(ctx, spec.acceptAgreement, requestJson, acceptAgreement);
  }

  /** The freelancer declines the offer. */
  @Transaction()
  declineAgreement(ctx: Context, requestJson: string): Promise<AgreementRecord> {
    return runTransaction(ctx, spec.declineAgreement, requestJson, declineAgreement);
  }

  /** Either party cancels before funding; after funding both must call, and held escrow is refunded. */
  @Transaction()
  cancelAgreement(ctx: Context, requestJson: string): Promise<AgreementDetails> {
    return runTransaction(ctx, spec.cancelAgreement, requestJson, cancelAgreement);
  }

  /** The client asks the settlement provider to fund a milestone's escrow. */
  @Transaction()
  fundMilestone(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    return runTransaction(ctx, spec.fundMilestone, requestJson, fundMilestone);
  }

  /** The settlement service records a provider's confirmation or failure of an instruction. */
  @Transaction()
  confirmSettlement(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    return runTransaction(ctx, spec.confirmSettlement, requestJson, confirmSettlement);
  }

  /**
   * Checks a held payout again: once the payee holds a valid KYC credential it becomes
   * a settlement request. Repeating it after success is refused as INVALID_STATE, so it
   * needs no request id.
   */
  @Transaction()
  retryHeldPayout(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    return runTransaction(ctx, spec.retryHeldPayout, requestJson, retryHeldPayout);
  }

  /**
   * Issues a failed payout again as a new instruction (after the payee fixed their
   * account, say). Repeating it is refused as INVALID_STATE, so it needs no request id.
   */
  @Transaction()
  reissueFailedPayout(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    return runTransaction(ctx, spec.reissueFailedPayout, requestJson, reissueFailedPayout);
  }

  /** The freelancer delivers a milestone's artifact (hash, URI, claimed metrics). */
  @Transaction()
  submitDeliverable(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    return runTransaction(ctx, spec.submitDeliverable, requestJson, submitDeliverable);
  }

  /** The client accepts the latest delivery. */
  @Transaction()
  acceptMilestone(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    return runTransaction(ctx, spec.acceptMilestone, requestJson, acceptMilestone);
  }

  /** The client rejects the latest delivery with a reason. */
  @Transaction()
  rejectDeliverable(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    return runTransaction(ctx, spec.rejectDeliverable, requestJson, rejectDeliverable);
  }

  /** The freelancer claims acceptance once the review window has closed unanswered. */
  @Transaction()
  claimAcceptance(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    return runTransaction(ctx, spec.claimAcceptance, requestJson, claimAcceptance);
  }

  /** The agreement's evaluator posts a report; meeting every threshold accepts the milestone. */
  @Transaction()
  postEvaluation(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    return runTransaction(ctx, spec.postEvaluation, requestJson, postEvaluation);
  }

  /** Either party releases an accepted milestone: emits the settlement request, net of the platform fee. */
  @Transaction()
  releaseMilestone(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    return runTransaction(ctx, spec.releaseMilestone, requestJson, releaseMilestone);
  }

  /** Either party disputes a submitted or rejected milestone, freezing it. */
  @Transaction()
  openDispute(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    return runTransaction(ctx, spec.openDispute, requestJson, openDispute);
  }

  /** An arbitrator votes a split of the escrow; a majority of the panel decides. */
  @Transaction()
  castDisputeVote(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    return runTransaction(ctx, spec.castDisputeVote, requestJson, castDisputeVote);
  }

  /** The freelancer delivers results for many tasks of a batch at once. */
  @Transaction()
  submitTasks(ctx: Context, requestJson: string): Promise<TaskBatchResult> {
    return runTransaction(ctx, spec.submitTasks, requestJson, submitTasks);
  }

  /** The client accepts and rejects many delivered tasks at once. */
  @Transaction()
  reviewTasks(ctx: Context, requestJson: string): Promise<TaskBatchResult> {
    return runTransaction(ctx, spec.reviewTasks, requestJson, reviewTasks);
  }

  /** The freelancer claims acceptance of every delivered task whose review window has closed. */
  @Transaction()
  claimTasksAcceptance(ctx: Context, requestJson: string): Promise<TaskBatchResult> {
    return runTransaction(ctx, spec.claimTasksAcceptance, requestJson, claimTasksAcceptance);
  }

  /** One agreement with its milestones and the history of its record. */
  @Transaction(false)
  getAgreement(ctx: Context, requestJson: string): Promise<AgreementView> {
    return runTransaction(ctx, spec.getAgreement, requestJson, (tx, request) =>
      queries.getAgreement(tx.ctx, tx.caller, request.agreementId),
    );
  }

  /** Agreements in which a person is client, freelancer or evaluator. */
  @Transaction(false)
  listAgreementsByParty(
    ctx: Context,
    requestJson: string,
  ): Promise<{ role: PartyQueryRole; agreement: AgreementRecord }[]> {
    return runTransaction(ctx, spec.listAgreementsByParty, requestJson, (tx, request) =>
      queries.listAgreementsByParty(tx.ctx, tx.caller, request),
    );
  }

  /** Every version of a milestone, newest first, from the ledger's history. */
  @Transaction(false)
  getMilestoneHistory(ctx: Context, requestJson: string): Promise<MilestoneHistoryEntry[]> {
    return runTransaction(ctx, spec.getMilestoneHistory, requestJson, (tx, request) =>
      queries.getMilestoneHistory(tx.ctx, tx.caller, request),
    );
  }

  /** The tasks of a batch milestone. */
  @Transaction(false)
  listTasks(ctx: Context, requestJson: string): Promise<TaskRecord[]> {
    return runTransaction(ctx, spec.listTasks, requestJson, (tx, request) =>
      queries.listTasks(tx.ctx, tx.caller, request),
    );
  }

  /** The confidential terms, for the parties, from a peer of a member organisation; or that they were erased. */
  @Transaction(false)
  getTerms(ctx: Context, requestJson: string): Promise<AgreementTermsResult> {
    return runTransaction(ctx, spec.getTerms, requestJson, (tx, request) =>
      queries.getTerms(tx.ctx, tx.caller, request.agreementId),
    );
  }

  /** Checks a terms document against the hash recorded on the agreement. */
  @Transaction(false)
  verifyTerms(ctx: Context, requestJson: string): Promise<TermsVerification> {
    return runTransaction(ctx, spec.verifyTerms, requestJson, (tx, request) =>
      queries.verifyTerms(tx.ctx, tx.caller, request),
    );
  }
}
