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
import { parseArgument } from '../ledger/refusal';
import { runRequestOnce } from '../ledger/requests';
import { parseTransient } from '../ledger/transient';
import { callerOf } from '../ledger/caller';
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
import { txOf } from '../ledger/tx';

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
  async draftAgreement(ctx: Context, requestJson: string): Promise<AgreementDetails> {
    const request = parseArgument(spec.draftAgreement.request, requestJson);
    const terms: AgreementTerms = parseTransient(ctx, agreementTermsTransientKey, agreementTermsSchema);
    const termsSha256 = agreementTermsSha256(terms);
    const tx = txOf(ctx);
    checkDraft(tx, request);
    // The terms hash joins the fingerprint so that a retry with other terms is refused.
    return runRequestOnce(ctx, spec.draftAgreement, request, () => draftAgreement(tx, request, terms, termsSha256), {
      request,
      termsSha256,
    });
  }

  /** The freelancer accepts the offer, naming the hash of the terms they read. */
  @Transaction()
  async acceptAgreement(ctx: Context, requestJson: string): Promise<AgreementRecord> {
    const request = parseArgument(spec.acceptAgreement.request, requestJson);
    return acceptAgreement(txOf(ctx), request);
  }

  /** The freelancer declines the offer. */
  @Transaction()
  async declineAgreement(ctx: Context, requestJson: string): Promise<AgreementRecord> {
    const request = parseArgument(spec.declineAgreement.request, requestJson);
    return declineAgreement(txOf(ctx), request);
  }

  /** Either party cancels before funding; after funding both must call, and held escrow is refunded. */
  @Transaction()
  async cancelAgreement(ctx: Context, requestJson: string): Promise<AgreementDetails> {
    const request = parseArgument(spec.cancelAgreement.request, requestJson);
    return cancelAgreement(txOf(ctx), request);
  }

  /** The client asks the settlement provider to fund a milestone's escrow. */
  @Transaction()
  async fundMilestone(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    const request = parseArgument(spec.fundMilestone.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.fundMilestone, request, () => fundMilestone(tx, request));
  }

  /** The settlement service records a provider's confirmation or failure of an instruction. */
  @Transaction()
  async confirmSettlement(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    const request = parseArgument(spec.confirmSettlement.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.confirmSettlement, request, () => confirmSettlement(tx, request));
  }

  /**
   * Checks a held payout again: once the payee holds a valid KYC credential it becomes
   * a settlement request. Repeating it after success is refused as INVALID_STATE, so it
   * needs no request id.
   */
  @Transaction()
  async retryHeldPayout(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    const request = parseArgument(spec.retryHeldPayout.request, requestJson);
    return retryHeldPayout(txOf(ctx), request);
  }

  /**
   * Issues a failed payout again as a new instruction (after the payee fixed their
   * account, say). Repeating it is refused as INVALID_STATE, so it needs no request id.
   */
  @Transaction()
  async reissueFailedPayout(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    const request = parseArgument(spec.reissueFailedPayout.request, requestJson);
    return reissueFailedPayout(txOf(ctx), request);
  }

  /** The freelancer delivers a milestone's artifact (hash, URI, claimed metrics). */
  @Transaction()
  async submitDeliverable(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    const request = parseArgument(spec.submitDeliverable.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.submitDeliverable, request, () => submitDeliverable(tx, request));
  }

  /** The client accepts the latest delivery. */
  @Transaction()
  async acceptMilestone(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    const request = parseArgument(spec.acceptMilestone.request, requestJson);
    return acceptMilestone(txOf(ctx), request);
  }

  /** The client rejects the latest delivery with a reason. */
  @Transaction()
  async rejectDeliverable(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    const request = parseArgument(spec.rejectDeliverable.request, requestJson);
    return rejectDeliverable(txOf(ctx), request);
  }

  /** The freelancer claims acceptance once the review window has closed unanswered. */
  @Transaction()
  async claimAcceptance(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    const request = parseArgument(spec.claimAcceptance.request, requestJson);
    return claimAcceptance(txOf(ctx), request);
  }

  /** The agreement's evaluator posts a report; meeting every threshold accepts the milestone. */
  @Transaction()
  async postEvaluation(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    const request = parseArgument(spec.postEvaluation.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.postEvaluation, request, () => postEvaluation(tx, request));
  }

  /** Either party releases an accepted milestone: emits the settlement request, net of the platform fee. */
  @Transaction()
  async releaseMilestone(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    const request = parseArgument(spec.releaseMilestone.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.releaseMilestone, request, () => releaseMilestone(tx, request));
  }

  /** Either party disputes a submitted or rejected milestone, freezing it. */
  @Transaction()
  async openDispute(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    const request = parseArgument(spec.openDispute.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.openDispute, request, () => openDispute(tx, request));
  }

  /** An arbitrator votes a split of the escrow; a majority of the panel decides. */
  @Transaction()
  async castDisputeVote(ctx: Context, requestJson: string): Promise<MilestoneRecord> {
    const request = parseArgument(spec.castDisputeVote.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.castDisputeVote, request, () => castDisputeVote(tx, request));
  }

  /** The freelancer delivers results for many tasks of a batch at once. */
  @Transaction()
  async submitTasks(ctx: Context, requestJson: string): Promise<TaskBatchResult> {
    const request = parseArgument(spec.submitTasks.request, requestJson);
    const tx = txOf(ctx);
    return runRequestOnce(ctx, spec.submitTasks, request, () => submitTasks(tx, request));
  }

  /** The client accepts and rejects many delivered tasks at once. */
  @Transaction()
  async reviewTasks(ctx: Context, requestJson: string): Promise<TaskBatchResult> {
    const request = parseArgument(spec.reviewTasks.request, requestJson);
    return reviewTasks(txOf(ctx), request);
  }

  /** The freelancer claims acceptance of every delivered task whose review window has closed. */
  @Transaction()
  async claimTasksAcceptance(ctx: Context, requestJson: string): Promise<TaskBatchResult> {
    const request = parseArgument(spec.claimTasksAcceptance.request, requestJson);
    return claimTasksAcceptance(txOf(ctx), request);
  }

  /** One agreement with its milestones and the history of its record. */
  @Transaction(false)
  async getAgreement(ctx: Context, requestJson: string): Promise<AgreementView> {
    const request = parseArgument(spec.getAgreement.request, requestJson);
    return queries.getAgreement(ctx, callerOf(ctx), request.agreementId);
  }

  /** Agreements in which a person is client, freelancer or evaluator. */
  @Transaction(false)
  async listAgreementsByParty(
    ctx: Context,
    requestJson: string,
  ): Promise<{ role: PartyQueryRole; agreement: AgreementRecord }[]> {
    const request = parseArgument(spec.listAgreementsByParty.request, requestJson);
    return queries.listAgreementsByParty(ctx, callerOf(ctx), request);
  }

  /** Every version of a milestone, newest first, from the ledger's history. */
  @Transaction(false)
  async getMilestoneHistory(ctx: Context, requestJson: string): Promise<MilestoneHistoryEntry[]> {
    const request = parseArgument(spec.getMilestoneHistory.request, requestJson);
    return queries.getMilestoneHistory(ctx, callerOf(ctx), request);
  }

  /** The tasks of a batch milestone. */
  @Transaction(false)
  async listTasks(ctx: Context, requestJson: string): Promise<TaskRecord[]> {
    const request = parseArgument(spec.listTasks.request, requestJson);
    return queries.listTasks(ctx, callerOf(ctx), request);
  }

  /** The confidential terms, for the parties, from a peer of a member organisation; or that they were erased. */
  @Transaction(false)
  async getTerms(ctx: Context, requestJson: string): Promise<AgreementTermsResult> {
    const request = parseArgument(spec.getTerms.request, requestJson);
    return queries.getTerms(ctx, callerOf(ctx), request.agreementId);
  }

  /** Checks a terms document against the hash recorded on the agreement. */
  @Transaction(false)
  async verifyTerms(ctx: Context, requestJson: string): Promise<TermsVerification> {
    const request = parseArgument(spec.verifyTerms.request, requestJson);
    return queries.verifyTerms(ctx, callerOf(ctx), request);
  }
}
