import { z } from 'zod';
import { credentialTypeSchema } from './credential-records';
import { ruleProvenanceSchema } from './provenance';
import { contractSpecs, noRequest } from './spec';

export const parameterContractName = 'parameter';

/**
 * Consortium parameters read by other contracts. Their values live in ledger state
 * (set at network bootstrap, later by governance); the chaincode holds no defaults.
 */
export const parameterCatalogue = {
  /**
   * Platform fee taken from each release, in basis points of the released amount. Below
   * 100%: a release pays the freelancer something (no payment provider takes an order of
   * zero, so a fee of all of it would leave each payout stuck).
   */
  platformFeeBps: z
    .number()
    .int()
    .min(0)
    .max(9_999, 'must be below 10000 (100%): a release must pay the freelancer something'),
  /** Review window applied to milestones that do not set their own, in seconds. */
  defaultReviewWindowSeconds: z
    .number()
    .int()
    .min(60)
    .max(90 * 24 * 3600),
  /** How many times a client may reject deliverables of one milestone, unless the agreement sets fewer. */
  maxRevisions: z.number().int().min(0).max(20),
  /**
   * Credential types that clear a payee for payouts (KYC). A release or dispute payout
   * to a freelancer is held until they hold a valid credential of one of these types;
   * an empty list means the consortium requires none.
   */
  kycCredentialTypes: z.array(credentialTypeSchema).max(10),
  /**
   * MSP ids whose `settlement` identities may record provider confirmations (and act
   * on held or failed payouts as the settlement service): the organisations that run
   * the consortium's settlement service. A settlement identity of any other
   * organisation is refused.
   */
  settlementOrganisations: z
    .array(z.string().regex(/^[A-Za-z0-9.-]{1,64}$/, 'must be MSP ids'))
    .min(1, 'must name at least one organisation')
    .max(20),
  /** How many arbitrators are drawn for a dispute's panel (fewer when fewer are eligible). */
  arbitrationPanelSize: z.number().int().min(1).max(9),
  /**
   * Share of the member organisations with a voting right that must cast a vote (yes,
   * no or abstain) for a proposal to count, in basis points: 5001 is a majority.
   */
  governanceQuorumBps: z.number().int().min(1).max(10_000),
  /**
   * A proposal passes when its yes votes exceed this share of yes plus no votes, in
   * basis points: 5000 is "more yes than no"; abstentions count only for the quorum.
   */
  governancePassThresholdBps: z.number().int().min(0).max(9_999),
  /** Shortest voting window a proposal may ask for, in seconds. */
  governanceMinVotingSeconds: z
    .number()
    .int()
    .min(1)
    .max(90 * 24 * 3600),
  /**
   * How long a passed proposal may be executed once its timelock has run out, in
   * seconds; after that it has expired, so an old decision cannot be applied over newer ones.
   */
  governanceExecutionWindowSeconds: z
    .number()
    .int()
    .min(60)
    .max(365 * 24 * 3600),
  /** Shortest timelock between the end of voting and execution, during which a veto is possible, in seconds. */
  governanceMinTimelockSeconds: z
    .number()
    .int()
    .min(1)
    .max(90 * 24 * 3600),
  /**
   * Longest an auditor's grant may run, in seconds from the transaction that grants it:
   * a grant's `expiresAt` later than that is refused, so access is renewed on purpose
   * rather than left open for good. 366 days covers one audit year with its closing.
   */
  auditGrantMaxSeconds: z
    .number()
    .int()
    .min(3600)
    .max(5 * 366 * 24 * 3600),
} as const;

export type ParameterName = keyof typeof parameterCatalogue;
export const parameterNames = Object.keys(parameterCatalogue) as ParameterName[];
export const parameterNameSchema = z.enum(parameterNames as [ParameterName, ...ParameterName[]]);
export type ParameterValues = { [Name in ParameterName]: z.infer<(typeof parameterCatalogue)[Name]> };

/** What any parameter's value may be on the wire; the catalogue entry of its name says which. */
export const parameterValueSchema = z.union([z.number(), z.array(z.string().max(64)).max(50)]);
export type ParameterValue = z.infer<typeof parameterValueSchema>;

export const setParameterRequestSchema = z.object({
  name: parameterNameSchema,
  value: parameterValueSchema,
});

export const parameterRecordSchema = z.object({
  name: parameterNameSchema,
  value: parameterValueSchema,
  updatedAt: z.string(),
  updatedBy: z.string(),
  txId: z.string(),
  /** Who decided the value: genesis, or the executed governance proposal. */
  provenance: ruleProvenanceSchema.optional(),
});
export type ParameterRecord = z.infer<typeof parameterRecordSchema>;

const { submit, evaluate } = contractSpecs(parameterContractName);

export const parameterTransactions = {
  setParameter: submit('setParameter', setParameterRequestSchema, parameterRecordSchema),
  getParameter: evaluate('getParameter', z.object({ name: parameterNameSchema }), parameterRecordSchema),
  listParameters: evaluate('listParameters', noRequest, z.array(parameterRecordSchema)),
} as const;

export const parameterEvents = {
  parameterSet: { name: 'parameter.ParameterSet', payload: parameterRecordSchema },
} as const;
