import { agreementIdSchema } from '@gigledger/chaincode/model';
import type { AgreementEventFeed, AgreementEventMessage } from '../../events/agreement-event-feed.js';
import { resolveWith, type GraphqlContext } from '../../graphql/context.js';
import { parseInput } from '../../http/route.js';
import { overseerRoles, requireOneOfRoles } from '../agreement-gates.js';
import type { AgreementService } from '../agreement-service.js';
import { requesterOf } from './graphql-arguments.js';

/**
 * Live events from the feed that pass `accept`, until the consumer stops. The feed is
 * joined at once rather than on the first pull, so that once the subscription is
 * acknowledged no committed event is missed; stopping leaves the feed at once too,
 * even while no event is arriving.
 */
export function liveAgreementEvents(
  feed: AgreementEventFeed,
  accept: (message: AgreementEventMessage) => boolean,
): AsyncIterableIterator<AgreementEventMessage> {
  const controller = new AbortController();
  const source = feed.subscribe(controller.signal);
  // The generator runs to its first await, attaching its listener, inside this call.
  let first: Promise<IteratorResult<AgreementEventMessage>> | undefined = source.next();
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  return {
    async next() {
      for (;;) {
        const step = await (first ?? source.next());
        first = undefined;
        if (step.done === true) return done;
        if (accept(step.value)) return step;
      }
    },
    return() {
      controller.abort();
      return Promise.resolve(done);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** What a client sees of an event. */
export function agreementEventView(message: AgreementEventMessage) {
  return {
    name: message.name,
    agreementId: message.agreementId,
    transactionId: message.transactionId,
    blockNumber: message.blockNumber,
    actor: message.base.actor,
    settlementRequests: message.base.settlementRequests,
    payload: message.payload,
  };
}

/**
 * `agreementEvents(agreementId)`: allowed when the caller may read that agreement
 * (checked once, at subscription: an agreement's parties never change), and without
 * an agreement only for roles that oversee every agreement.
 */
export function agreementEventSubscription(service: AgreementService, feed: AgreementEventFeed) {
  return {
    subscribe: (_parent: unknown, args: { agreementId?: string | null }, context: GraphqlContext) =>
      resolveWith(context, async () => {
        const as = requesterOf(context, 'agreements:read');
        if (args.agreementId == null) {
          requireOneOfRoles(as.principal, overseerRoles, 'follow the events of every agreement');
          return liveAgreementEvents(feed, () => true);
        }
        const agreementId = parseInput(agreementIdSchema, args.agreementId, 'agreementId');
        await service.getAgreement(as, agreementId);
        return liveAgreementEvents(feed, (message) => message.agreementId === agreementId);
      }),
    resolve: (message: AgreementEventMessage) => agreementEventView(message),
  };
}
