import { z } from 'zod';
import { isoInstantSchema } from './common';
import { grantedTypesSchema } from './credential';
import { nonBlankText } from './text-controls';
import { issuerRecordSchema } from './credential-records';
import { mspIdSchema } from './identity';
import { parameterNameSchema, parameterRecordSchema, parameterValueSchema } from './parameter';
import { actorSchema, partySchema, reasonSchema } from './party';
import { ruleProvenanceSchema } from './provenance';
import { contractSpecs, eventSpec, noRequest, stateChangeRequestIdSchema } from './spec';
import { pageRequestShape, pageSchema } from './page';

export const governanceContractName = 'governance';

/** Caller-chosen proposal id, unique on the channel, e.g. `P-2026-014`. */
export const proposalIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

/**
 * What a proposal does once executed, or what the bootstrap administrator does at
 * genesis. Each kind changes exactly one rule; a proposal may carry several, applied
 * together in its execution transaction or not at all.
 */
export const governanceActionSchema = z.discriminatedUnion('type', [
  /** Sets a consortium parameter; the value must suit the parameter (see `parameterCatalogue`). */
  z.strictObject({ type: z.literal('setParameter'), name: parameterNameSchema, value: parameterValueSchema }),
  /** Registers an issuer or replaces its grant (including the KYC types payouts require). */
  z.strictObject({
    type: z.literal('registerIssuer'),
    issuer: partySchema,
    displayName: nonBlankText(200),
    credentialTypes: grantedTypesSchema,
  }),
  z.strictObject({ type: z.literal('removeIssuer'), issuer: partySchema, reason: reasonSchema }),
  /** Adds (or re-adds) a person to the arbitrators that dispute panels are drawn from. */
  z.strictObject({ type: z.literal('addArbitrator'), arbitrator: partySchema, displayName: nonBlankText(200) }),
  z.strictObject({ type: z.literal('removeArbitrator'), arbitrator: partySchema, reason: reasonSchema }),
  /**
   * Sets a member organisation's rights: `voting` (one vote per proposal, counted for
   * the quorum) and `veto` (may veto passed proposals during their timelock). Both
   * false removes the member. An organisation holding no rights is invited: the rights
   * take effect when its governor accepts them.
   */
  z.strictObject({ type: z.literal('setMemberRights'), mspId: mspIdSchema, voting: z.boolean(), veto: z.boolean() }),
]);
export type GovernanceAction = z.output<typeof governanceActionSchema>;
export const governanceActionTypes = governanceActionSchema.options.map((option) => option.shape.type.value);

const actionsSchema = z
  .array(governanceActionSchema)
  .min(1, 'must hold at least one action')
  .max(20, 'must hold at most 20 actions');

export const voteChoices = ['yes', 'no', 'abstain'] as const;
export const voteChoiceSchema = z.enum(voteChoices);
export type VoteChoice = z.infer<typeof voteChoiceSchema>;

const secondsSchema = z
  .number()
  .int('must be a whole number of seconds')
  .min(1)
  .max(365 * 24 * 3600);

export const proposeRequestSchema = z.strictObject({
  proposalId: proposalIdSchema,
  title: nonBlankText(200),
  /** The case for the change, in words, as members read it before voting. */
  text: nonBlankText(10_000),
  actions: actionsSchema,
  /** How long votes are taken from the proposal's transaction time; at least `governanceMinVotingSeconds`. */
  votingSeconds: secondsSchema,
  /** How long after voting ends the proposal waits before it can be executed; at least `governanceMinTimelockSeconds`. */
  timelockSeconds: secondsSchema,
});
export type ProposeRequest = z.output<typeof proposeRequestSchema>;

export const voteRequestSchema = z.strictObject({
  proposalId: proposalIdSchema,
  choice: voteChoiceSchema,
  reason: reasonSchema.optional(),
});
export const vetoRequestSchema = z.strictObject({ proposalId: proposalIdSchema, reason: reasonSchema });
export const proposalRefSchema = z.strictObject({ proposalId: proposalIdSchema });
export const genesisActionsRequestSchema = z.strictObject({ actions: actionsSchema });

/** Stored status; whether an open proposal is voting, failed, timelocked or executable follows from the time and the votes. */
export const proposalStatuses = ['open', 'vetoed', 'executed'] as const;
export const proposalStatusSchema = z.enum(proposalStatuses);

/**
 * Where a proposal stands at a given transaction time:
 * `voting` until `votingEndsAt`; then `failed` (quorum or threshold missed) or
 * `timelocked` until `executableAt` (vetoable), then `executable` until `expiresAt`,
 * then `expired`; `vetoed` and `executed` are final.
 */
export const proposalPhases = [
  'voting',
  'failed',
  'timelocked',
  'executable',
  'expired',
  'vetoed',
  'executed',
] as const;
export const proposalPhaseSchema = z.enum(proposalPhases);
export type ProposalPhase = z.infer<typeof proposalPhaseSchema>;

export const tallySchema = z.object({
  /** Member organisations with a voting right when the proposal was made. */
  members: z.number().int(),
  yes: z.number().int(),
  no: z.number().int(),
  abstain: z.number().int(),
  /** Votes (of any choice) needed for the quorum. */
  quorum: z.number().int(),
  quorumReached: z.boolean(),
  /** Quorum reached and yes above the pass threshold of yes plus no. */
  passed: z.boolean(),
});
export type Tally = z.output<typeof tallySchema>;

export const proposalRecordSchema = z.object({
  proposalId: z.string(),
  title: z.string(),
  text: z.string(),
  actions: z.array(governanceActionSchema),
  proposer: actorSchema,
  proposedAt: z.string(),
  txId: z.string(),
  votingEndsAt: z.string(),
  timelockSeconds: z.number().int(),
  executableAt: z.string(),
  /** After this instant the proposal can no longer be executed (`governanceExecutionWindowSeconds`). */
  expiresAt: z.string(),
  /**
   * Member organisations with a voting right when the proposal was made: only they vote
   * on it, and they are its quorum's base, so later changes of members cannot change
   * its outcome.
   */
  electorate: z.array(z.string()),
  /** `governanceQuorumBps` and `governancePassThresholdBps` when the proposal was made, for the same reason. */
  quorumBps: z.number().int(),
  passThresholdBps: z.number().int(),
  status: proposalStatusSchema,
  veto: z.object({ by: actorSchema, reason: z.string(), at: z.string(), txId: z.string() }).optional(),
  execution: z.object({ by: actorSchema, at: z.string(), txId: z.string(), tally: tallySchema }).optional(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
});
export type ProposalRecord = z.output<typeof proposalRecordSchema>;

/** One organisation's vote on one proposal (one key each); a new vote by the same governor replaces it. */
export const voteRecordSchema = z.object({
  proposalId: z.string(),
  mspId: z.string(),
  choice: voteChoiceSchema,
  voter: actorSchema,
  reason: z.string().optional(),
  at: z.string(),
  txId: z.string(),
});
export type VoteRecord = z.output<typeof voteRecordSchema>;

export const proposalViewSchema = z.object({
  proposal: proposalRecordSchema,
  /** The electorate's votes, by MSP id. */
  votes: z.array(voteRecordSchema),
  tally: tallySchema,
  phase: proposalPhaseSchema,
  /** The transaction time the phase and tally were judged at. */
  asOf: z.string(),
});
export type ProposalView = z.output<typeof proposalViewSchema>;

export const memberRecordSchema = z.object({
  mspId: z.string(),
  /** Rights in force. */
  voting: z.boolean(),
  veto: z.boolean(),
  /**
   * Rights offered to an organisation that holds none yet, in force once a governor of
   * that organisation accepts them (`acceptMembership`): only an organisation on the
   * channel can, so a mistyped MSP id never becomes a member that counts for a quorum.
   */
  invitation: z.object({ voting: z.boolean(), veto: z.boolean() }).optional(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
  provenance: ruleProvenanceSchema,
});
export type MemberRecord = z.output<typeof memberRecordSchema>;

export const arbitratorStatusSchema = z.enum(['active', 'removed']);
export const arbitratorRecordSchema = z.object({
  arbitrator: partySchema,
  displayName: z.string(),
  status: arbitratorStatusSchema,
  removal: z.object({ reason: z.string(), at: z.string(), txId: z.string() }).optional(),
  updatedAt: z.string(),
  updatedTxId: z.string(),
  provenance: ruleProvenanceSchema,
});
export type ArbitratorRecord = z.output<typeof arbitratorRecordSchema>;

/** Written once, when the bootstrap administrator hands the rules to governance. */
export const genesisRecordSchema = z.object({ sealedAt: z.string(), txId: z.string(), by: actorSchema });
export const genesisStateSchema = z.object({ sealed: z.boolean(), seal: genesisRecordSchema.optional() });
export type GenesisState = z.output<typeof genesisStateSchema>;

/** A rule whose provenance can be asked for. */
export const ruleRefSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('parameter'), name: parameterNameSchema }),
  z.strictObject({ kind: z.literal('issuer'), issuer: partySchema }),
  z.strictObject({ kind: z.literal('arbitrator'), arbitrator: partySchema }),
  z.strictObject({ kind: z.literal('member'), mspId: mspIdSchema }),
]);
export type RuleRef = z.output<typeof ruleRefSchema>;

export const ruleRecordSchema = z.union([
  parameterRecordSchema,
  issuerRecordSchema,
  arbitratorRecordSchema,
  memberRecordSchema,
]);

/**
 * A rule's current record and where it came from: `genesis` (no proposal), or the
 * proposal with its votes and the execution transaction.
 */
export const ruleDescriptionSchema = z.object({
  rule: ruleRefSchema,
  record: ruleRecordSchema,
  provenance: ruleProvenanceSchema.optional(),
  proposal: proposalViewSchema.optional(),
});
export type RuleDescription = z.output<typeof ruleDescriptionSchema>;

const { submit, evaluate } = contractSpecs(governanceContractName);

/** Every transaction of the `governance` contract. */
export const governanceTransactions = {
  applyGenesisActions: submit('applyGenesisActions', genesisActionsRequestSchema, genesisStateSchema),
  sealGenesis: submit('sealGenesis', noRequest, genesisStateSchema),
  propose: submit('propose', proposeRequestSchema, proposalViewSchema),
  vote: submit('vote', voteRequestSchema, proposalViewSchema),
  veto: submit('veto', vetoRequestSchema, proposalViewSchema),
  execute: submit('execute', proposalRefSchema, proposalViewSchema),
  acceptMembership: submit(
    'acceptMembership',
    z.strictObject({ requestId: stateChangeRequestIdSchema }),
    memberRecordSchema,
  ),
  getProposal: evaluate('getProposal', proposalRefSchema, proposalViewSchema),
  listProposals: evaluate('listProposals', z.strictObject(pageRequestShape), pageSchema(proposalViewSchema)),
  listMembers: evaluate('listMembers', noRequest, z.array(memberRecordSchema)),
  listArbitrators: evaluate('listArbitrators', noRequest, z.array(arbitratorRecordSchema)),
  getGenesis: evaluate('getGenesis', noRequest, genesisStateSchema),
  describeRule: evaluate('describeRule', ruleRefSchema, ruleDescriptionSchema),
} as const;

const governanceEvent = <Shape extends z.ZodRawShape>(name: string, shape: Shape) =>
  eventSpec({
    name: `${governanceContractName}.${name}`,
    payload: z.object({ at: isoInstantSchema, txId: z.string(), actor: actorSchema, ...shape }),
  });

/** Every event of the `governance` contract; a transaction emits exactly one. */
export const governanceEvents = {
  genesisApplied: governanceEvent('GenesisApplied', { actions: z.array(governanceActionSchema) }),
  genesisSealed: governanceEvent('GenesisSealed', { seal: genesisRecordSchema }),
  proposalSubmitted: governanceEvent('ProposalSubmitted', { proposalId: z.string(), proposal: proposalViewSchema }),
  voteCast: governanceEvent('VoteCast', {
    proposalId: z.string(),
    vote: voteRecordSchema,
    proposal: proposalViewSchema,
  }),
  proposalVetoed: governanceEvent('ProposalVetoed', { proposalId: z.string(), proposal: proposalViewSchema }),
  proposalExecuted: governanceEvent('ProposalExecuted', { proposalId: z.string(), proposal: proposalViewSchema }),
  membershipAccepted: governanceEvent('MembershipAccepted', { member: memberRecordSchema }),
} as const;

export const governanceEventNames: readonly string[] = Object.values(governanceEvents).map((event) => event.name);
