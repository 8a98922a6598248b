/**
 * The agreement part of the GraphQL schema, written by hand to read well in tools.
 * Money is a decimal string of minor units next to its ISO 4217 currency code;
 * timestamps are ISO 8601 strings; enum values are the wire values, with `_` for `-`.
 */
import { ledgerPageTypeDefs } from '../../http/ledger-pages.js';

export const agreementTypeDefs = /* GraphQL */ `
  enum AgreementStatus {
    offered
    active
    declined
    cancelled
  }

  enum MilestoneStatus {
    unfunded
    funding
    funded
    submitted
    rejected
    accepted
    disputed
    released
    paid
    resolved
    settled
    refunding
    refunded
    cancelled
  }

  enum MilestoneKind {
    deliverable
    batch
  }

  enum TaskStatus {
    open
    submitted
    accepted
    rejected
  }

  enum PartySide {
    client
    freelancer
  }

  "The part a person plays in an agreement."
  enum PartyRole {
    client
    freelancer
    evaluator
  }

  enum AcceptanceMode {
    client
    review_window_lapsed
    evaluation
  }

  enum InstructionKind {
    fund_escrow
    release
    refund
  }

  enum SettlementCause {
    funding
    release
    dispute
    cancellation
  }

  enum InstructionStatus {
    "A payout the compliance check stopped: the payee holds no valid KYC credential."
    held
    pending
    paid
    failed
  }

  enum SettlementOutcome {
    paid
    failed
  }

  enum RatePer {
    hour
    day
    week
    month
    task
    item
    fixed
  }

  "A person or service: their organisation's MSP id and the userId in their certificate."
  type Party {
    mspId: String!
    userId: String!
  }

  "Who performed a transition, as the ledger recorded it."
  type Actor {
    mspId: String!
    userId: String
    role: String
  }

  type Agreement {
    agreementId: ID!
    title: String!
    client: Party!
    freelancer: Party!
    evaluator: Party
    status: AgreementStatus!
    "SHA-256 of the confidential terms kept off the channel ledger."
    termsSha256: String!
    milestoneIds: [String!]!
    "Rejections the client may make per milestone or task."
    revisionLimit: Int!
    platformFeeBps: Int!
    createdAt: String!
    createdTxId: String!
    acceptedAt: String
    declined: Rejection
    cancellationRequest: CancellationRequest
    cancellation: Cancellation
    updatedAt: String!
    updatedTxId: String!
    milestones: [Milestone!]!
    "Every milestone has reached a final state (paid, settled, refunded or cancelled)."
    completed: Boolean!
    "Modifications of the agreement record, newest first."
    history: [AgreementHistoryEntry!]!
  }

  type AgreementHistoryEntry {
    txId: String!
    at: String!
    isDelete: Boolean!
    status: AgreementStatus
  }

  type CancellationRequest {
    by: PartySide!
    reason: String!
    at: String!
    txId: String!
  }

  type Cancellation {
    agreedBy: [PartySide!]!
    reason: String!
    at: String!
    txId: String!
  }

  "Who owns a milestone's delivered work once it is paid."
  enum IpAssignment {
    none
    client
  }

  type Milestone {
    agreementId: ID!
    milestoneId: ID!
    position: Int!
    kind: MilestoneKind!
    title: String!
    "Minor units as a decimal string."
    amount: String!
    currency: String!
    acceptanceCriteria: AcceptanceCriteria!
    dueDate: String!
    reviewWindowSeconds: Int!
    "client: work for hire, the delivered work's IP passes to the client when the milestone is paid; null: none."
    ipAssignment: IpAssignment
    status: MilestoneStatus!
    fundedAt: String
    submissions: [Submission!]!
    rejectionCount: Int!
    acceptance: Acceptance
    dispute: Dispute
    instructions: [SettlementInstruction!]!
    batch: BatchProgress
    createdAt: String!
    updatedAt: String!
    updatedTxId: String!
  }

  type AcceptanceCriteria {
    description: String!
    thresholds: [MetricThreshold!]!
    evaluationDataset: String
  }

  type MetricThreshold {
    metric: String!
    "One of >=, >, <=, <."
    operator: String!
    value: Float!
  }

  type Submission {
    number: Int!
    artifactSha256: String!
    uri: String!
    "Metric name to claimed value."
    claimedMetrics: JSON!
    note: String
    submittedAt: String!
    txId: String!
    reviewDeadline: String!
    late: Boolean!
    rejection: Rejection
    evaluations: [Evaluation!]!
    "The registered work delivered, on a work-for-hire milestone."
    workId: String
  }

  type Rejection {
    reason: String!
    at: String!
    txId: String!
  }

  type Evaluation {
    evaluator: Party!
    artifactSha256: String!
    "Metric name to measured value."
    metrics: JSON!
    reportSha256: String!
    reportUri: String
    results: [ThresholdResult!]!
    allThresholdsMet: Boolean!
    at: String!
    txId: String!
  }

  type ThresholdResult {
    metric: String!
    operator: String!
    threshold: Float!
    measured: Float
    met: Boolean!
  }

  type Acceptance {
    by: AcceptanceMode!
    at: String!
    txId: String!
  }

  type Dispute {
    openedBy: PartySide!
    reason: String!
    openedAt: String!
    txId: String!
    frozenStatus: MilestoneStatus!
    "The arbitrators drawn for the dispute, of neither party's organisation; only they vote. Null on disputes opened before panels were drawn."
    panel: [Party!]
    "The latest vote of each arbitrator who voted; an arbitrator may revise theirs until a majority decides."
    votes: [DisputeVote!]!
    "Votes their arbitrators later revised, oldest first: with votes, every vote cast on the dispute."
    supersededVotes: [DisputeVote!]!
    decision: DisputeDecision
  }

  type DisputeVote {
    arbitrator: Party!
    clientShare: String!
    freelancerShare: String!
    reason: String!
    at: String!
    txId: String!
  }

  type DisputeDecision {
    clientShare: String!
    freelancerShare: String!
    majority: [Party!]!
    at: String!
    txId: String!
  }

  "A payment the settlement provider is asked to make; payer is the client, payee the freelancer, whichever way money moves."
  type SettlementInstruction {
    instructionId: ID!
    kind: InstructionKind!
    cause: SettlementCause!
    agreementId: ID!
    milestoneId: ID!
    payer: Party!
    payee: Party!
    "Who receives the money: the freelancer on a release, the client on a refund; null on escrow funding (paid into escrow) and on instructions recorded before this field."
    recipient: Party
    amount: String!
    platformFee: String!
    currency: String!
    status: InstructionStatus!
    requestedAt: String!
    requestTxId: String!
    "MSP id of the organisation whose settlement service sends this instruction (the first listed in settlementOrganisations when it was issued); null on instructions issued before the ledger named one."
    settlingOrganisation: String
    "On payouts to the freelancer: the latest compliance (KYC) check and the credential that cleared it."
    compliance: ComplianceCheck
    "On a failed payout issued again: its replacement."
    reissuedAs: ID
    "On a reissued payout: the failed instruction it replaces."
    reissueOf: ID
    confirmation: SettlementConfirmation
  }

  type ComplianceCheck {
    outcome: ComplianceOutcome!
    requiredTypes: [String!]!
    credentialId: ID
    credentialType: String
    credentialIssuer: Party
    reason: String!
    at: String!
    txId: String!
  }

  enum ComplianceOutcome {
    cleared
    held
  }

  input RetryHeldPayoutInput {
    "Makes the request safe to repeat; generated when left out."
    requestId: String
    agreementId: ID!
    milestoneId: ID!
    instructionId: ID!
  }

  type SettlementConfirmation {
    outcome: SettlementOutcome!
    providerReference: String!
    "The settlement service's id of the payout account paid; never the account number."
    payoutAccountId: String
    reason: String
    at: String!
    txId: String!
    by: Actor!
  }

  type BatchProgress {
    taskAmount: String!
    taskCount: Int!
    submitted: Int!
    accepted: Int!
    rejected: Int!
  }

  type Task {
    agreementId: ID!
    milestoneId: ID!
    taskId: ID!
    position: Int!
    instructions: String!
    inputSha256: String
    status: TaskStatus!
    submissions: [TaskSubmission!]!
    rejectionCount: Int!
    acceptance: Acceptance
    updatedAt: String!
    updatedTxId: String!
  }

  type TaskSubmission {
    number: Int!
    resultSha256: String!
    uri: String
    submittedAt: String!
    txId: String!
    reviewDeadline: String!
    rejection: Rejection
  }

  type PartyAgreement {
    role: PartyRole!
    agreement: Agreement!
  }

  ${ledgerPageTypeDefs('PartyAgreementPage', 'PartyAgreement', "One page of a party's agreements, in ledger key order.")}

  "A dispute as its arbitration panel sees it: the milestone holds the dispute, its votes and any decision."
  type PanelDispute {
    agreement: Agreement!
    milestone: Milestone!
  }

  ${ledgerPageTypeDefs(
    'PanelDisputePage',
    'PanelDispute',
    'One page of the disputes whose panel holds the caller, in ledger key order.',
  )}

  type MilestoneHistoryEntry {
    txId: String!
    at: String!
    isDelete: Boolean!
    milestone: Milestone
  }

  type Rate {
    description: String!
    amount: String!
    currency: String!
    per: RatePer!
  }

  type Terms {
    scope: String!
    rates: [Rate!]
    "Label to value."
    personalData: JSON
    additionalTerms: String
    "Random bytes (hex) mixed into the terms so that their hash cannot be confirmed by guessing; needed to verify them. Absent from terms drafted before salts."
    salt: String
  }

  "The terms as a member peer holds them, or, once erased under GDPR Art. 17, the erasure receipt's id."
  type AgreementTerms {
    agreementId: ID!
    termsSha256: String!
    "held or erased"
    status: String!
    "Absent once erased."
    terms: Terms
    receiptId: ID
    erasedAt: String
  }

  type TermsVerification {
    agreementId: ID!
    termsSha256: String!
    documentSha256: String!
    matches: Boolean!
    privateDataHashMatches: Boolean!
  }

  "A committed agreement event."
  type AgreementEvent {
    "e.g. agreement.FundingRequested"
    name: String!
    agreementId: ID!
    transactionId: String!
    blockNumber: String!
    actor: Actor!
    "Instructions this transaction issued to the settlement provider."
    settlementRequests: [SettlementInstruction!]!
    "The whole event payload as the chaincode emitted it."
    payload: JSON!
  }

  type AgreementPayload implements CommandPayload {
    requestId: String!
    transactionId: String!
    blockNumber: String!
    agreement: Agreement!
  }

  type MilestonePayload implements CommandPayload {
    requestId: String!
    transactionId: String!
    blockNumber: String!
    milestone: Milestone!
  }

  type TaskBatchPayload implements CommandPayload {
    requestId: String!
    transactionId: String!
    blockNumber: String!
    milestone: Milestone!
    "The tasks the transaction changed, in request order."
    tasks: [Task!]!
  }

  input PartyInput {
    mspId: String!
    userId: String!
  }

  input RateInput {
    description: String!
    amount: String!
    currency: String!
    per: RatePer!
  }

  input AgreementTermsInput {
    scope: String!
    rates: [RateInput!]
    "Label to value, e.g. legal names and tax ids."
    personalData: JSON
    additionalTerms: String
    "32 to 128 lowercase hex digits of random bytes mixed into the terms so that their public hash cannot be confirmed by guessing them; the API adds one when left out (the parties read it with the terms)."
    salt: String
  }

  input MetricThresholdInput {
    metric: String!
    operator: String!
    value: Float!
  }

  input AcceptanceCriteriaInput {
    description: String!
    "Deliverable milestones only."
    thresholds: [MetricThresholdInput!]
    evaluationDataset: String
  }

  input TaskDraftInput {
    taskId: ID!
    instructions: String!
    inputSha256: String
  }

  "A deliverable milestone, or with kind batch a set of micro-tasks (taskAmount and tasks)."
  input MilestoneDraftInput {
    kind: MilestoneKind!
    milestoneId: ID!
    title: String!
    amount: String!
    currency: String!
    dueDate: String!
    reviewWindowSeconds: Int
    acceptanceCriteria: AcceptanceCriteriaInput!
    "Deliverable milestones only: client makes it work for hire."
    ipAssignment: IpAssignment
    taskAmount: String
    tasks: [TaskDraftInput!]
  }

  input DraftAgreementInput {
    "Makes the request safe to repeat; generated when left out."
    requestId: String
    agreementId: ID!
    title: String!
    client: PartyInput!
    freelancer: PartyInput!
    evaluator: PartyInput
    maxRevisions: Int
    milestones: [MilestoneDraftInput!]!
    "Sent only to the parties' peers; the ledger keeps their SHA-256."
    terms: AgreementTermsInput!
  }

  input AcceptAgreementInput {
    "Makes the request safe to repeat; generated when left out."
    requestId: String
    agreementId: ID!
    termsSha256: String!
  }

  input AgreementReasonInput {
    "Makes the request safe to repeat; generated when left out."
    requestId: String
    agreementId: ID!
    reason: String!
  }

  input MilestoneRefInput {
    "Makes the request safe to repeat; generated when left out."
    requestId: String
    agreementId: ID!
    milestoneId: ID!
  }

  input CreatingMilestoneInput {
    requestId: String
    agreementId: ID!
    milestoneId: ID!
  }

  input MilestoneReasonInput {
    "Makes the request safe to repeat; generated when left out."
    requestId: String
    agreementId: ID!
    milestoneId: ID!
    reason: String!
  }

  input ConfirmSettlementInput {
    requestId: String
    agreementId: ID!
    milestoneId: ID!
    instructionId: ID!
    outcome: SettlementOutcome!
    providerReference: String!
    "The settlement service's id of the payout account paid."
    payoutAccountId: String
    "Required when the payment failed."
    reason: String
  }

  input SubmitDeliverableInput {
    requestId: String
    agreementId: ID!
    milestoneId: ID!
    artifactSha256: String!
    uri: String!
    claimedMetrics: JSON
    note: String
    "The registered work delivered; required by a work-for-hire milestone, which moves it to the client once paid."
    workId: String
  }

  input PostEvaluationInput {
    requestId: String
    agreementId: ID!
    milestoneId: ID!
    artifactSha256: String!
    metrics: JSON!
    reportSha256: String!
    reportUri: String
  }

  input OpenDisputeInput {
    requestId: String
    agreementId: ID!
    milestoneId: ID!
    reason: String!
  }

  input CastDisputeVoteInput {
    requestId: String
    agreementId: ID!
    milestoneId: ID!
    escrowAmount: String!
    clientShare: String!
    freelancerShare: String!
    reason: String!
  }

  input TaskResultInput {
    taskId: ID!
    resultSha256: String!
    uri: String
  }

  input SubmitTasksInput {
    requestId: String
    agreementId: ID!
    milestoneId: ID!
    results: [TaskResultInput!]!
  }

  input TaskRejectionInput {
    taskId: ID!
    reason: String!
  }

  input ReviewTasksInput {
    "Makes the request safe to repeat; generated when left out."
    requestId: String
    agreementId: ID!
    milestoneId: ID!
    accept: [ID!]
    reject: [TaskRejectionInput!]
  }

  extend type Query {
    "One agreement the caller may read; NOT_FOUND otherwise, whether or not it exists."
    agreement(id: ID!): Agreement
    """
    Agreements of a party: the caller's own when party is left out; anyone's for auditors,
    admins and HR systems. completed keeps agreements whose milestones are all final (true) or not (false).
    One page: at most first (1 to 500, 100 when left out) from the cursor after; agreementPage says where the next starts.
    """
    agreements(party: PartyInput, role: PartyRole, completed: Boolean, first: Int, after: String): [PartyAgreement!]!
    """
    The same list as agreements, one page at a time: pass pageInfo.endCursor as after for the next.
    A page may hold fewer than first, even none, and still be followed by more (past many agreements in a row that completed or visibility leaves out).
    """
    agreementPage(
      party: PartyInput
      role: PartyRole
      completed: Boolean
      first: Int
      after: String
    ): PartyAgreementPage!
    """
    The disputes whose arbitration panel holds the caller (role arbitrator), by agreement and milestone id;
    decided keeps those decided (true) or still awaiting a majority (false). One page: at most first from the
    cursor after; panelDisputePage says where the next starts.
    """
    panelDisputes(decided: Boolean, first: Int, after: String): [PanelDispute!]!
    "The same list as panelDisputes, one page at a time: pass pageInfo.endCursor as after for the next."
    panelDisputePage(decided: Boolean, first: Int, after: String): PanelDisputePage!
    "Every version of a milestone, newest first."
    milestoneHistory(agreementId: ID!, milestoneId: ID!): [MilestoneHistoryEntry!]!
    "The micro-tasks of a batch milestone."
    tasks(agreementId: ID!, milestoneId: ID!): [Task!]!
    "The confidential terms, for the agreement's client and freelancer only."
    agreementTerms(agreementId: ID!): AgreementTerms!
    "Checks a terms document against the hash on the agreement; nothing is written."
    verifyAgreementTerms(agreementId: ID!, terms: AgreementTermsInput!): TermsVerification!
  }

  extend type Mutation {
    "Role client, naming themself as client."
    draftAgreement(input: DraftAgreementInput!): AgreementPayload!
    "Role freelancer, the one named."
    acceptAgreement(input: AcceptAgreementInput!): AgreementPayload!
    "Role freelancer, the one named."
    declineAgreement(input: AgreementReasonInput!): AgreementPayload!
    "Client or freelancer; once escrow is funded both must ask."
    cancelAgreement(input: AgreementReasonInput!): AgreementPayload!
    "Role client."
    fundMilestone(input: CreatingMilestoneInput!): MilestonePayload!
    "Role settlement, scope settlements:write."
    confirmSettlement(input: ConfirmSettlementInput!): MilestonePayload!
    "Role freelancer."
    submitDeliverable(input: SubmitDeliverableInput!): MilestonePayload!
    "Role client."
    acceptMilestone(input: MilestoneRefInput!): MilestonePayload!
    "Role client."
    rejectDeliverable(input: MilestoneReasonInput!): MilestonePayload!
    "Role freelancer, after the review window."
    claimAcceptance(input: MilestoneRefInput!): MilestonePayload!
    "Role evaluator, the agreement's."
    postEvaluation(input: PostEvaluationInput!): MilestonePayload!
    "Client or freelancer."
    releaseMilestone(input: CreatingMilestoneInput!): MilestonePayload!
    "Client, freelancer or settlement: check a held payout again."
    retryHeldPayout(input: RetryHeldPayoutInput!): MilestonePayload!
    "Client, freelancer or settlement: issue a failed payout again as a new instruction."
    reissueFailedPayout(input: RetryHeldPayoutInput!): MilestonePayload!
    "Client or freelancer."
    openDispute(input: OpenDisputeInput!): MilestonePayload!
    "Role arbitrator."
    castDisputeVote(input: CastDisputeVoteInput!): MilestonePayload!
    "Role freelancer."
    submitTasks(input: SubmitTasksInput!): TaskBatchPayload!
    "Role client."
    reviewTasks(input: ReviewTasksInput!): TaskBatchPayload!
    "Role freelancer, after the review window."
    claimTasksAcceptance(input: MilestoneRefInput!): TaskBatchPayload!
  }

  type Subscription {
    """
    Committed events of one agreement the caller may read, from now on; without
    agreementId, of every agreement (admins and settlement services only: an auditor
    follows one agreement at a time, under its grant).
    """
    agreementEvents(agreementId: ID): AgreementEvent!
  }
`;
