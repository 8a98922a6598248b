import type { AttestationRecord, CompletionRecord } from './reputation-records';
import {
  attesterWeight,
  computeReputation,
  recencyWeight,
  reputationFormula,
  reputationSchema,
} from './reputation-score';

const subject = { mspId: 'TalentOrgMSP', userId: 'tara' };
const asOf = '2026-06-01T00:00:00.000Z';
const daysBefore = (days: number): string => new Date(Date.parse(asOf) - days * 24 * 3600 * 1000).toISOString();

let sequence = 0;
function completion(overrides: Partial<CompletionRecord> = {}): CompletionRecord {
  sequence += 1;
  return {
    subject,
    client: { mspId: 'ClientOrgMSP', userId: 'carol' },
    agreementId: `A-${sequence}`,
    milestoneId: 'm1',
    milestoneKind: 'deliverable',
    milestoneStatus: 'paid',
    rating: 5,
    dueDate: daysBefore(0),
    deliveredAt: daysBefore(1),
    onTime: true,
    disputeOutcome: 'none',
    completedAt: asOf,
    recordedAt: asOf,
    txId: `tx-c${sequence}`,
    ...overrides,
  };
}

function attestation(overrides: Partial<AttestationRecord> = {}): AttestationRecord {
  sequence += 1;
  return {
    subject,
    attester: { mspId: 'TalentOrgMSP', userId: `peer-${sequence}` },
    agreementId: 'A-1',
    attesterAgreementId: `B-${sequence}`,
    client: { mspId: 'ClientOrgMSP', userId: 'carol' },
    skill: 'pytorch',
    level: 5,
    attesterActiveCredentials: 0,
    weight: 1,
    recordedAt: asOf,
    txId: `tx-a${sequence}`,
    ...overrides,
  };
}

const score = (completions: CompletionRecord[], attestations: AttestationRecord[] = []) =>
  computeReputation({ subject, asOf, completions, attestations });

describe('reputation score (gigledger-reputation/v1)', () => {
  it('scores someone without records at 50: every part at its prior', () => {
    const reputation = score([]);
    expect(reputationSchema.parse(reputation)).toEqual(reputation);
    expect(reputation.score).toBe(50);
    expect(reputation.parts).toEqual({ rating: 0.5, onTime: 0.5, attestation: 0.5 });
    expect(reputation.components.completions).toEqual({ count: 0, weightedRating: 3, effectiveWeight: 0 });
    expect(reputation.basis).toEqual([]);
    expect(reputation.formula).toEqual(reputationFormula);
  });

  it('moves a fresh five-star on-time completion by the Bayesian weights', () => {
    const reputation = score([completion()]);
    // R = (3·5 + 5) / (5 + 1) = 3.3333; T = (0.5·5 + 1) / 6 = 0.5833
    expect(reputation.components.completions).toMatchObject({ count: 1, meanRating: 5, weightedRating: 3.3333 });
    expect(reputation.components.onTime).toEqual({ onTime: 1, late: 0, unknown: 0, rate: 0.5833 });
    // 100 × (0.6 × 0.58333 + 0.2 × 0.58333 + 0.2 × 0.5) = 56.67
    expect(reputation.score).toBe(56.67);
  });

  it('halves the weight of a record every 365 days', () => {
    expect(recencyWeight(daysBefore(365), asOf)).toBeCloseTo(0.5, 12);
    expect(recencyWeight(daysBefore(730), asOf)).toBeCloseTo(0.25, 12);
    expect(recencyWeight(daysBefore(-10), asOf)).toBe(1);
    const old = score([completion({ completedAt: daysBefore(365), rating: 1, onTime: false })]);
    // R = (15 + 0.5 × 1) / 5.5
    expect(old.components.completions.weightedRating).toBe(2.8182);
    expect(old.components.completions.effectiveWeight).toBe(0.5);
    expect(old.basis[0]!.recency).toBe(0.5);
  });

  it('leaves completions of unknown timeliness out of the on-time rate', () => {
    const reputation = score([completion({ onTime: undefined }), completion({ onTime: false })]);
    expect(reputation.components.onTime).toEqual({ onTime: 0, late: 1, unknown: 1, rate: 0.4167 });
  });

  it('takes 5 points per lost dispute, decayed, at most 20; won and split disputes cost nothing', () => {
    const base = score([completion({ rating: 3 })]).score;
    expect(score([completion({ rating: 3, disputeOutcome: 'won' })]).score).toBe(base);
    expect(score([completion({ rating: 3, disputeOutcome: 'split' })]).score).toBe(base);
    const lost = score([completion({ rating: 3, disputeOutcome: 'lost' })]);
    expect(lost.components.disputes).toEqual({ won: 0, lost: 1, split: 0, penalty: 5 });
    expect(lost.score).toBeCloseTo(base - 5, 2);
    const old = score([completion({ rating: 3, disputeOutcome: 'lost', completedAt: daysBefore(365) })]);
    expect(old.components.disputes.penalty).toBe(2.5);
    const many = score(Array.from({ length: 6 }, () => completion({ rating: 3, disputeOutcome: 'lost' })));
    expect(many.components.disputes).toMatchObject({ lost: 6, penalty: 20 });
  });

  it('keeps the score between 0 and 100', () => {
    const worst = score(
      Array.from({ length: 200 }, () => completion({ rating: 1, onTime: false, disputeOutcome: 'lost' })),
    );
    expect(worst.score).toBe(0);
    const best = score(
      Array.from({ length: 500 }, () => completion()),
      Array.from({ length: 500 }, () => attestation({ weight: 2 })),
    );
    expect(best.score).toBeGreaterThan(99);
    expect(best.score).toBeLessThanOrEqual(100);
  });

  it('weighs attestations by the attester weight and recency, with a prior level of 3 weighing 3', () => {
    const reputation = score([], [attestation({ weight: 2, level: 5 }), attestation({ level: 1, skill: 'jax' })]);
    // L = (3·3 + 2·5 + 1·1) / (3 + 2 + 1) = 20 / 6
    expect(reputation.components.attestations).toEqual({
      count: 2,
      weightedLevel: 3.3333,
      effectiveWeight: 3,
      skills: [
        { skill: 'jax', count: 1, weightedLevel: 1 },
        { skill: 'pytorch', count: 1, weightedLevel: 5 },
      ],
    });
    expect(reputation.parts.attestation).toBe(0.5833);
  });

  it('gives attesters a weight of 1 plus 0.25 per active credential, counting at most 4', () => {
    expect([0, 1, 2, 3, 4, 5, 40].map(attesterWeight)).toEqual([1, 1.25, 1.5, 1.75, 2, 2, 2]);
  });

  it('names every record it rests on by key and transaction id', () => {
    const done = completion({ agreementId: 'A-9', milestoneId: 'm2', txId: 'tx-done' });
    const vouched = attestation({
      agreementId: 'A-9',
      txId: 'tx-vouch',
      attester: { mspId: 'TalentOrgMSP', userId: 'tom' },
    });
    expect(score([done], [vouched]).basis).toEqual([
      {
        kind: 'completion',
        objectType: 'completion',
        attributes: ['TalentOrgMSP', 'tara', 'A-9', 'm2'],
        txId: 'tx-done',
        recordedAt: asOf,
        countedFrom: asOf,
        recency: 1,
      },
      {
        kind: 'attestation',
        objectType: 'attestation',
        attributes: ['TalentOrgMSP', 'tara', 'TalentOrgMSP', 'tom', 'A-9'],
        txId: 'tx-vouch',
        recordedAt: asOf,
        countedFrom: asOf,
        recency: 1,
      },
    ]);
  });
});
