import {
  agreementCommandRoles,
  agreementFeedRoles,
  agreementListerRoles,
  type AgreementCommand,
  type Party,
  type Role,
} from '@gigledger/chaincode/model';
import type { Principal } from '../auth/principal.js';
import { forbidden } from '../errors/api-error.js';

export type { AgreementCommand };

/** What the caller of each command tries to do, for the refusal: "fund a milestone". */
const commandActions: Readonly<Record<AgreementCommand, string>> = {
  draftAgreement: 'draft an agreement',
  acceptAgreement: 'accept an agreement',
  declineAgreement: 'decline an agreement',
  cancelAgreement: 'cancel an agreement',
  fundMilestone: 'fund a milestone',
  confirmSettlement: 'confirm a settlement',
  retryHeldPayout: 'retry a held payout',
  reissueFailedPayout: 'reissue a failed payout',
  submitDeliverable: 'submit a deliverable',
  acceptMilestone: 'accept a milestone',
  rejectDeliverable: 'reject a deliverable',
  claimAcceptance: 'claim acceptance of a milestone',
  postEvaluation: 'post an evaluation',
  releaseMilestone: 'release a milestone',
  openDispute: 'open a dispute',
  castDisputeVote: 'vote on a dispute',
  submitTasks: 'submit tasks',
  reviewTasks: 'review tasks',
  claimTasksAcceptance: 'claim acceptance of tasks',
};

/** Roles that may list anyone's agreements, as the chaincode allows (HR systems check track records). */
export const listerRoles = agreementListerRoles;

/** Roles that may follow the events of every agreement, not only one they can read. */
export const overseerRoles = agreementFeedRoles;

/** "role client", "role client or freelancer", "role auditor, admin or hr". */
function roleList(roles: readonly Role[]): string {
  const last = roles.at(-1) ?? '';
  return roles.length > 1 ? `role ${roles.slice(0, -1).join(', ')} or ${last}` : `role ${last}`;
}

/**
 * @throws ApiError 403 FORBIDDEN naming the role the command needs.
 */
export function requireCommandRole(principal: Principal, command: AgreementCommand): void {
  // The chaincode's own table: a test there runs every command as every other role.
  const roles: readonly Role[] = agreementCommandRoles[command];
  if (!roles.includes(principal.role)) {
    throw forbidden(`only ${roleList(roles)} may ${commandActions[command]}; the caller has role ${principal.role}`);
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
