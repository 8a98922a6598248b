import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import { reputationTransactions as spec } from '../model/reputation';
import { reputationContractName, type AttestationRecord, type CompletionRecord } from '../model/reputation-records';
import { computeReputation, type Reputation } from '../model/reputation-score';
import { isParty, requireRole, requireUserId } from '../ledger/caller';
import { refuse } from '../ledger/refusal';
import { runTransaction } from '../ledger/transaction';
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
  recordCompletion(ctx: Context, requestJson: string): Promise<CompletionRecord> {
    return runTransaction(ctx, spec.recordCompletion, requestJson, {
      prepare: (tx, request) => {
        const action = `rate milestone ${request.milestoneId} of agreement ${request.agreementId}`;
        requireUserId(tx.caller, action);
        requireRole(tx.caller, ['client'], action);
      },
      run: recordCompletion,
    });
  }

  /**
   * A freelancer vouches for another freelancer's skill on work they shared for the
   * same client. Repeating a request id returns the stored result.
   */
  @Transaction()
  attest(ctx: Context, requestJson: string): Promise<AttestationRecord> {
    return runTransaction(ctx, spec.attest, requestJson, {
      prepare: (tx, request) => {
        requireUserId(tx.caller, 'attest a skill');
        requireRole(tx.caller, ['freelancer'], 'attest a skill');
        if (isParty(tx.caller, request.subject)) refuse('FORBIDDEN', 'a freelancer may not vouch for their own skill');
      },
      run: attest,
    });
  }

  /** The subject's score with its components and the records it rests on, as of the transaction timestamp. */
  @Transaction(false)
  reputationOf(ctx: Context, requestJson: string): Promise<Reputation> {
    return runTransaction(ctx, spec.reputationOf, requestJson, async (tx, subject) =>
      computeReputation({
        subject,
        asOf: tx.at,
        completions: await readCompletions(ctx, subject),
        attestations: await readAttestations(ctx, subject),
      }),
    );
  }

  /** The subject's rated completions, by agreement and milestone. */
  @Transaction(false)
  listCompletions(ctx: Context, requestJson: string): Promise<CompletionRecord[]> {
    return runTransaction(ctx, spec.listCompletions, requestJson, (tx, request) => readCompletions(tx.ctx, request));
  }

  /** Attestations of the subject's skills, by attester and agreement. */
  @Transaction(false)
  listAttestations(ctx: Context, requestJson: string): Promise<AttestationRecord[]> {
    return runTransaction(ctx, spec.listAttestations, requestJson, (tx, request) => readAttestations(tx.ctx, request));
  }
}
