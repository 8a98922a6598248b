import type { CredentialSubject, CredentialThrottle } from '../auth/credential-throttle.js';
import type { AgreementEventFeed } from '../events/agreement-event-feed.js';
import type { PrimaryLink } from './primary-link.js';

/**
 * Makes the workers' failed-credential counts one count: every failure or success a
 * worker records is replayed in every other worker (relayed by the primary), so each
 * worker's throttle holds the whole cluster's failures and N workers are not N times
 * more permissive. The throttle's checks stay synchronous and local; the replay lags by
 * one IPC hop (well under a millisecond on one host), so guesses racing each other
 * through different workers within that hop may each be examined, no more. The policy
 * (windows, limits) stays the throttle's own: only where its counts come from changes.
 */
export function shareCredentialThrottle(throttle: CredentialThrottle, link: PrimaryLink): void {
  const recordFailure = throttle.recordFailure.bind(throttle);
  const recordSuccess = throttle.recordSuccess.bind(throttle);
  const publish = (change: 'failure' | 'success', subject: CredentialSubject): void => {
    link.send({
      gigledger: 'throttle',
      change,
      subject: { address: subject.address, account: subject.account, credential: subject.credential },
    });
  };
  throttle.recordFailure = async (subject) => {
    publish('failure', subject);
    await recordFailure(subject);
  };
  throttle.recordSuccess = async (subject) => {
    publish('success', subject);
    await recordSuccess(subject);
  };
  link.on('throttle', (message) => {
    // Counting in memory does not fail; a replay that did would only leave this worker's count one short.
    void (message.change === 'failure' ? recordFailure(message.subject) : recordSuccess(message.subject));
  });
}

/**
 * Publishes the committed events the primary's one chaincode event follower reads to this
 * worker's subscribers, asking the primary for them only while this worker has any (every
 * committed transaction has an event; a worker nobody subscribes through need not receive,
 * decode and drop each one). A subscriber joining reaches the primary over the IPC channel
 * long before a command it then sends can commit.
 */
export function followPrimaryEvents(events: AgreementEventFeed, link: Pick<PrimaryLink, 'on' | 'send'>): void {
  link.on('ledger-event', (message) => {
    events.publish(message.event);
  });
  events.onDemandChange((wanted) => {
    link.send({ gigledger: 'ledger-events-wanted', wanted });
  });
}
