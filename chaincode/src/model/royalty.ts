import type { OwnerShare } from './ip';

const basisPointsPerUnit = 10_000n;

/** One co-owner's part of a royalty, in minor units of the royalty's currency. */
export interface RoyaltyPayout extends OwnerShare {
  readonly amount: bigint;
}

/**
 * Splits a royalty among a work's co-owners by their shares, exactly.
 *
 * Rounding rule: each owner first gets `floor(royalty × shareBps / 10 000)`; what the
 * floors leave over (less than one minor unit per owner) goes to the owner with the
 * largest share, the first of them in owner order when several hold the same largest
 * share. So the payouts always sum to the royalty, nobody gets less than their floor,
 * and the result does not depend on anything but the owner list as recorded.
 *
 * @param royalty integer minor units, zero or more.
 * @param owners the work's owners in their recorded order; shares are whole basis points
 *   above zero summing to 10 000.
 * @returns one payout per owner, in owner order (zero amounts included).
 * @throws Error when the royalty is negative, the owner list is empty, a share is not a
 *   whole number between 1 and 10 000, or the shares do not sum to 10 000.
 */
export function splitRoyalty(royalty: bigint, owners: readonly OwnerShare[]): RoyaltyPayout[] {
  if (royalty < 0n) throw new Error(`negative royalty ${royalty.toString()}`);
  if (owners.length === 0) throw new Error('a royalty needs at least one owner to be paid to');
  let total = 0;
  for (const owner of owners) {
    if (!Number.isInteger(owner.shareBps) || owner.shareBps < 1 || owner.shareBps > 10_000) {
      throw new Error(`invalid share ${owner.shareBps} basis points`);
    }
    total += owner.shareBps;
  }
  if (total !== 10_000) throw new Error(`owner shares sum to ${total} basis points, not 10000`);
  const payouts = owners.map((owner) => ({
    party: owner.party,
    shareBps: owner.shareBps,
    amount: (royalty * BigInt(owner.shareBps)) / basisPointsPerUnit,
  }));
  const remainder = royalty - payouts.reduce((sum, payout) => sum + payout.amount, 0n);
  let largest = 0;
  payouts.forEach((payout, index) => {
    if (payout.shareBps > (payouts[largest]?.shareBps ?? 0)) largest = index;
  });
  const receiver = payouts[largest];
  if (receiver !== undefined) payouts[largest] = { ...receiver, amount: receiver.amount + remainder };
  return payouts;
}

/** How a licence charges for use: basis points of reported revenue and/or an amount per unit, both optional. */
export interface RoyaltyTerms {
  /** Basis points (0 to 10 000) of the revenue a usage report declares. */
  readonly royaltyBps?: number | undefined;
  /** Integer minor units owed per reported unit. */
  readonly perUnitAmount?: bigint | undefined;
}

/** What a usage report declares for one period. */
export interface ReportedUsage {
  /** Whole units used (calls, seats, copies…), zero or more. */
  readonly units: bigint;
  /** Revenue earned with the work in the period, integer minor units, zero or more. */
  readonly revenue: bigint;
}

/**
 * The royalty a usage report owes, in minor units of the licence currency.
 *
 * Rounding rule: the revenue part is `floor(revenue × royaltyBps / 10 000)` (as the
 * platform fee is, so rounding never charges above the stated rate); the per-unit part
 * is exact. The two parts add.
 *
 * @throws Error when royaltyBps is not a whole number between 0 and 10 000, or an
 *   amount is negative.
 */
export function royaltyDue(terms: RoyaltyTerms, usage: ReportedUsage): bigint {
  if (usage.units < 0n || usage.revenue < 0n) throw new Error('reported units and revenue are never negative');
  const bps = terms.royaltyBps ?? 0;
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) throw new Error(`invalid royalty basis points ${bps}`);
  const perUnit = terms.perUnitAmount ?? 0n;
  if (perUnit < 0n) throw new Error(`negative per-unit amount ${perUnit.toString()}`);
  return (usage.revenue * BigInt(bps)) / basisPointsPerUnit + usage.units * perUnit;
}
