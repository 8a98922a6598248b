import { setTimeout as delay } from 'node:timers/promises';
import { eachRecordInTurn } from './settlement-service.js';

describe('eachRecordInTurn', () => {
  it('works on the items of one record one after another, in their order, and on different records side by side', async () => {
    const inFlight = new Map<string, number>();
    const mostAtOnce = new Map<string, number>();
    let allAtOnce = 0;
    let mostOfAll = 0;
    const done: string[] = [];
    const items = [
      { record: 'G-1/2026-01', id: 'royalty-1' },
      { record: 'A-1/m1', id: 'release-1' },
      { record: 'G-1/2026-01', id: 'royalty-2' },
      { record: 'A-1/m1', id: 'refund-1' },
      { record: 'A-2/m1', id: 'fund-escrow-1' },
    ];
    await eachRecordInTurn(
      items,
      (item) => item.record,
      async (item) => {
        inFlight.set(item.record, (inFlight.get(item.record) ?? 0) + 1);
        mostAtOnce.set(item.record, Math.max(mostAtOnce.get(item.record) ?? 0, inFlight.get(item.record) ?? 0));
        allAtOnce += 1;
        mostOfAll = Math.max(mostOfAll, allAtOnce);
        await delay(20);
        inFlight.set(item.record, (inFlight.get(item.record) ?? 1) - 1);
        allAtOnce -= 1;
        done.push(item.id);
      },
    );
    expect(Object.fromEntries(mostAtOnce)).toEqual({ 'G-1/2026-01': 1, 'A-1/m1': 1, 'A-2/m1': 1 });
    expect(mostOfAll).toBe(3);
    expect(done.filter((id) => id.startsWith('royalty'))).toEqual(['royalty-1', 'royalty-2']);
    expect(done.filter((id) => id === 'release-1' || id === 'refund-1')).toEqual(['release-1', 'refund-1']);
    expect(done).toHaveLength(5);
  });

  it('stops a record at its first failure and lets the others finish', async () => {
    const done: string[] = [];
    await expect(
      eachRecordInTurn(
        ['a1', 'a2', 'b1'],
        (item) => item.slice(0, 1),
        async (item) => {
          await delay(5);
          if (item === 'a1') throw new Error('a1 failed');
          done.push(item);
        },
      ),
    ).rejects.toThrow('a1 failed');
    await delay(20);
    expect(done).toEqual(['b1']);
  });
});
