import type { AgreementRecord, Party, PartySide } from '../../model/agreement-records';
import type { Caller, Role } from '../../model/identity';
import { requireRole, requireUserId } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';

/** Roles that may read any agreement on the channel besides its own parties and evaluator. */
const overseerRoles: readonly Role[] = ['auditor', 'admin', 'arbitrator', 'settlement', 'hr'];

export function describeCaller(caller: Caller): string {
  const user = caller.userId === undefined ? 'an identity without userId' : `user ${caller.userId}`;
  const role = caller.role === undefined ? 'no role' : `role ${caller.role}`;
  return `${caller.mspId} ${user} with ${role}`;
}

export function isParty(caller: Caller, party: Party): boolean {
  return caller.mspId === party.mspId && caller.userId === party.userId;
}

function sideOf(caller: Caller, agreement: AgreementRecord): PartySide | undefined {
  // The role must match as well: the same person holding, say, an arbitrator certificate
  // does not act as a party with it.
  if (caller.role === 'client' && isParty(caller, agreement.client)) return 'client';
  if (caller.role === 'freelancer' && isParty(caller, agreement.freelancer)) return 'freelancer';
  return undefined;
}

/**
 * @throws RefusalError IDENTITY_INCOMPLETE without a userId attribute; FORBIDDEN unless the
 *   caller is that party of the agreement, holding the matching role.
 */
export function requireSide(caller: Caller, agreement: AgreementRecord, side: PartySide, action: string): void {
  requireUserId(caller, action);
  if (sideOf(caller, agreement) !== side) {
    refuse('FORBIDDEN', `only the ${side} may ${action}; the caller is ${describeCaller(caller)}`);
  }
}

/**
 * @throws RefusalError IDENTITY_INCOMPLETE without a userId attribute; FORBIDDEN unless the
 *   caller is the client or the freelancer of the agreement.
 */
export function requireEitherSide(caller: Caller, agreement: AgreementRecord, action: string): PartySide {
  requireUserId(caller, action);
  const side = sideOf(caller, agreement);
  if (side === undefined) {
    refuse('FORBIDDEN', `only the client or the freelancer may ${action}; the caller is ${describeCaller(caller)}`);
  }
  return side;
}

/**
 * @throws RefusalError FORBIDDEN unless the caller is the evaluator the agreement names, with role evaluator.
 */
export function requireEvaluator(caller: Caller, agreement: AgreementRecord, action: string): Party {
  requireUserId(caller, action);
  const evaluator = agreement.evaluator;
  if (evaluator === undefined) {
    refuse('FORBIDDEN', `agreement ${agreement.agreementId} names no evaluator, so nobody may ${action}`);
  }
  if (caller.role !== 'evaluator' || !isParty(caller, evaluator)) {
    refuse('FORBIDDEN', `only the agreement's evaluator may ${action}; the caller is ${describeCaller(caller)}`);
  }
  return evaluator;
}

/**
 * @throws RefusalError FORBIDDEN unless the caller holds role arbitrator and is neither party.
 */
export function requireArbitrator(caller: Caller, agreement: AgreementRecord, action: string): Party {
  const userId = requireUserId(caller, action);
  requireRole(caller, ['arbitrator'], action);
  if (isParty(caller, agreement.client) || isParty(caller, agreement.freelancer)) {
    refuse('FORBIDDEN', `an arbitrator who is a party to agreement ${agreement.agreementId} may not ${action}`);
  }
  return { mspId: caller.mspId, userId };
}

/**
 * Parties, the evaluator and overseeing roles may read an agreement; other clients and
 * freelancers on the channel may not browse each other's work.
 *
 * @throws RefusalError FORBIDDEN otherwise.
 */
export function requireReader(caller: Caller, agreement: AgreementRecord, action: string): void {
  const named = [agreement.client, agreement.freelancer, ...(agreement.evaluator ? [agreement.evaluator] : [])];
  if (named.some((party) => isParty(caller, party))) return;
  if (caller.role !== undefined && overseerRoles.includes(caller.role)) return;
  refuse(
    'FORBIDDEN',
    `only the parties, the evaluator or ${overseerRoles.join(', ')} may ${action}; the caller is ${describeCaller(caller)}`,
  );
}
