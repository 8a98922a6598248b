import { z } from 'zod';
import { nonBlankText } from './text-controls';
import { requestIdSchema } from './common';
import { agreementIdSchema, milestoneIdSchema } from './agreement-records';
import { actorSchema, partySchema } from './party';
import { contractSpecs, eventSpec } from './spec';
import { pageRequestShape, pageSchema } from './page';
import {
  attestationRecordSchema,
  completionRecordSchema,
  ratingSchema,
  reputationContractName,
  skillLevelSchema,
  skillSchema,
} from './reputation-records';
import { reputationSchema } from './reputation-score';

/*
 * The `reputation` contract's requests, events and transaction specs. What the records
 * hold and when they may be written: `model/reputation-records.ts`. The score formula
 * and its constants: `model/reputation-score.ts`.
 */

export const recordCompletionRequestSchema = z.strictObject({
  requestId: requestIdSchema,
  agreementId: agreementIdSchema,
  milestoneId: milestoneIdSchema,
  rating: ratingSchema,
});
export type RecordCompletionRequest = z.output<typeof recordCompletionRequestSchema>;

export const attestRequestSchema = z
  .strictObject({
    requestId: requestIdSchema,
    /** Whose skill is vouched for. */
    subject: partySchema,
    /** An agreement on which the subject was the freelancer. */
    agreementId: agreementIdSchema,
    /** An agreement on which the attester was the freelancer, for the same client, overlapping in time. */
    attesterAgreementId: agreementIdSchema,
    skill: skillSchema,
    level: skillLevelSchema,
    comment: nonBlankText(1000).optional(),
  })
  .refine((request) => request.agreementId !== request.attesterAgreementId, {
    message: "must be the attester's own agreement, not the subject's",
    path: ['attesterAgreementId'],
  });
export type AttestRequest = z.output<typeof attestRequestSchema>;

export const subjectRequestSchema = z.strictObject(partySchema.shape);
export const subjectPageRequestSchema = z.strictObject({ ...partySchema.shape, ...pageRequestShape });

/** Fields every `reputation.*` event carries. */
export const reputationEventBaseSchema = z.object({
  /** Whose reputation the new record counts towards. */
  subject: partySchema,
  at: z.string(),
  txId: z.string(),
  actor: actorSchema,
});
export type ReputationEventBase = z.output<typeof reputationEventBaseSchema>;

/** Every event of the `reputation` contract; a transaction emits exactly one. */
export const reputationEvents = {
  completionRecorded: eventSpec({
    name: `${reputationContractName}.CompletionRecorded`,
    payload: reputationEventBaseSchema.extend({ completion: completionRecordSchema }),
  }),
  attestationRecorded: eventSpec({
    name: `${reputationContractName}.AttestationRecorded`,
    payload: reputationEventBaseSchema.extend({ attestation: attestationRecordSchema }),
  }),
} as const;

export const reputationEventNames: readonly string[] = Object.values(reputationEvents).map((event) => event.name);

const { submit, evaluate } = contractSpecs(reputationContractName);

/** Every transaction of the `reputation` contract. */
export const reputationTransactions = {
  recordCompletion: submit('recordCompletion', recordCompletionRequestSchema, completionRecordSchema),
  attest: submit('attest', attestRequestSchema, attestationRecordSchema),
  reputationOf: evaluate('reputationOf', subjectRequestSchema, reputationSchema),
  listCompletions: evaluate('listCompletions', subjectPageRequestSchema, pageSchema(completionRecordSchema)),
  listAttestations: evaluate('listAttestations', subjectPageRequestSchema, pageSchema(attestationRecordSchema)),
} as const;
