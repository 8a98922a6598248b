import type { Context } from 'fabric-contract-api';
import type { AgreementRecord, PartySide } from '../../model/agreement-records';
import type { AuditedRecord } from '../../model/audit';
import type { Party } from '../../model/party';
import { agreementOrganisationReaderRoles, agreementReaderRoles } from '../../model/access-roles';
import { governedRoles, type Caller } from '../../model/identity';
import { describeCaller, isParty, requireRole, requireUserId } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import { auditGrantAllows, readsThroughAuditGrants, refuseMissingRecord, requireAuditGrant } from '../audit/scope';
import { readAgreement, readMilestones } from './store';

/**
 * Whether the caller may read the agreement: its parties, its evaluator, the overseeing
 * roles (`agreementReaderRoles`; a governed role only with its governance decision,
 * `Caller.governed`), and the admins and HR systems of an organisation one of those named
 * belongs to (`agreementOrganisationReaderRoles`). Everyone else must not learn that it
 * exists.
 */
export function canReadAgreement(caller: Caller, agreement: AgreementRecord): boolean {
  const named = namedParties(agreement);
  if (named.some((party) => isParty(caller, party))) return true;
  if (caller.role === undefined) return false;
  const governed = !(governedRoles as readonly string[]).includes(caller.role) || caller.governed === true;
  if (agreementReaderRoles.includes(caller.role) && governed) return true;
  return agreementOrganisationReaderRoles.includes(caller.role) && named.some((party) => party.mspId === caller.mspId);
}

/**
 * Refuses exactly as for an agreement id that names no record (same code, field and
 * sentence as `requireAgreement`), so that a refusal never tells someone who may not
 * read an agreement that it exists, or anything in it.
 *
 * @throws RefusalError NOT_FOUND, always.
 */
export function refuseAsMissing(agreementId: string, field = 'agreementId'): never {
  refuse('NOT_FOUND', `agreement ${agreementId} does not exist`, field);
}

/**
 * Comes before every other check of the caller, even for a missing userId: any other
 * refusal would differ from the one an agreement id naming nothing gets.
 *
 * @throws RefusalError NOT_FOUND, worded as for a missing agreement, unless the caller may read it.
 */
export function requireVisible(caller: Caller, agreement: AgreementRecord, field = 'agreementId'): void {
  if (!canReadAgreement(caller, agreement)) refuseAsMissing(agreement.agreementId, field);
}

/**
 * {@link requireVisible} for what only someone named in the agreement may do (act on it,
 * have its terms erased): an auditor not named in it is refused as for a missing agreement too,
 * whatever their grants. A FORBIDDEN here, before any look at their grants, would tell an
 * auditor without one that the id exists; and no such action is ever an auditor's.
 *
 * @throws RefusalError NOT_FOUND, worded as for a missing agreement.
 */
export function requireVisibleToActor(caller: Caller, agreement: AgreementRecord, field = 'agreementId'): void {
  if (readsThroughAuditGrants(caller, namedParties(agreement))) refuseAsMissing(agreement.agreementId, field);
  requireVisible(caller, agreement, field);
}

function sideOf(caller: Caller, agreement: AgreementRecord): PartySide | undefined {
  // The role must match as well: the same person holding, say, an arbitrator certificate
  // does not act as a party with it.
  if (caller.role === 'client' && isParty(caller, agreement.client)) return 'client';
  if (caller.role === 'freelancer' && isParty(caller, agreement.freelancer)) return 'freelancer';
  return undefined;
}

/**
 * @throws RefusalError NOT_FOUND, as for a missing agreement, unless the caller may read
 *   it; IDENTITY_INCOMPLETE without a userId attribute; FORBIDDEN unless the caller is that
 *   party of the agreement, holding the matching role.
 */
export function requireSide(caller: Caller, agreement: AgreementRecord, side: PartySide, action: string): void {
  requireVisibleToActor(caller, agreement);
  requireUserId(caller, action);
  if (sideOf(caller, agreement) !== side) {
    refuse('FORBIDDEN', `only the ${side} may ${action}; the caller is ${describeCaller(caller)}`);
  }
}

/**
 * @throws RefusalError NOT_FOUND, as for a missing agreement, unless the caller may read
 *   it; IDENTITY_INCOMPLETE without a userId attribute; FORBIDDEN unless the caller is the
 *   client or the freelancer of the agreement.
 */
export function requireEitherSide(caller: Caller, agreement: AgreementRecord, action: string): PartySide {
  requireVisibleToActor(caller, agreement);
  requireUserId(caller, action);
  const side = sideOf(caller, agreement);
  if (side === undefined) {
    refuse('FORBIDDEN', `only the client or the freelancer may ${action}; the caller is ${describeCaller(caller)}`);
  }
  return side;
}

/**
 * @throws RefusalError NOT_FOUND, as for a missing agreement, unless the caller may read
 *   it; FORBIDDEN unless the caller is the evaluator the agreement names, with role evaluator.
 */
export function requireEvaluator(caller: Caller, agreement: AgreementRecord, action: string): Party {
  requireVisibleToActor(caller, agreement);
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
 * @throws RefusalError NOT_FOUND, as for a missing agreement, unless the caller may read
 *   it; FORBIDDEN unless the caller holds role arbitrator and is neither party.
 */
export function requireArbitrator(caller: Caller, agreement: AgreementRecord, action: string): Party {
  requireVisibleToActor(caller, agreement);
  const userId = requireUserId(caller, action);
  requireRole(caller, ['arbitrator'], action);
  if (isParty(caller, agreement.client) || isParty(caller, agreement.freelancer)) {
    refuse('FORBIDDEN', `an arbitrator who is a party to agreement ${agreement.agreementId} may not ${action}`);
  }
  return { mspId: caller.mspId, userId };
}

/** The agreement as an audit grant sees it: it concerns both parties' organisations and dates from its creation. */
export function auditedAgreement(agreement: AgreementRecord): AuditedRecord {
  return {
    kind: 'agreement',
    organisations: [...new Set([agreement.client.mspId, agreement.freelancer.mspId])],
    at: agreement.createdAt,
  };
}

function namedParties(agreement: AgreementRecord): Party[] {
  return [agreement.client, agreement.freelancer, ...(agreement.evaluator ? [agreement.evaluator] : [])];
}

/** Whether an auditor's grants let them read the agreement (always true for other roles); lists drop the rest. */
export function auditGrantCoversAgreement(ctx: Context, caller: Caller, agreement: AgreementRecord): Promise<boolean> {
  return auditGrantAllows(ctx, caller, auditedAgreement(agreement), namedParties(agreement));
}

/**
 * Parties, the evaluator and overseeing roles may read an agreement; other clients and
 * freelancers on the channel may not browse each other's work, nor learn that it exists.
 * An auditor also needs a live grant from the client's or the freelancer's organisation
 * naming agreements and a time range holding the agreement's creation.
 *
 * @throws RefusalError NOT_FOUND, worded as for a missing agreement, unless the caller's
 *   role or part lets them read it and, for an auditor, a grant covers it.
 */
export async function requireReader(ctx: Context, caller: Caller, agreement: AgreementRecord): Promise<void> {
  requireVisible(caller, agreement);
  await requirePanelSeat(ctx, caller, agreement);
  await requireAuditGrant(ctx, caller, auditedAgreement(agreement), namedParties(agreement), () =>
    refuseAsMissing(agreement.agreementId),
  );
}

/**
 * A governed arbitrator's reach, beyond agreements naming them, is the disputes they are
 * drawn to decide: an agreement with a dispute whose panel holds them (before and after
 * its decision), or one opened before panels were drawn and still undecided (its first
 * voters form its panel, so any governed arbitrator may be one). Other agreements, their
 * own organisation's included, are none of their business.
 *
 * @throws RefusalError NOT_FOUND, worded as for a missing agreement.
 */
async function requirePanelSeat(ctx: Context, caller: Caller, agreement: AgreementRecord): Promise<void> {
  if (caller.role !== 'arbitrator') return;
  if (namedParties(agreement).some((party) => isParty(caller, party))) return;
  const seated = (await readMilestones(ctx, agreement)).some(({ dispute }) => {
    if (dispute === undefined) return false;
    if (dispute.panel === undefined) return dispute.decision === undefined;
    return dispute.panel.some((member) => isParty(caller, member));
  });
  if (!seated) refuseAsMissing(agreement.agreementId);
}

/**
 * The agreement with the id, for a caller who may read it ({@link requireReader}).
 *
 * @throws RefusalError NOT_FOUND, one answer whether no agreement has the id or the caller
 *   may not read it, and after the same reads of the caller's audit grants.
 */
export async function requireReadableAgreement(
  ctx: Context,
  caller: Caller,
  agreementId: string,
): Promise<AgreementRecord> {
  const agreement = await readAgreement(ctx, agreementId);
  if (agreement === undefined) return refuseMissingRecord(ctx, caller, () => refuseAsMissing(agreementId));
  await requireReader(ctx, caller, agreement);
  return agreement;
}
