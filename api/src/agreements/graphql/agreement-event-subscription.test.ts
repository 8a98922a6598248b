import { AgreementEventFeed } from '../../events/agreement-event-feed.js';
import { liveEvents } from '../../events/live-events.js';

const event = (agreementId: string, blockNumber: bigint) => ({
  name: 'agreement.AgreementAccepted',
  transactionId: `tx-${blockNumber.toString()}`,
  blockNumber,
  payload: {
    agreementId,
    at: '2026-01-05T09:00:00.000Z',
    txId: 'tx',
    actor: { mspId: 'TalentOrgMSP' },
    settlementRequests: [],
  },
});

describe('liveEvents', () => {
  it('receives events published after it was created, before anything pulled, and skips the rejected ones', async () => {
    const feed = new AgreementEventFeed();
    const stream = liveEvents(feed, (message) => message.agreementId === 'A-1');
    feed.publish(event('A-2', 1n));
    feed.publish(event('A-1', 2n));
    const first = await stream.next();
    expect(first.done).toBe(false);
    expect(first.value).toMatchObject({ agreementId: 'A-1', blockNumber: '2' });
    await stream.return?.();
  });

  it('ends a pull that is waiting for an event as soon as the consumer stops', async () => {
    const feed = new AgreementEventFeed();
    const stream = liveEvents(feed, () => true);
    const waiting = stream.next();
    await stream.return?.();
    await expect(waiting).resolves.toEqual({ done: true, value: undefined });
    feed.publish(event('A-1', 3n));
    await expect(stream.next()).resolves.toEqual({ done: true, value: undefined });
  });
});
