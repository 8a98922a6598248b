import fc from 'fast-check';
import type { OwnerShare } from './ip';
import { royaltyDue, splitRoyalty } from './royalty';

const party = (index: number) => ({
  mspId: index % 2 === 0 ? 'TalentOrgMSP' : 'ClientOrgMSP',
  userId: `owner-${index}`,
});

/** Random whole-basis-point shares above zero summing to 10 000, from cut points in (0, 10 000). */
const sharesArbitrary = fc
  .uniqueArray(fc.integer({ min: 1, max: 9_999 }), { minLength: 0, maxLength: 11 })
  .map((cuts) => {
    const bounds = [0, ...[...cuts].sort((a, b) => a - b), 10_000];
    return bounds.slice(1).map((bound, index) => bound - (bounds[index] ?? 0));
  });

const ownersArbitrary = sharesArbitrary.map((shares) =>
  shares.map((shareBps, index): OwnerShare => ({ party: party(index), shareBps })),
);

const amountArbitrary = fc.bigInt({ min: 0n, max: 10n ** 18n - 1n });

describe('royalty split among co-owners', () => {
  it('pays exactly the royalty, each owner at least the floor of their share and less than one unit per owner above it', () => {
    fc.assert(
      fc.property(amountArbitrary, ownersArbitrary, (royalty, owners) => {
        const payouts = splitRoyalty(royalty, owners);
        expect(payouts.map((payout) => payout.party)).toEqual(owners.map((owner) => owner.party));
        expect(payouts.reduce((sum, payout) => sum + payout.amount, 0n)).toBe(royalty);
        const floors = owners.map((owner) => (royalty * BigInt(owner.shareBps)) / 10_000n);
        const remainder = royalty - floors.reduce((sum, floor) => sum + floor, 0n);
        expect(remainder >= 0n && remainder < BigInt(owners.length)).toBe(true);
        payouts.forEach((payout, index) => {
          expect(payout.amount >= (floors[index] ?? -1n)).toBe(true);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the whole remainder to the first owner holding the largest share', () => {
    fc.assert(
      fc.property(amountArbitrary, ownersArbitrary, (royalty, owners) => {
        const payouts = splitRoyalty(royalty, owners);
        const largest = Math.max(...owners.map((owner) => owner.shareBps));
        const receiver = owners.findIndex((owner) => owner.shareBps === largest);
        payouts.forEach((payout, index) => {
          const floor = (royalty * BigInt(payout.shareBps)) / 10_000n;
          if (index !== receiver) expect(payout.amount).toBe(floor);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('breaks a tie for the largest share by owner order', () => {
    const owners = [
      { party: party(0), shareBps: 2_500 },
      { party: party(1), shareBps: 3_750 },
      { party: party(2), shareBps: 3_750 },
    ];
    expect(splitRoyalty(101n, owners).map((payout) => payout.amount)).toEqual([25n, 39n, 37n]);
    expect(splitRoyalty(1n, owners).map((payout) => payout.amount)).toEqual([0n, 1n, 0n]);
    expect(splitRoyalty(0n, owners).map((payout) => payout.amount)).toEqual([0n, 0n, 0n]);
  });

  it('refuses owner lists that do not describe a whole work', () => {
    expect(() => splitRoyalty(10n, [])).toThrow('at least one owner');
    expect(() => splitRoyalty(10n, [{ party: party(0), shareBps: 9_999 }])).toThrow('sum to 9999');
    expect(() =>
      splitRoyalty(10n, [
        { party: party(0), shareBps: 0 },
        { party: party(1), shareBps: 10_000 },
      ]),
    ).toThrow('invalid share 0');
    expect(() => splitRoyalty(10n, [{ party: party(0), shareBps: 10_000.5 }])).toThrow('invalid share');
    expect(() => splitRoyalty(-1n, [{ party: party(0), shareBps: 10_000 }])).toThrow('negative royalty');
  });
});

describe('royalty due on a usage report', () => {
  it('floors the revenue part and adds the exact per-unit part', () => {
    expect(royaltyDue({ royaltyBps: 750 }, { units: 0n, revenue: 1_000_001n })).toBe(75_000n);
    expect(royaltyDue({ perUnitAmount: 3n }, { units: 41n, revenue: 999n })).toBe(123n);
    expect(royaltyDue({ royaltyBps: 1, perUnitAmount: 2n }, { units: 5n, revenue: 9_999n })).toBe(10n);
    expect(royaltyDue({}, { units: 5n, revenue: 9_999n })).toBe(0n);
  });

  it('never charges more than the stated rate on revenue, and by less than one minor unit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        amountArbitrary,
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        (royaltyBps, revenue, units, perUnitAmount) => {
          const due = royaltyDue({ royaltyBps, perUnitAmount }, { units, revenue });
          const revenuePart = due - units * perUnitAmount;
          expect(revenuePart * 10_000n <= revenue * BigInt(royaltyBps)).toBe(true);
          expect((revenuePart + 1n) * 10_000n > revenue * BigInt(royaltyBps)).toBe(true);
        },
      ),
    );
  });

  it('refuses rates and amounts outside their range', () => {
    expect(() => royaltyDue({ royaltyBps: 10_001 }, { units: 0n, revenue: 1n })).toThrow('invalid royalty basis');
    expect(() => royaltyDue({ perUnitAmount: -1n }, { units: 0n, revenue: 1n })).toThrow('negative per-unit');
    expect(() => royaltyDue({}, { units: -1n, revenue: 1n })).toThrow('never negative');
  });
});
