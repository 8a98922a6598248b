import { z } from 'zod';
import { partySchema, type Party } from './party';
import {
  attestationKeyAttributes,
  attestationObjectType,
  completionKeyAttributes,
  completionObjectType,
  type AttestationRecord,
  type CompletionRecord,
} from './reputation-records';

/*
 * Reputation score — formula `gigledger-reputation/v1`
 * =====================================================
 *
 * The score is computed when read (`reputation:reputationOf`), from the subject's
 * completion and attestation records, relative to the transaction timestamp `now`.
 * Its parameters are constants of this model, not consortium parameters: a score must
 * mean the same thing on every peer and in every exported statement, and a statement
 * names the formula version it was computed with. Changing a constant means a new
 * formula version.
 *
 * Recency. Every record counts with the weight
 *     d = 0.5 ^ (age in days / 365)                      (half-life 365 days; age ≥ 0)
 * where age runs from the completion time (acceptance or arbitration decision) of a
 * completion, or from the recording time of an attestation, to `now`.
 *
 * Client rating (completions i, rating r_i from 1 to 5), with a Bayesian prior of mean 3
 * weighing as much as 5 fresh ratings:
 *     R = (3 × 5 + Σ d_i r_i) / (5 + Σ d_i)              → ratingPart = (R − 1) / 4
 *
 * On time (completions whose timeliness the ledger knows), prior rate 0.5 with weight 5:
 *     T = (0.5 × 5 + Σ d_i [on time]) / (5 + Σ d_i)      → onTimePart = T
 *
 * Peer attestations (j, level l_j from 1 to 5, stored attester weight w_j), prior level
 * 3 with weight 3:
 *     a_j = w_j d_j
 *     L = (3 × 3 + Σ a_j l_j) / (3 + Σ a_j)               → attestationPart = (L − 1) / 4
 *     w_j = 1 + 0.25 × min(active credentials of the attester when attesting, 4)   (1 to 2)
 *
 * Disputes lost (completions whose arbitration gave the freelancer nothing) cost 5
 * points each, decayed, at most 20 in all; won and split disputes cost nothing:
 *     P = min(20, 5 × Σ_{lost} d_i)
 *
 * Score, on a scale of 0 to 100, rounded to 2 decimals:
 *     S = clamp(100 × (0.6 ratingPart + 0.2 onTimePart + 0.2 attestationPart) − P, 0, 100)
 *
 * Someone with no records scores 50: every part sits at its prior. Each record moves
 * the score less the older it is, and a handful of records cannot move it far.
 */

/** The constants of the formula, as published with every score. */
export const reputationFormulaSchema = z.object({
  version: z.string(),
  scaleMin: z.number(),
  scaleMax: z.number(),
  halfLifeDays: z.number(),
  ratingPriorMean: z.number(),
  ratingPriorWeight: z.number(),
  onTimePriorRate: z.number(),
  onTimePriorWeight: z.number(),
  attestationPriorLevel: z.number(),
  attestationPriorWeight: z.number(),
  ratingShare: z.number(),
  onTimeShare: z.number(),
  attestationShare: z.number(),
  disputeLostPenalty: z.number(),
  maxDisputePenalty: z.number(),
  attesterBaseWeight: z.number(),
  attesterWeightPerCredential: z.number(),
  attesterMaxCountedCredentials: z.number(),
});
export type ReputationFormula = z.output<typeof reputationFormulaSchema>;

/** Formula `gigledger-reputation/v1`; see the description above. */
export const reputationFormula = {
  version: 'gigledger-reputation/v1',
  scaleMin: 0,
  scaleMax: 100,
  halfLifeDays: 365,
  ratingPriorMean: 3,
  ratingPriorWeight: 5,
  onTimePriorRate: 0.5,
  onTimePriorWeight: 5,
  attestationPriorLevel: 3,
  attestationPriorWeight: 3,
  ratingShare: 0.6,
  onTimeShare: 0.2,
  attestationShare: 0.2,
  disputeLostPenalty: 5,
  maxDisputePenalty: 20,
  attesterBaseWeight: 1,
  attesterWeightPerCredential: 0.25,
  attesterMaxCountedCredentials: 4,
} as const satisfies ReputationFormula;

const millisPerDay = 24 * 3600 * 1000;

/**
 * Weight of an attestation given the number of the attester's credentials that were
 * active and unexpired when it was recorded: 1, 1.25, 1.5, 1.75 or 2.
 */
export function attesterWeight(activeCredentials: number): number {
  const counted = Math.min(Math.max(0, Math.floor(activeCredentials)), reputationFormula.attesterMaxCountedCredentials);
  return reputationFormula.attesterBaseWeight + reputationFormula.attesterWeightPerCredential * counted;
}

/** Recency weight of something that happened at `at`, seen at `asOf`: 1 when fresh, ½ after one half-life. */
export function recencyWeight(at: string, asOf: string): number {
  const ageDays = Math.max(0, Date.parse(asOf) - Date.parse(at)) / millisPerDay;
  return 0.5 ** (ageDays / reputationFormula.halfLifeDays);
}

const round = (value: number, decimals: number): number => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};

export const reputationBasisEntrySchema = z.object({
  kind: z.enum(['completion', 'attestation']),
  /** The record's key is the composite key of `objectType` and `attributes`. */
  objectType: z.string(),
  attributes: z.array(z.string()),
  /** The transaction that wrote the record. */
  txId: z.string(),
  recordedAt: z.string(),
  /** The instant recency counts from. */
  countedFrom: z.string(),
  /** Recency weight at `asOf`, rounded to 4 decimals. */
  recency: z.number(),
});
export type ReputationBasisEntry = z.output<typeof reputationBasisEntrySchema>;

export const reputationSchema = z.object({
  subject: partySchema,
  /** Transaction timestamp the score was computed at. */
  asOf: z.string(),
  /** On the formula's scale (0 to 100), 2 decimals. */
  score: z.number(),
  formula: reputationFormulaSchema,
  components: z.object({
    completions: z.object({
      count: z.number().int(),
      /** Plain mean of the ratings; absent without completions. */
      meanRating: z.number().optional(),
      /** R: recency-weighted rating with the prior. */
      weightedRating: z.number(),
      /** Σ d_i. */
      effectiveWeight: z.number(),
    }),
    onTime: z.object({
      onTime: z.number().int(),
      late: z.number().int(),
      unknown: z.number().int(),
      /** T: recency-weighted on-time rate with the prior. */
      rate: z.number(),
    }),
    disputes: z.object({
      won: z.number().int(),
      lost: z.number().int(),
      split: z.number().int(),
      /** P: points taken off the score. */
      penalty: z.number(),
    }),
    attestations: z.object({
      count: z.number().int(),
      /** L: weighted level with the prior. */
      weightedLevel: z.number(),
      /** Σ w_j d_j. */
      effectiveWeight: z.number(),
      /** Per skill: count and weighted mean level (no prior), by skill name. */
      skills: z.array(z.object({ skill: z.string(), count: z.number().int(), weightedLevel: z.number() })),
    }),
  }),
  /** Each part on a scale of 0 to 1, before the shares and the penalty. */
  parts: z.object({ rating: z.number(), onTime: z.number(), attestation: z.number() }),
  /** Every record the score rests on: completions, then attestations, each in key order. */
  basis: z.array(reputationBasisEntrySchema),
});
export type Reputation = z.output<typeof reputationSchema>;

export interface ReputationInput {
  readonly subject: Party;
  /** The instant to compute at: the transaction timestamp on the ledger. */
  readonly asOf: string;
  readonly completions: readonly CompletionRecord[];
  readonly attestations: readonly AttestationRecord[];
}

/**
 * Computes the score and its components from the records, exactly as
 * `reputation:reputationOf` does, so that anyone holding the records (for instance from
 * a portable statement naming their transaction ids) can recompute it off the ledger.
 */
export function computeReputation(input: ReputationInput): Reputation {
  const f = reputationFormula;
  const { asOf } = input;

  let ratingWeight = 0;
  let ratingSum = 0;
  let plainRatingSum = 0;
  let timedWeight = 0;
  let onTimeWeight = 0;
  let lostWeight = 0;
  const onTime = { onTime: 0, late: 0, unknown: 0 };
  const disputes = { won: 0, lost: 0, split: 0 };
  const basis: ReputationBasisEntry[] = [];

  for (const completion of input.completions) {
    const d = recencyWeight(completion.completedAt, asOf);
    ratingWeight += d;
    ratingSum += d * completion.rating;
    plainRatingSum += completion.rating;
    if (completion.onTime === undefined) {
      onTime.unknown += 1;
    } else {
      timedWeight += d;
      if (completion.onTime) {
        onTimeWeight += d;
        onTime.onTime += 1;
      } else {
        onTime.late += 1;
      }
    }
    if (completion.disputeOutcome !== 'none') disputes[completion.disputeOutcome] += 1;
    if (completion.disputeOutcome === 'lost') lostWeight += d;
    basis.push({
      kind: 'completion',
      objectType: completionObjectType,
      attributes: completionKeyAttributes(completion),
      txId: completion.txId,
      recordedAt: completion.recordedAt,
      countedFrom: completion.completedAt,
      recency: round(d, 4),
    });
  }

  let attestationWeight = 0;
  let levelSum = 0;
  const skills = new Map<string, { count: number; weight: number; levelSum: number }>();
  for (const attestation of input.attestations) {
    const d = recencyWeight(attestation.recordedAt, asOf);
    const a = attestation.weight * d;
    attestationWeight += a;
    levelSum += a * attestation.level;
    const skill = skills.get(attestation.skill) ?? { count: 0, weight: 0, levelSum: 0 };
    skills.set(attestation.skill, {
      count: skill.count + 1,
      weight: skill.weight + a,
      levelSum: skill.levelSum + a * attestation.level,
    });
    basis.push({
      kind: 'attestation',
      objectType: attestationObjectType,
      attributes: attestationKeyAttributes(attestation),
      txId: attestation.txId,
      recordedAt: attestation.recordedAt,
      countedFrom: attestation.recordedAt,
      recency: round(d, 4),
    });
  }

  const weightedRating = (f.ratingPriorMean * f.ratingPriorWeight + ratingSum) / (f.ratingPriorWeight + ratingWeight);
  const rate = (f.onTimePriorRate * f.onTimePriorWeight + onTimeWeight) / (f.onTimePriorWeight + timedWeight);
  const weightedLevel =
    (f.attestationPriorLevel * f.attestationPriorWeight + levelSum) / (f.attestationPriorWeight + attestationWeight);
  const penalty = Math.min(f.maxDisputePenalty, f.disputeLostPenalty * lostWeight);
  const parts = { rating: (weightedRating - 1) / 4, onTime: rate, attestation: (weightedLevel - 1) / 4 };
  const base =
    f.scaleMax * (f.ratingShare * parts.rating + f.onTimeShare * parts.onTime + f.attestationShare * parts.attestation);
  const score = Math.min(f.scaleMax, Math.max(f.scaleMin, base - penalty));
  const count = input.completions.length;

  return {
    subject: input.subject,
    asOf,
    score: round(score, 2),
    formula: { ...f },
    components: {
      completions: {
        count,
        ...(count === 0 ? {} : { meanRating: round(plainRatingSum / count, 4) }),
        weightedRating: round(weightedRating, 4),
        effectiveWeight: round(ratingWeight, 4),
      },
      onTime: { ...onTime, rate: round(rate, 4) },
      disputes: { ...disputes, penalty: round(penalty, 4) },
      attestations: {
        count: input.attestations.length,
        weightedLevel: round(weightedLevel, 4),
        effectiveWeight: round(attestationWeight, 4),
        skills: [...skills.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([skill, totals]) => ({
            skill,
            count: totals.count,
            weightedLevel: round(totals.levelSum / totals.weight, 4),
          })),
      },
    },
    parts: { rating: round(parts.rating, 4), onTime: round(parts.onTime, 4), attestation: round(parts.attestation, 4) },
    basis,
  };
}
