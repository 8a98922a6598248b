import type { LedgerEvent } from '@gigledger/gateway';
import type { ClusterMessage } from '../cluster/cluster-messages.js';
import { followPrimaryEvents } from '../cluster/worker-sharing.js';
import { AgreementEventFeed, type AgreementEventMessage } from './agreement-event-feed.js';

let published = 0;
function agreementEvent(agreementId: string): LedgerEvent {
  published += 1;
  return {
    name: 'agreement.AgreementAccepted',
    transactionId: `tx-feed-${String(published)}`,
    blockNumber: BigInt(published),
    payload: {
      agreementId,
      at: '2026-12-07T08:00:00.000Z',
      txId: `tx-feed-${String(published)}`,
      actor: { mspId: 'ClientOrgMSP', userId: 'someone', role: 'client' },
      settlementRequests: [],
    },
  };
}

/** A payload that throws when read: publishing it must not look inside. */
function unreadableEvent(name: string): LedgerEvent {
  const payload = new Proxy(
    {},
    {
      get() {
        throw new Error('the payload was read');
      },
      ownKeys() {
        throw new Error('the payload was read');
      },
    },
  );
  return { name, transactionId: 'tx-unread', blockNumber: 1n, payload };
}

describe('AgreementEventFeed demand', () => {
  it('says when its first subscriber of either topic joins and when its last leaves, once each', async () => {
    const feed = new AgreementEventFeed();
    const demand: boolean[] = [];
    feed.onDemandChange((wanted) => demand.push(wanted));

    const agreements = new AbortController();
    const governance = new AbortController();
    const agreementStream = feed.subscribe(agreements.signal);
    const governanceStream = feed.governance.subscribe(governance.signal);
    const nextAgreement = agreementStream.next();
    const nextGovernance = governanceStream.next();
    await Promise.resolve();
    expect(demand).toEqual([true]);

    feed.publish(agreementEvent('A-feed-1'));
    expect(((await nextAgreement).value as AgreementEventMessage).agreementId).toBe('A-feed-1');

    agreements.abort();
    expect((await agreementStream.next()).done).toBe(true);
    expect(demand).toEqual([true]);
    governance.abort();
    expect((await nextGovernance).done).toBe(true);
    expect(demand).toEqual([true, false]);

    // A later subscriber makes it wanted again.
    const again = new AbortController();
    const stream = feed.subscribe(again.signal);
    const next = stream.next();
    await Promise.resolve();
    expect(demand).toEqual([true, false, true]);
    again.abort();
    expect((await next).done).toBe(true);
    expect(demand).toEqual([true, false, true, false]);
  });

  it('drops an event of a topic nobody subscribes to without reading its payload', () => {
    const feed = new AgreementEventFeed();
    expect(() => {
      feed.publish(unreadableEvent('agreement.AgreementAccepted'));
      feed.publish(unreadableEvent('governance.ProposalSubmitted'));
    }).not.toThrow();
  });
});

describe('followPrimaryEvents (an HTTP worker of the cluster)', () => {
  it('asks the primary for committed events only while the worker has subscribers, and publishes what the primary sends to them', async () => {
    const sent: ClusterMessage[] = [];
    let deliver: ((message: ClusterMessage) => void) | undefined;
    const link = {
      send: (message: ClusterMessage) => {
        sent.push(message);
      },
      on: (kind: string, handler: (message: never) => void) => {
        if (kind === 'ledger-event') deliver = handler as (message: ClusterMessage) => void;
      },
    };
    const feed = new AgreementEventFeed();
    followPrimaryEvents(feed, link);
    expect(sent).toEqual([]);

    const first = new AbortController();
    const second = new AbortController();
    const firstStream = feed.subscribe(first.signal);
    const secondStream = feed.subscribe(second.signal);
    const firstNext = firstStream.next();
    const secondNext = secondStream.next();
    await Promise.resolve();
    expect(sent).toEqual([{ gigledger: 'ledger-events-wanted', wanted: true }]);

    deliver?.({ gigledger: 'ledger-event', event: agreementEvent('A-feed-2') });
    expect(((await firstNext).value as AgreementEventMessage).agreementId).toBe('A-feed-2');
    expect(((await secondNext).value as AgreementEventMessage).agreementId).toBe('A-feed-2');

    first.abort();
    expect((await firstStream.next()).done).toBe(true);
    expect(sent).toHaveLength(1);
    second.abort();
    expect((await secondStream.next()).done).toBe(true);
    expect(sent).toEqual([
      { gigledger: 'ledger-events-wanted', wanted: true },
      { gigledger: 'ledger-events-wanted', wanted: false },
    ]);
  });
});
