import { Info } from 'fabric-contract-api';
import { reputationTransactions as spec } from '../model/reputation';
import { reputationContractName } from '../model/reputation-records';
import { computeReputation } from '../model/reputation-score';
import { isParty, requireRole, requireUserId } from '../ledger/caller';
import { refuse } from '../ledger/refusal';
import { contractClass, transaction } from '../ledger/contract-class';
import { requireMemberOrganisations } from './governance/member-organisations';
import { attest } from './reputation/attestations';
import { recordCompletion } from './reputation/completions';
import { readAttestations, readAttestationsPage, readCompletions, readCompletionsPage } from './reputation/store';

/**
 * Portable reputation: one record per rated milestone and per peer attestation, each
 * under its own key, and a score computed when read with its components and the
 * records it rests on. Formula and constants: `model/reputation-score.ts`.
 *
 * Reputation is meant to travel, so the queries are open to every identity on the
 * channel; the records name agreements and clients but no amounts or terms.
 */
@Info({ title: 'Reputation', description: 'Rated completions, peer attestations and the reputation score' })
export class ReputationContract extends contractClass(reputationContractName, {
  /**
   * The client rates a finished milestone from 1 to 5; timeliness and dispute outcome
   * come from the ledger. Repeating a request id returns the stored result; rating the
   * same milestone again with another request id is refused.
   */
  recordCompletion: transaction(spec.recordCompletion, {
    prepare: (tx, request) => {
      const action = `rate milestone ${request.milestoneId} of agreement ${request.agreementId}`;
      requireUserId(tx.caller, action);
      requireRole(tx.caller, ['client'], action);
    },
    run: recordCompletion,
  }),

  /**
   * A freelancer vouches for another freelancer's skill on work they shared for the
   * same client. Repeating a request id returns the stored result.
   */
  attest: transaction(spec.attest, {
    prepare: (tx, request) => {
      requireUserId(tx.caller, 'attest a skill');
      requireRole(tx.caller, ['freelancer'], 'attest a skill');
      if (isParty(tx.caller, request.subject)) refuse('FORBIDDEN', 'a freelancer may not vouch for their own skill');
    },
    run: attest,
  }),

  /**
   * The subject's score with its components and the records it rests on, as of the
   * transaction timestamp. A person without records scores the formula's prior, as every
   * newcomer does; one of an organisation the consortium does not count among its members
   * is refused instead, as such a score would read as a real person's. People of a former
   * member keep the score their records give.
   *
   * @throws RefusalError VALIDATION_FAILED (`mspId`) for a subject without records of an
   *   organisation that is no member.
   */
  reputationOf: transaction(spec.reputationOf, async (tx, subject) => {
    const completions = await readCompletions(tx.ctx, subject);
    const attestations = await readAttestations(tx.ctx, subject);
    if (completions.length === 0 && attestations.length === 0) {
      await requireMemberOrganisations(tx, [{ field: '', party: subject }]);
    }
    return computeReputation({ subject, asOf: tx.at, completions, attestations });
  }),

  /** One page of the subject's rated completions, by agreement and milestone. */
  listCompletions: transaction(spec.listCompletions, (tx, request) =>
    readCompletionsPage(tx.ctx, { mspId: request.mspId, userId: request.userId }, request),
  ),

  /** One page of the attestations of the subject's skills, by attester and agreement. */
  listAttestations: transaction(spec.listAttestations, (tx, request) =>
    readAttestationsPage(tx.ctx, { mspId: request.mspId, userId: request.userId }, request),
  ),
}) {}
