import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PaymentStore, type PaymentRecord } from './payment-store.js';

function payment(instructionId: string): PaymentRecord {
  return {
    instructionId,
    providerReference: `sbx_${instructionId}`,
    fingerprint: `{"instructionId":"${instructionId}"}`,
    direction: 'payout',
    amount: '1000',
    currency: 'EUR',
    payee: { holderName: 'Tara', account: 'DE89370400440532013000' },
    status: 'pending',
    receivedCount: 1,
    executedCount: 0,
    receivedAt: '2026-12-05T12:00:00.000Z',
  };
}

describe('PaymentStore', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gl-sandbox-store-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every save asked for during a write with the one write after it, each resolving with its change on disk', async () => {
    const store = await PaymentStore.open(dir);
    const onDisk = () =>
      (JSON.parse(readFileSync(path.join(dir, 'sandbox-payments.json'), 'utf8')) as { payments: PaymentRecord[] })
        .payments.length;

    store.state.payments.set('first', payment('first'));
    const first = store.save();
    // Saves asked for before a write starts share it; once it has started (a microtask
    // later, waiting for the file system from then on) later ones wait for the next.
    await Promise.resolve();
    await Promise.resolve();
    expect(store.writes).toBe(1);
    // 200 orders arrive while the first write is under way, each saving once.
    const later = Array.from({ length: 200 }, (_, index) => {
      store.state.payments.set(`order-${String(index)}`, payment(`order-${String(index)}`));
      return store.save().then(() => onDisk());
    });
    await first;
    const seenByEach = await Promise.all(later);

    expect(store.writes).toBe(2);
    // Each save resolved only once a write holding its own order had reached the disk.
    expect(new Set(seenByEach)).toEqual(new Set([201]));

    // A save after the writes have finished gets a write of its own.
    store.state.payments.set('last', payment('last'));
    await store.save();
    expect([store.writes, onDisk()]).toEqual([3, 202]);

    const reopened = await PaymentStore.open(dir);
    expect(reopened.state.payments.size).toBe(202);
    expect(reopened.state.payments.get('order-7')).toEqual(payment('order-7'));
  });

  it('keeps saving after a failed write: the saves that shared it fail, the next ones succeed', async () => {
    const store = await PaymentStore.open(dir);
    store.state.payments.set('a', payment('a'));
    rmSync(dir, { recursive: true, force: true });
    const failed = await Promise.allSettled([store.save(), store.save()]);
    expect(failed.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    // The directory is back: the next save writes everything held in memory.
    const again = await PaymentStore.open(dir);
    expect(again.state.payments.size).toBe(0);
    await store.save();
    expect((await PaymentStore.open(dir)).state.payments.size).toBe(1);
  });
});
