import {
  licenceFeePeriodId,
  licenceFeeView,
  royaltyInstructionId,
  royaltyPeriodBounds,
  type ConfirmRoyaltyPayoutRequest,
  type LicenceGrantRecord,
  royaltyReportingWindowDays,
  type ReportUsageRequest,
  type RoyaltyInstruction,
  type RoyaltyPeriodRecord,
  type UsageReportRecord,
} from '../../model/licensing';
import { licensingCommandRoles } from '../../model/access-roles';
import { formatMinorUnits, maxMinorUnits, minorUnits } from '../../model/money';
import { royaltyDue } from '../../model/royalty';
import { describeCaller, isParty, requireRole } from '../../ledger/caller';
import { refuse } from '../../ledger/refusal';
import { actorOf, addSeconds, reached, touched, type Tx } from '../../ledger/tx';
import { instructionIssue, requireSettlementOrganisation } from '../parameter/settlement-organisations';
import { answerInstruction } from '../settlement/answers';
import { openCollection, payoutsOnCollection, periodStatus } from './collection';
import { canReadGrant, requireReadableGrant } from './queries';
import { licenceGrants, refuseGrantAsMissing, requireGrant, royaltyPeriods, usageReports } from './store';
import { isOwner, ownersOfWork } from './works';

function periodLabel(grantId: string, periodId: string): string {
  return periodId === licenceFeePeriodId ? `the fee of grant ${grantId}` : `period ${periodId} of grant ${grantId}`;
}

/** @throws RefusalError INVALID_STATE when the period lies wholly outside the grant's term. */
function requireWithinTerm(grant: LicenceGrantRecord, periodId: string, bounds: { start: string; end: string }): void {
  if (
    Date.parse(bounds.end) <= Date.parse(grant.termStart) ||
    Date.parse(bounds.start) >= Date.parse(grant.expiresAt)
  ) {
    refuse(
      'INVALID_STATE',
      `${periodLabel(grant.grantId, periodId)} lies outside its term (${grant.termStart} to ${grant.expiresAt})`,
      'periodId',
    );
  }
}

/**
 * The licensee reports a period's usage; the report owes `royaltyDue` of it (see the
 * rounding rule there). One report per grant and period, on a key of its own.
 *
 * @throws RefusalError NOT_FOUND, as for a missing grant, unless the licensee or an owner
 *   calls; FORBIDDEN for an owner; VALIDATION_FAILED (currency)
 *   when the revenue is not in the licence currency, (units or revenue) when the royalty
 *   owed would exceed the 18-digit amount a payout carries; INVALID_STATE when the grant is
 *   revoked or expired, the period has not started, has not ended (while the licence
 *   lasts through it), lies outside the term or is closed;
 *   ALREADY_EXISTS when the period was reported already.
 */
export async function reportUsage(tx: Tx, request: ReportUsageRequest): Promise<UsageReportRecord> {
  requireRole(tx.caller, licensingCommandRoles.reportUsage, 'report licence usage');
  const grant = await requireGrant(tx.ctx, request.grantId);
  if (!isParty(tx.caller, grant.licensee)) {
    // Only someone who may see the grant learns that it exists.
    if (!isOwner(tx.caller, await ownersOfWork(tx, grant.workId))) refuseGrantAsMissing(grant.grantId);
    refuse(
      'FORBIDDEN',
      `only the licensee of grant ${grant.grantId} may report its usage; the caller is ${describeCaller(tx.caller)}`,
    );
  }
  const bounds = royaltyPeriodBounds(request.periodId);
  // Usage before a revocation or the expiry still owes its royalty, so those months stay reportable.
  const licensedUntil = grant.revocation?.at ?? grant.expiresAt;
  if (Date.parse(bounds.start) >= Date.parse(licensedUntil)) {
    refuse(
      'INVALID_STATE',
      grant.revocation === undefined
        ? `licence grant ${grant.grantId} expired at ${grant.expiresAt}; no usage after it is reported`
        : `licence grant ${grant.grantId} was revoked at ${grant.revocation.at}; no usage after it is reported`,
      'periodId',
    );
  }
  if (request.currency !== grant.currency) {
    refuse(
      'VALIDATION_FAILED',
      `currency: revenue must be reported in the licence currency ${grant.currency}, not ${request.currency}`,
      'currency',
    );
  }
  requireWithinTerm(grant, request.periodId, bounds);
  if (!reached(tx, bounds.start))
    refuse('INVALID_STATE', `${periodLabel(grant.grantId, request.periodId)} starts at ${bounds.start}`, 'periodId');
  // A month's usage is known once the month is over, or once the licence ended within it;
  // reported before, a licensee could settle the whole month on the figures of its first
  // days, as one report per month is all a period takes.
  const usageEnds = Date.parse(licensedUntil) < Date.parse(bounds.end) ? licensedUntil : bounds.end;
  if (!reached(tx, usageEnds)) {
    refuse(
      'INVALID_STATE',
      `${periodLabel(grant.grantId, request.periodId)} ends at ${bounds.end}; its usage is reported once it has ended`,
      'periodId',
    );
  }
  if ((await royaltyPeriods.read(tx.ctx, grant.grantId, request.periodId)) !== undefined) {
    refuse('INVALID_STATE', `${periodLabel(grant.grantId, request.periodId)} is closed`, 'periodId');
  }
  const earlier = await usageReports.read(tx.ctx, grant.grantId, request.periodId);
  if (earlier !== undefined) {
    refuse(
      'ALREADY_EXISTS',
      `${periodLabel(grant.grantId, request.periodId)} was reported in transaction ${earlier.txId}`,
      'periodId',
    );
  }
  const royalty = royaltyDue(
    {
      royaltyBps: grant.royaltyBps,
      perUnitAmount: grant.perUnitAmount === undefined ? undefined : minorUnits(grant.perUnitAmount),
    },
    { units: BigInt(request.units), revenue: minorUnits(request.revenue) },
  );
  if (royalty > maxMinorUnits) {
    // The month's payouts could never be issued: refused now, while the report can still be sent right.
    const perUnitPart =
      BigInt(request.units) * (grant.perUnitAmount === undefined ? 0n : minorUnits(grant.perUnitAmount));
    const field = perUnitPart > maxMinorUnits ? 'units' : 'revenue';
    refuse(
      'VALIDATION_FAILED',
      `${field}: the royalty this report owes (${royalty.toString()} minor units) exceeds the ${maxMinorUnits.toString().length}-digit amount a payout can carry`,
      field,
    );
  }
  const report: UsageReportRecord = {
    grantId: grant.grantId,
    periodId: request.periodId,
    units: request.units,
    revenue: request.revenue,
    currency: request.currency,
    royalty: formatMinorUnits(royalty),
    reportedBy: actorOf(tx.caller),
    at: tx.at,
    txId: tx.txId,
  };
  await usageReports.write(tx.ctx, report);
  return report;
}

/**
 * A month nobody reported closes with nothing due, so it may not be closed while the
 * licensee can still report it ({@link royaltyReportingWindowDays} after it ends), and
 * never by the licensee, who would owe the royalty.
 *
 * @throws RefusalError FORBIDDEN for the licensee; INVALID_STATE within the window.
 */
function requireReportingWindowOver(tx: Tx, grant: LicenceGrantRecord, periodId: string, end: string): void {
  if (isParty(tx.caller, grant.licensee)) {
    refuse(
      'FORBIDDEN',
      `${periodLabel(grant.grantId, periodId)} has no usage report; its licensee reports it rather than closing it`,
    );
  }
  const reportingEnds = addSeconds(end, royaltyReportingWindowDays * 86_400);
  if (!reached(tx, reportingEnds)) {
    refuse(
      'INVALID_STATE',
      `${periodLabel(grant.grantId, periodId)} has no usage report; the licensee may report it until ${reportingEnds}, and only then may it close without one`,
      'periodId',
    );
  }
}

/**
 * Closes an ended period of a grant: the royalty its report owes (nothing when none was
 * filed) is split among the work's owners as they are at closing, by their shares (see
 * `splitRoyalty`), and a pending `collection` instruction asks the settlement service to
 * collect the whole royalty from the licensee. The owners' payouts are issued when that
 * collection is confirmed paid (see {@link confirmRoyaltyPayout}), so the platform never
 * pays out a royalty it did not receive. Its licensee, an owner, the settlement service
 * or an auditor may close it once it is reported; a month without a report closes only
 * after the reporting window (and not by its licensee). A revoked or expired grant's
 * months before the revocation or expiry still close.
 *
 * @throws RefusalError FORBIDDEN for other roles; NOT_FOUND, as for a missing grant, for
 *   anyone else, an auditor without an audit grant covering it included; INVALID_STATE until
 *   the period has ended (by the transaction time), when it lies outside the term, or when
 *   it is closed.
 */
export async function closeRoyaltyPeriod(tx: Tx, grantId: string, periodId: string): Promise<RoyaltyPeriodRecord> {
  requireRole(tx.caller, licensingCommandRoles.closeRoyaltyPeriod, 'close a royalty period');
  const { grant, owners } = await requireReadableGrant(tx, grantId);
  if (tx.caller.role === 'settlement')
    await requireSettlementOrganisation(tx, `close ${periodLabel(grantId, periodId)}`);
  const bounds = royaltyPeriodBounds(periodId);
  requireWithinTerm(grant, periodId, bounds);
  if (!reached(tx, bounds.end))
    refuse('INVALID_STATE', `${periodLabel(grantId, periodId)} ends at ${bounds.end}`, 'periodId');
  if ((await royaltyPeriods.read(tx.ctx, grantId, periodId)) !== undefined) {
    refuse('INVALID_STATE', `${periodLabel(grantId, periodId)} is already closed`, 'periodId');
  }
  const report = await usageReports.read(tx.ctx, grantId, periodId);
  if (report === undefined) requireReportingWindowOver(tx, grant, periodId, bounds.end);
  const royalty = report === undefined ? 0n : minorUnits(report.royalty);
  const owed =
    royalty === 0n ? undefined : openCollection(await instructionIssue(tx), grant, periodId, royalty, owners);
  const period: RoyaltyPeriodRecord = {
    grantId,
    periodId,
    workId: grant.workId,
    royalty: formatMinorUnits(royalty),
    currency: grant.currency,
    reported: report !== undefined,
    ...(owed === undefined ? {} : { shares: owed.shares }),
    instructions: owed === undefined ? [] : [owed.collection],
    status: owed === undefined ? 'nothing-due' : 'collecting',
    closedBy: actorOf(tx.caller),
    closedAt: tx.at,
    txId: tx.txId,
    updatedAt: tx.at,
    updatedTxId: tx.txId,
  };
  await royaltyPeriods.write(tx.ctx, period);
  return period;
}

/**
 * Records the settlement provider's answer to a royalty or fee instruction (period
 * `fee`). A collection confirmed paid issues the owners' payouts, one per share fixed at
 * closing, in the same transaction (`issued`, for the event's settlement requests); a
 * failed one leaves the period `collecting` until the collection is issued again. The
 * period (or fee) is `paid` once every outstanding payout is.
 *
 * @throws RefusalError FORBIDDEN without role settlement of a settlement organisation;
 *   NOT_FOUND for an unknown period or instruction; INVALID_STATE when the instruction
 *   was already answered.
 */
export async function confirmRoyaltyPayout(
  tx: Tx,
  request: ConfirmRoyaltyPayoutRequest,
): Promise<{ period: RoyaltyPeriodRecord; instruction: RoyaltyInstruction; issued: RoyaltyInstruction[] }> {
  const label = periodLabel(request.grantId, request.periodId);
  requireRole(tx.caller, licensingCommandRoles.confirmRoyaltyPayout, `confirm a royalty payout of ${label}`);
  await requireSettlementOrganisation(tx, `confirm a royalty payout of ${label}`);
  const period = await royaltyPeriods.read(tx.ctx, request.grantId, request.periodId);
  if (period === undefined) refuse('NOT_FOUND', `${label} is not closed`, 'periodId');
  const { answered, instructions } = answerInstruction(tx, period.instructions, request, label);
  const issued =
    answered.kind === 'collection' && answered.status === 'paid'
      ? payoutsOnCollection(await instructionIssue(tx), period, answered)
      : [];
  const all = [...instructions, ...issued];
  const updated = touched(tx, { ...period, instructions: all, status: periodStatus(all, period.status) });
  await royaltyPeriods.write(tx.ctx, updated);
  return { period: updated, instruction: answered, issued };
}

/**
 * Whether the caller may see a closed period: named on one of its instructions (a payee
 * who has since sold their share included), or able to see its grant now.
 */
async function maySeePeriod(tx: Tx, period: RoyaltyPeriodRecord): Promise<boolean> {
  if (period.instructions.some((instruction) => namesCaller(tx, instruction))) return true;
  const grant = await licenceGrants.read(tx.ctx, period.grantId);
  return grant !== undefined && canReadGrant(tx, grant, await ownersOfWork(tx, grant.workId));
}

/**
 * Issues a failed royalty or fee instruction again (after the payee fixed their payout
 * account, or the licensee funded theirs, say): a new instruction for the same party and
 * amount replaces the failed one, which keeps its failure and names its replacement. Its
 * payee (the licensee, for a collection) or the settlement service may ask.
 *
 * @returns `period` whole, for the event the settlement service follows, and
 *   `periodAsSeen`, what the caller is answered (see {@link periodAsSeenBy}).
 * @throws RefusalError NOT_FOUND (grantId) for a grant that does not exist, and as for one
 *   to anyone who may see neither it nor the period; NOT_FOUND (periodId) for a period
 *   not closed of a grant the caller reads; NOT_FOUND (instructionId) for an unknown
 *   instruction; FORBIDDEN for anyone else; INVALID_STATE unless the instruction failed
 *   and was not issued again.
 */
export async function reissueRoyaltyPayout(
  tx: Tx,
  request: { grantId: string; periodId: string; instructionId: string },
): Promise<{
  period: RoyaltyPeriodRecord;
  periodAsSeen: RoyaltyPeriodRecord;
  instruction: RoyaltyInstruction;
  replaces: string;
}> {
  const label = periodLabel(request.grantId, request.periodId);
  requireRole(tx.caller, licensingCommandRoles.reissueRoyaltyPayout, `reissue a royalty payout of ${label}`);
  if (tx.caller.role === 'settlement') await requireSettlementOrganisation(tx, `reissue a royalty payout of ${label}`);
  const period = await royaltyPeriods.read(tx.ctx, request.grantId, request.periodId);
  const refuseAsNotClosed = (): never => refuse('NOT_FOUND', `${label} is not closed`, 'periodId');
  if (period === undefined) {
    // A grant nobody may read is answered as one that does not exist, the way closing a period answers it.
    const grant = await licenceGrants.read(tx.ctx, request.grantId);
    const readable =
      grant !== undefined &&
      (tx.caller.role === 'settlement' || canReadGrant(tx, grant, await ownersOfWork(tx, grant.workId)));
    if (!readable) refuseGrantAsMissing(request.grantId);
    return refuseAsNotClosed();
  }
  // Only someone who may see the period learns that it (and so its grant) exists.
  if (tx.caller.role !== 'settlement' && !(await maySeePeriod(tx, period))) refuseGrantAsMissing(request.grantId);
  const index = period.instructions.findIndex((instruction) => instruction.instructionId === request.instructionId);
  const failed = period.instructions[index];
  if (failed === undefined) {
    // A fee's payouts are named before they are issued (awaiting the licensee's payment).
    const awaiting = licenceFeeView(period).payouts.find(
      (payout) => payout.instructionId === request.instructionId && payout.status === 'awaiting-collection',
    );
    if (awaiting !== undefined) {
      refuse(
        'INVALID_STATE',
        `royalty payout ${request.instructionId} of ${label} awaits the collection from the licensee: it is ` +
          'issued once a collection is confirmed paid, and can be issued again only after it failed',
        'instructionId',
      );
    }
    refuse('NOT_FOUND', `${label} has no royalty instruction ${request.instructionId}`, 'instructionId');
  }
  if (
    tx.caller.role !== 'settlement' &&
    !isParty(tx.caller, failed.kind === 'collection' ? failed.payer : (failed.payee ?? failed.payer))
  ) {
    refuse(
      'FORBIDDEN',
      failed.kind === 'collection'
        ? `only its licensee or the settlement service may issue collection ${failed.instructionId} again`
        : `only its payee or the settlement service may reissue royalty payout ${failed.instructionId}`,
    );
  }
  if (failed.status !== 'failed') {
    refuse(
      'INVALID_STATE',
      `royalty instruction ${failed.instructionId} is ${failed.status}, not failed`,
      'instructionId',
    );
  }
  if (failed.reissuedAs !== undefined) {
    refuse(
      'INVALID_STATE',
      `royalty instruction ${failed.instructionId} was already reissued as ${failed.reissuedAs}`,
      'instructionId',
    );
  }
  const { confirmation: _confirmation, ...terms } = failed;
  const issue = await instructionIssue(tx);
  // Issued anew: to the organisation that settles now, which may not be the one that sent the failed payout.
  const replacement: RoyaltyInstruction = {
    ...terms,
    instructionId: royaltyInstructionId(period.grantId, period.periodId, failed.kind, period.instructions.length + 1),
    status: 'pending',
    requestedAt: issue.at,
    requestTxId: issue.txId,
    settlingOrganisation: issue.settlingOrganisation,
    reissueOf: failed.instructionId,
  };
  const instructions = [
    ...period.instructions.map((existing, position) =>
      position === index ? { ...existing, reissuedAs: replacement.instructionId } : existing,
    ),
    replacement,
  ];
  const updated = touched(tx, { ...period, instructions });
  await royaltyPeriods.write(tx.ctx, updated);
  return {
    period: updated,
    periodAsSeen: await periodAsSeenBy(tx, updated),
    instruction: replacement,
    replaces: failed.instructionId,
  };
}

/**
 * A closed period as its caller may see it: whole for the settlement service and for
 * whoever may read its grant; for a payee who has since sold their share (named on the
 * period, no longer able to read the grant, so `getRoyaltyPeriod` answers them
 * NOT_FOUND), only the instructions naming them.
 */
async function periodAsSeenBy(tx: Tx, period: RoyaltyPeriodRecord): Promise<RoyaltyPeriodRecord> {
  if (tx.caller.role === 'settlement') return period;
  const grant = await licenceGrants.read(tx.ctx, period.grantId);
  if (grant !== undefined && canReadGrant(tx, grant, await ownersOfWork(tx, grant.workId))) return period;
  return {
    ...period,
    instructions: period.instructions.filter((instruction) => namesCaller(tx, instruction)),
  };
}

/** Whether the caller pays or is paid by an instruction. */
function namesCaller(tx: Tx, instruction: RoyaltyInstruction): boolean {
  return (
    isParty(tx.caller, instruction.payer) || (instruction.payee !== undefined && isParty(tx.caller, instruction.payee))
  );
}
