import { provableKinds, recordKeyOf } from './record-proofs.js';

const write = (key: string, value: unknown) => ({
  namespace: 'gigledger',
  key,
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
});

describe('record proofs', () => {
  it('takes a milestone as <agreementId>/<milestoneId> and a payout as its instruction id, by the chaincode id rules', () => {
    expect(provableKinds.milestone.id.safeParse('A-1/m1').success).toBe(true);
    for (const bad of ['A-1', 'A-1/m1/x', '/m1', 'A 1/m1', 'A-1/']) {
      expect([bad, provableKinds.milestone.id.safeParse(bad).success]).toEqual([bad, false]);
    }
    for (const good of ['A-1/m1/fund-escrow-1', 'A-1/m1/release-2', 'A-1/m1/refund-10']) {
      expect([good, provableKinds.payout.id.safeParse(good).success]).toEqual([good, true]);
    }
    for (const bad of ['A-1/m1', 'A-1/m1/release', 'A-1/m1/release-0', 'A-1/m1/bonus-1', 'A-1/m1/release-1/x']) {
      expect([bad, provableKinds.payout.id.safeParse(bad).success]).toEqual([bad, false]);
    }
  });

  it('picks the write whose value holds the record, skipping values that are not JSON objects', () => {
    const writes = [
      write('\u0000request\u0000x\u0000', 'not json'),
      write('\u0000list\u0000', [{ agreementId: 'A-1', milestoneId: 'm1' }]),
      write('\u0000milestone\u0000A-1\u0000m2\u0000', { agreementId: 'A-1', milestoneId: 'm2' }),
      write('\u0000milestone\u0000A-1\u0000m1\u0000', { agreementId: 'A-1', milestoneId: 'm1' }),
    ];
    const holdsM1 = (value: Record<string, unknown>) => value['agreementId'] === 'A-1' && value['milestoneId'] === 'm1';
    expect(recordKeyOf(writes, holdsM1)).toEqual({
      namespace: 'gigledger',
      key: '\u0000milestone\u0000A-1\u0000m1\u0000',
    });
    expect(recordKeyOf(writes, (value) => value['agreementId'] === 'A-2')).toBeUndefined();
  });
});
