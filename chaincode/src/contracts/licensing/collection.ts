import {
  licenceFeePeriodId,
  royaltyInstructionId,
  type LicenceGrantRecord,
  type RoyaltyInstruction,
  type RoyaltyPeriodRecord,
  type RoyaltyShare,
} from '../../model/licensing';
import { formatMinorUnits } from '../../model/money';
import type { OwnerShare } from '../../model/ip';
import { splitRoyalty } from '../../model/royalty';
import type { InstructionIssue } from '../parameter/settlement-organisations';

/** Basis points of a whole: a collection carries the entire amount owed. */
const wholeBps = 10_000;

/**
 * What a period (or the fee, period `fee`) owes, ready to settle: the owners' parts by
 * their shares (`splitRoyalty`, parts summing to `owed`, zero parts left out) and the
 * pending instruction that collects `owed` from the licensee. The owners' payouts are
 * issued only when that collection is confirmed paid ({@link payoutsOnCollection}), so
 * nothing is paid out that the licensee did not pay in: the same order as a milestone's
 * escrow before its release.
 */
export function openCollection(
  issue: InstructionIssue,
  grant: LicenceGrantRecord,
  periodId: string,
  owed: bigint,
  owners: readonly OwnerShare[],
): { shares: RoyaltyShare[]; collection: RoyaltyInstruction } {
  const shares = splitRoyalty(owed, owners)
    .filter((part) => part.amount > 0n)
    .map((part) => ({ party: part.party, shareBps: part.shareBps, amount: formatMinorUnits(part.amount) }));
  const collection: RoyaltyInstruction = {
    instructionId: royaltyInstructionId(grant.grantId, periodId, 'collection', 1),
    kind: 'collection',
    grantId: grant.grantId,
    periodId,
    payer: grant.licensee,
    shareBps: wholeBps,
    amount: formatMinorUnits(owed),
    platformFee: '0',
    currency: grant.currency,
    status: 'pending',
    requestedAt: issue.at,
    requestTxId: issue.txId,
    settlingOrganisation: issue.settlingOrganisation,
  };
  return { shares, collection };
}

/**
 * The owners' payouts of a period whose collection was just confirmed paid: one pending
 * instruction per share, numbered in owner order.
 */
export function payoutsOnCollection(
  issue: InstructionIssue,
  period: RoyaltyPeriodRecord,
  collected: RoyaltyInstruction,
) {
  const kind = period.periodId === licenceFeePeriodId ? 'licence-fee' : 'royalty';
  return (period.shares ?? []).map((share, index): RoyaltyInstruction => ({
    instructionId: royaltyInstructionId(period.grantId, period.periodId, kind, index + 1),
    kind,
    grantId: period.grantId,
    periodId: period.periodId,
    payer: collected.payer,
    payee: share.party,
    shareBps: share.shareBps,
    amount: share.amount,
    platformFee: '0',
    currency: collected.currency,
    status: 'pending',
    requestedAt: issue.at,
    requestTxId: issue.txId,
    settlingOrganisation: issue.settlingOrganisation,
  }));
}

/** Instructions still owed an answer: failed ones issued again are settled by their replacements. */
const outstanding = (instructions: readonly RoyaltyInstruction[]) =>
  instructions.filter((instruction) => instruction.reissuedAs === undefined);

/**
 * Where a period's money stands: `collecting` while it has a collection and none is
 * paid, `paid` once every outstanding payout is, `settling` in between. A period without
 * a collection (closed before collections existed) starts at `settling`.
 */
export function periodStatus(
  instructions: readonly RoyaltyInstruction[],
  current: RoyaltyPeriodRecord['status'],
): RoyaltyPeriodRecord['status'] {
  if (current === 'nothing-due') return current;
  const collections = instructions.filter((instruction) => instruction.kind === 'collection');
  if (collections.length > 0 && !collections.some((instruction) => instruction.status === 'paid')) {
    return 'collecting';
  }
  const payouts = outstanding(instructions).filter((instruction) => instruction.kind !== 'collection');
  return payouts.length > 0 && payouts.every((instruction) => instruction.status === 'paid') ? 'paid' : 'settling';
}
