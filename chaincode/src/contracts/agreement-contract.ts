import { Info } from 'fabric-contract-api';
import {
  draftedAgreementTermsSchema,
  agreementTermsSha256,
  agreementTermsTransientKey,
  agreementTransactions as spec,
  type AgreementTerms,
} from '../model/agreement';
import { agreementContractName } from '../model/agreement-records';
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
import { contractClass, transaction } from '../ledger/contract-class';

/**
 * Work agreements between an enterprise client and an ML professional: milestones
 * with escrow, deliveries, reviews, evaluations, disputes and micro-task batches.
 *
 * Every transaction takes one JSON argument, validated against its schema in
 * `model/agreement.ts` before any state is read. Keys of an agreement can only be
 * changed with endorsements from both parties' organisations.
 */
@Info({ title: 'Agreements', description: 'Work agreements, escrowed milestones, reviews and disputes' })
export class AgreementContract extends contractClass(agreementContractName, {
  /**
   * The client drafts an agreement and offers it to the freelancer. The confidential
   * terms come in the transient map under `terms`; only their SHA-256 is on the channel.
   * Repeating a request id returns the stored result.
   */
  draftAgreement: transaction(spec.draftAgreement, {
    prepare: (tx, request) => {
      const terms: AgreementTerms = parseTransient(tx.ctx, agreementTermsTransientKey, draftedAgreementTermsSchema);
      checkDraft(tx, request);
      return { terms, termsSha256: agreementTermsSha256(terms) };
    },
    // The terms hash joins the fingerprint so that a retry with other terms is refused.
    fingerprint: (request, { termsSha256 }) => ({ request, termsSha256 }),
    run: (tx, request, { terms, termsSha256 }) => draftAgreement(tx, request, terms, termsSha256),
  }),
  /** The freelancer accepts the offer, naming the hash of the terms they read. */
  acceptAgreement: transaction(spec.acceptAgreement, acceptAgreement),

  /** The freelancer declines the offer. */
  declineAgreement: transaction(spec.declineAgreement, declineAgreement),

  /** Either party cancels before funding; after funding both must call, and held escrow is refunded. */
  cancelAgreement: transaction(spec.cancelAgreement, cancelAgreement),

  /** The client asks the settlement provider to fund a milestone's escrow. */
  fundMilestone: transaction(spec.fundMilestone, fundMilestone),

  /** The settlement service records a provider's confirmation or failure of an instruction. */
  confirmSettlement: transaction(spec.confirmSettlement, confirmSettlement),

  /**
   * Checks a held payout again: once the payee holds a valid KYC credential it becomes
   * a settlement request. Repeating it after success is refused as INVALID_STATE, so it
   * needs no request id.
   */
  retryHeldPayout: transaction(spec.retryHeldPayout, retryHeldPayout),

  /**
   * Issues a failed payout again as a new instruction (after the payee fixed their
   * account, say). Repeating it is refused as INVALID_STATE, so it needs no request id.
   */
  reissueFailedPayout: transaction(spec.reissueFailedPayout, reissueFailedPayout),

  /** The freelancer delivers a milestone's artifact (hash, URI, claimed metrics). */
  submitDeliverable: transaction(spec.submitDeliverable, submitDeliverable),

  /** The client accepts the latest delivery. */
  acceptMilestone: transaction(spec.acceptMilestone, acceptMilestone),

  /** The client rejects the latest delivery with a reason. */
  rejectDeliverable: transaction(spec.rejectDeliverable, rejectDeliverable),

  /** The freelancer claims acceptance once the review window has closed unanswered. */
  claimAcceptance: transaction(spec.claimAcceptance, claimAcceptance),

  /** The agreement's evaluator posts a report; meeting every threshold accepts the milestone. */
  postEvaluation: transaction(spec.postEvaluation, postEvaluation),

  /** Either party releases an accepted milestone: emits the settlement request, net of the platform fee. */
  releaseMilestone: transaction(spec.releaseMilestone, releaseMilestone),

  /** Either party disputes a submitted or rejected milestone, freezing it. */
  openDispute: transaction(spec.openDispute, openDispute),

  /** An arbitrator votes a split of the escrow; a majority of the panel decides. */
  castDisputeVote: transaction(spec.castDisputeVote, castDisputeVote),

  /** The freelancer delivers results for many tasks of a batch at once. */
  submitTasks: transaction(spec.submitTasks, submitTasks),

  /** The client accepts and rejects many delivered tasks at once. */
  reviewTasks: transaction(spec.reviewTasks, reviewTasks),

  /** The freelancer claims acceptance of every delivered task whose review window has closed. */
  claimTasksAcceptance: transaction(spec.claimTasksAcceptance, claimTasksAcceptance),

  /** One agreement with its milestones and the history of its record. */
  getAgreement: transaction(spec.getAgreement, (tx, request) =>
    queries.getAgreement(tx.ctx, tx.caller, request.agreementId),
  ),

  /** Agreements in which a person is client, freelancer or evaluator. */
  listAgreementsByParty: transaction(spec.listAgreementsByParty, (tx, request) =>
    queries.listAgreementsByParty(tx.ctx, tx.caller, request),
  ),

  /** The disputes whose panel holds the calling arbitrator, open or decided. */
  listPanelDisputes: transaction(spec.listPanelDisputes, (tx, request) =>
    queries.listPanelDisputes(tx.ctx, tx.caller, request),
  ),

  /** Every version of a milestone, newest first, from the ledger's history. */
  getMilestoneHistory: transaction(spec.getMilestoneHistory, (tx, request) =>
    queries.getMilestoneHistory(tx.ctx, tx.caller, request),
  ),

  /** The tasks of a batch milestone. */
  listTasks: transaction(spec.listTasks, (tx, request) => queries.listTasks(tx.ctx, tx.caller, request)),

  /** The confidential terms, for the parties, from a peer of a member organisation; or that they were erased. */
  getTerms: transaction(spec.getTerms, (tx, request) => queries.getTerms(tx.ctx, tx.caller, request.agreementId)),

  /** Checks a terms document against the hash recorded on the agreement. */
  verifyTerms: transaction(spec.verifyTerms, (tx, request) => queries.verifyTerms(tx.ctx, tx.caller, request)),
}) {}
