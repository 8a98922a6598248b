import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import { reputationTransactions as spec } from '../model/reputation';
import { reputationContractName, type AttestationRecord, type CompletionRecord } from '../model/reputation-records';
import { computeReputation, type Reputation } from '../model/reputation-score';
import { isParty, requireRole, requireUserId } from '../ledger/caller';
import { parseArgument, refuse } from '../ledger/refusal';
import { runRequestOnce } from '../ledger/requests';
import { transactionInstant } from '../ledger/time';
import { txOf } from '../ledger/tx';
import { attest } from './reputation/attestations';
import { recordCompletion } from './reputation/completions';
import { readAttestations, readCompletions } from './reputation/store';

/**
 * Portable reputation: one record per rated milestone and per peer attestation, each
 * under its own key, and a score computed when read with its components and the
 * records it rests on. Formula and constants: `model/reputation-score.ts`.
 *
 * Reputation is meant to travel, so the queries are open to every identity on the
 * channel; the records name agreements and clients but no amounts or terms.
 */
@Info({ title: 'Reputation', description: 'Rated completions, peer attestations and the reputation score' })
export class ReputationContract extends Contract {
  constructor() {
    super(reputationContractName);
  }

  /**
   * The client rates a finished milestone from 1 to 5; timeliness and dispute outcome
   * come from the ledger. Repeating a request id returns the stored result; rating the
   * same milestone again with another request id is refused.
   */
  @Transaction()
  async recordCompletion(ctx: Context, requestJson: string): Promise<CompletionRecord> {
    const request = parseArgument(spec.recordCompletion.request, requestJson);
    const tx = txOf(ctx);
    const action = `rate milestone ${request.milestoneId} of agreement ${request.agreementId}`;
    requireUserId(tx.caller, action);
    requireRole(tx.caller, ['client'], action);
    return runRequestOnce(ctx, spec.recordCompletion, request, () => recordCompletion(tx, request));
  }

  /**
   * A freelancer vouches for another freelancer's skill on work they shared for the
   * same client. Repeating a request id returns the stored result.
   */
  @Transaction()
  async attest(ctx: Context, requestJson: string): Promise<AttestationRecord> {
    const request = parseArgument(spec.attest.request, requestJson);
    const tx = txOf(ctx);
    requireUserId(tx.caller, 'attest a skill');
    requireRole(tx.caller, ['freelancer'], 'attest a skill');
    if (isParty(tx.caller, request.subject)) refuse('FORBIDDEN', 'a freelancer may not vouch for their own skill');
    return runRequestOnce(ctx, spec.attest, request, () => attest(tx, request));
  }

  /** The subject's score with its components and the records it rests on, as of the transaction timestamp. */
  @Transaction(false)
  async reputationOf(ctx: Context, requestJson: string): Promise<Reputation> {
    const subject = parseArgument(spec.reputationOf.request, requestJson);
    return computeReputation({
      subject,
      asOf: transactionInstant(ctx),
      completions: await readCompletions(ctx, subject),
      attestations: await readAttestations(ctx, subject),
    });
  }

  /** The subject's rated completions, by agreement and milestone. */
  @Transaction(false)
  async listCompletions(ctx: Context, requestJson: string): Promise<CompletionRecord[]> {
    const subject = parseArgument(spec.listCompletions.request, requestJson);
    return readCompletions(ctx, subject);
  }

  /** Attestations of the subject's skills, by attester and agreement. */
  @Transaction(false)
  async listAttestations(ctx: Context, requestJson: string): Promise<AttestationRecord[]> {
    const subject = parseArgument(spec.listAttestations.request, requestJson);
    return readAttestations(ctx, subject);
  }
}
