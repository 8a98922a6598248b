import type { agreementTransactions } from './agreement';
import type { auditTransactions } from './audit';
import type { provenanceTransactions } from './provenance';
import type { Role } from './identity';
import type { ipTransactions } from './ip';
import type { licensingTransactions } from './licensing';

type AgreementTransactions = typeof agreementTransactions;
type LicensingTransactions = typeof licensingTransactions;

/** Names of the agreement transactions that change the ledger. */
export type AgreementCommand = {
  [Name in keyof AgreementTransactions]: AgreementTransactions[Name]['kind'] extends 'submit' ? Name : never;
}[keyof AgreementTransactions];

/**
 * The role a caller's certificate must carry for each agreement command. The chaincode
 * refuses every other role (a test runs every command as every role), and checks
 * beyond the role which person may act (the agreement's own client, freelancer,
 * evaluator, a panel arbitrator, a settlement organisation). The API refuses other
 * roles at its edge from this same table.
 */
export const agreementCommandRoles = {
  draftAgreement: ['client'],
  acceptAgreement: ['freelancer'],
  declineAgreement: ['freelancer'],
  cancelAgreement: ['client', 'freelancer'],
  fundMilestone: ['client'],
  confirmSettlement: ['settlement'],
  retryHeldPayout: ['client', 'freelancer', 'settlement'],
  reissueFailedPayout: ['client', 'freelancer', 'settlement'],
  submitDeliverable: ['freelancer'],
  acceptMilestone: ['client'],
  rejectDeliverable: ['client'],
  claimAcceptance: ['freelancer'],
  postEvaluation: ['evaluator'],
  releaseMilestone: ['client', 'freelancer'],
  openDispute: ['client', 'freelancer'],
  castDisputeVote: ['arbitrator'],
  submitTasks: ['freelancer'],
  reviewTasks: ['client'],
  claimTasksAcceptance: ['freelancer'],
} as const satisfies Record<AgreementCommand, readonly Role[]>;

/**
 * Roles that may read agreements on the channel beyond their own organisation's, besides
 * its own parties and evaluator: auditors (under their grants), and, with a governance
 * decision behind them (`Caller.governed`), the settlement service and arbitrators (these
 * only the agreements with a dispute whose panel holds them).
 */
export const agreementReaderRoles: readonly Role[] = ['auditor', 'arbitrator', 'settlement'];

/**
 * Roles that may read the agreements naming a person of their own organisation (as
 * client, freelancer or evaluator): an organisation's administrators and HR systems see
 * their own people's work, not other organisations'; so does a settlement identity
 * without the governance decision its wider reach needs. Not an arbitrator: a neutral
 * reads only the disputes it was drawn to decide, which are never its own organisation's.
 */
export const agreementOrganisationReaderRoles: readonly Role[] = ['admin', 'hr', 'settlement'];

/**
 * Roles that may list another person's agreements (HR systems check a candidate's track
 * record); each sees only the listed agreements it may read.
 */
export const agreementListerRoles: readonly Role[] = ['auditor', 'admin', 'hr'];

/**
 * Roles that may follow the events of every agreement they may read, not only of one
 * named agreement (an admin: those naming a person of its organisation).
 */
export const agreementFeedRoles: readonly Role[] = ['auditor', 'admin', 'settlement'];

/**
 * Roles that may export the proof bundle of a transaction (the API decides: proofs are
 * read from blocks, not through the chaincode). A bundle carries the transaction's
 * arguments in clear, so auditors may export any transaction's proof and an
 * organisation's admin only those of transactions its own members created.
 */
export const proofReaderRoles: readonly Role[] = ['auditor', 'admin'];

/**
 * Roles that may read any credential's record, besides its issuer and subject (an auditor
 * under its grants). The record holds the claims' commitments, never their values, which
 * only the holder discloses. HR systems check candidates of every organisation.
 */
export const credentialReaderRoles: readonly Role[] = ['hr', 'auditor'];

/**
 * Roles that may read the credential records whose subject or issuer is of their own
 * organisation, as for agreements: an administrator manages its own organisation's people.
 */
export const credentialOrganisationReaderRoles: readonly Role[] = ['admin'];

/** Names of the licensing transactions that change the ledger. */
export type LicensingCommand = {
  [Name in keyof LicensingTransactions]: LicensingTransactions[Name]['kind'] extends 'submit' ? Name : never;
}[keyof LicensingTransactions];

/**
 * The role a caller's certificate must carry for each licensing command. Works are owned
 * by the people who made them (freelancers) or by clients they passed to, and either may
 * take a licence; beyond the role the chaincode checks the person (an owner of the work,
 * the grant's licensee, a settlement organisation). A period that has ended may be closed
 * by its licensee, an owner, the settlement service (governed) or an auditor under a
 * grant covering the licence: closing only turns
 * what was reported into what is owed.
 */
export const licensingCommandRoles = {
  offerLicence: ['client', 'freelancer'],
  consentToOffer: ['client', 'freelancer'],
  withdrawOffer: ['client', 'freelancer'],
  acceptOffer: ['client', 'freelancer'],
  revokeGrant: ['client', 'freelancer'],
  reportUsage: ['client', 'freelancer'],
  closeRoyaltyPeriod: ['client', 'freelancer', 'settlement', 'auditor'],
  confirmRoyaltyPayout: ['settlement'],
  reissueRoyaltyPayout: ['client', 'freelancer', 'settlement'],
} as const satisfies Record<LicensingCommand, readonly Role[]>;

/**
 * Roles that may read every licence offer, grant and royalty period, besides the work's
 * owners and the licensee: an auditor under a live audit grant, the settlement service of
 * an organisation chosen for settlement (`Caller.governed`).
 */
export const licensingReaderRoles: readonly Role[] = ['auditor', 'settlement'];

/**
 * Roles that may read the licence offers, grants and royalty periods naming a person of
 * their own organisation (as owner or licensee), as for agreements
 * (`agreementOrganisationReaderRoles`).
 */
export const licensingOrganisationReaderRoles: readonly Role[] = ['admin'];

type IpTransactions = typeof ipTransactions;

/** Names of the `ip` transactions that change the ledger. */
export type IpCommand = {
  [Name in keyof IpTransactions]: IpTransactions[Name]['kind'] extends 'submit' ? Name : never;
}[keyof IpTransactions];

/**
 * The role a caller's certificate must carry for each `ip` command; beyond the role the
 * chaincode checks the person (a work's owner, the change's proposer). The API refuses
 * other roles at its edge from this same table.
 */
export const ipCommandRoles = {
  registerWork: ['client', 'freelancer'],
  proposeOwnershipChange: ['client', 'freelancer'],
  approveOwnershipChange: ['client', 'freelancer'],
  declineOwnershipChange: ['client', 'freelancer'],
  withdrawOwnershipChange: ['client', 'freelancer'],
} as const satisfies Record<IpCommand, readonly Role[]>;

/**
 * Roles that may read any ownership change, besides the owners it concerns: an auditor
 * under a live audit grant. Work records are public on the channel.
 */
export const ipReaderRoles: readonly Role[] = ['auditor'];

/** Roles that may read the ownership changes naming a person of their own organisation, as for agreements. */
export const ipOrganisationReaderRoles: readonly Role[] = ['admin'];
type ProvenanceTransactions = typeof provenanceTransactions;

/** Names of the provenance transactions that change the ledger. */
export type ProvenanceCommand = {
  [Name in keyof ProvenanceTransactions]: ProvenanceTransactions[Name]['kind'] extends 'submit' ? Name : never;
}[keyof ProvenanceTransactions];

/**
 * The role a caller's certificate must carry for each provenance command. Beyond the
 * role, the chaincode checks the person: a dataset's controller grants and revokes
 * access, a grant's grantee records its use, the data's controller requests erasure.
 */
export const provenanceCommandRoles = {
  registerDataset: ['client', 'freelancer'],
  registerModel: ['client', 'freelancer'],
  grantAccess: ['client', 'freelancer'],
  revokeAccess: ['client', 'freelancer'],
  recordAccess: ['client', 'freelancer', 'evaluator'],
  requestErasure: ['client', 'freelancer'],
} as const satisfies Record<ProvenanceCommand, readonly Role[]>;

/**
 * Roles that may read any dataset's access grants and access log and any erasure
 * receipt (auditors, whose reading is their job; not an organisation's admin), besides the dataset's controller (and, for receipts, the requester and the
 * data subject).
 */
export const provenanceAuditorRoles: readonly Role[] = ['auditor'];

type AuditTransactions = typeof auditTransactions;

/** Names of the `audit` transactions that change the ledger. */
export type AuditCommand = {
  [Name in keyof AuditTransactions]: AuditTransactions[Name]['kind'] extends 'submit' ? Name : never;
}[keyof AuditTransactions];

/**
 * The role a caller's certificate must carry for each `audit` command. An organisation's
 * admin grants and revokes auditors' access to that organisation's records. The read
 * log's head is anchored by the organisation's API server under its service identity
 * (role `settlement`, the one role given to machines rather than people), never by a
 * person, so nobody can anchor a log they edited by hand.
 */
export const auditCommandRoles = {
  grantAuditAccess: ['admin'],
  revokeAuditAccess: ['admin'],
  anchorReadLog: ['settlement'],
} as const satisfies Record<AuditCommand, readonly Role[]>;

/**
 * Roles that may ask which organisations a record concerns (`recordOrganisations`),
 * whoever may read the record itself: the API server asks under its organisation's
 * operator (an admin) so that the read log names the audited organisations of a read that
 * was refused. The answer is MSP ids only, never the record. It tells an admin nothing
 * their organisation's own peer does not: every member runs a peer holding the channel's
 * public state, whose keys name every record and whose values name its parties. What
 * the chaincode keeps from people of other roles (that an id exists) is not a secret
 * from an organisation's operator.
 */
export const recordOrganisationsRoles: readonly Role[] = ['admin'];

/**
 * Roles whose reads of other people's records an audit grant must cover. Auditors appear
 * in the reader lists above; each read they make there also needs a live grant from an
 * organisation the record concerns (`requireAuditGrant`).
 */
export const auditGrantedRoles: readonly Role[] = ['auditor'];
