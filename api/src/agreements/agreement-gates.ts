import type { agreementTransactions, Party, Role } from '@gigledger/chaincode/model';
import type { Principal } from '../auth/principal.js';
import { forbidden } from '../errors/api-error.js';

type Transactions = typeof agreementTransactions;

/** Names of the agreement transactions that change the ledger. */
export type AgreementCommand = {
  [Name in keyof Transactions]: Transactions[Name]['kind'] extends 'submit' ? Name : never;
}[keyof Transactions];

interface Gate {
  readonly roles: readonly Role[];
  /** What the caller tries to do, for the refusal: "fund a milestone". */
  readonly action: string;
}

/**
 * The role each command needs, mirroring the chaincode's own checks so that a caller
 * who can never succeed is refused at the edge, before any ledger call. The chaincode
 * still decides whether the caller is *the* client or freelancer of the agreement.
 */
export const commandGates: Readonly<Record<AgreementCommand, Gate>> = {
  draftAgreement: { roles: ['client'], action: 'draft an agreement' },
  acceptAgreement: { roles: ['freelancer'], action: 'accept an agreement' },
  declineAgreement: { roles: ['freelancer'], action: 'decline an agreement' },
  cancelAgreement: { roles: ['client', 'freelancer'], action: 'cancel an agreement' },
  fundMilestone: { roles: ['client'], action: 'fund a milestone' },
  confirmSettlement: { roles: ['settlement'], action: 'confirm a settlement' },
  retryHeldPayout: { roles: ['client', 'freelancer', 'settlement'], action: 'retry a held payout' },
  reissueFailedPayout: { roles: ['client', 'freelancer', 'settlement'], action: 'reissue a failed payout' },
  submitDeliverable: { roles: ['freelancer'], action: 'submit a deliverable' },
  acceptMilestone: { roles: ['client'], action: 'accept a milestone' },
  rejectDeliverable: { roles: ['client'], action: 'reject a deliverable' },
  claimAcceptance: { roles: ['freelancer'], action: 'claim acceptance of a milestone' },
  postEvaluation: { roles: ['evaluator'], action: 'post an evaluation' },
  releaseMilestone: { roles: ['client', 'freelancer'], action: 'release a milestone' },
  openDispute: { roles: ['client', 'freelancer'], action: 'open a dispute' },
  castDisputeVote: { roles: ['arbitrator'], action: 'vote on a dispute' },
  submitTasks: { roles: ['freelancer'], action: 'submit tasks' },
  reviewTasks: { roles: ['client'], action: 'review tasks' },
  claimTasksAcceptance: { roles: ['freelancer'], action: 'claim acceptance of tasks' },
};

/** Roles that may list anyone's agreements, as the chaincode allows (HR systems check track records). */
export const listerRoles: readonly Role[] = ['auditor', 'admin', 'hr'];

/** Roles that may follow the events of every agreement, not only one they can read. */
export const overseerRoles: readonly Role[] = ['auditor', 'admin', 'settlement'];

/** "role client", "role client or freelancer", "role auditor, admin or hr". */
function roleList(roles: readonly Role[]): string {
  const last = roles.at(-1) ?? '';
  return roles.length > 1 ? `role ${roles.slice(0, -1).join(', ')} or ${last}` : `role ${last}`;
}

/**
 * @throws ApiError 403 FORBIDDEN naming the role the command needs.
 */
export function requireCommandRole(principal: Principal, command: AgreementCommand): void {
  const gate = commandGates[command];
  if (!gate.roles.includes(principal.role)) {
    throw forbidden(`only ${roleList(gate.roles)} may ${gate.action}; the caller has role ${principal.role}`);
  }
}

/**
 * @throws ApiError 403 FORBIDDEN unless the principal has one of the roles.
 */
export function requireOneOfRoles(principal: Principal, roles: readonly Role[], action: string): void {
  if (!roles.includes(principal.role)) {
    throw forbidden(`only ${roleList(roles)} may ${action}; the caller has role ${principal.role}`);
  }
}

/** The principal's own place in agreements: its organisation's MSP id and its certificate's userId. */
export function partyOf(principal: Principal): Party {
  return { mspId: principal.mspId, userId: principal.userId };
}

/** The same person: organisation and userId both match. */
export function isSameParty(a: Party, b: Party): boolean {
  return a.mspId === b.mspId && a.userId === b.userId;
}
