import { agreementIdSchema, governedRoles, type Role } from '@gigledger/chaincode/model';
import { principalStanding } from '../../auth/principal.js';
import { ApiError, unauthenticated } from '../../errors/api-error.js';
import type { AgreementEventFeed, AgreementEventMessage } from '../../events/agreement-event-feed.js';
import { liveEvents, type CallerLapsed, type Lapse } from '../../events/live-events.js';
import { type GraphqlContext, resolverRequester, resolveWith } from '../../graphql/context.js';
import { parseInput } from '../../http/route.js';
import { overseerRoles, requireOneOfRoles } from '../agreement-gates.js';
import type { AgreementService } from '../agreement-service.js';
import type { Requester } from '../../ledger/requester.js';

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
 * Roles whose reach over an agreement can end while they follow it: an auditor's grant is
 * revoked or expires; a governed role (an arbitrator, a settlement identity) loses the
 * governance decision behind it. Everyone else reads an agreement for as long as it
 * exists: its parties, and the organisations they belong to, never change.
 */
const lapsingReach: readonly Role[] = ['auditor', ...governedRoles];

/**
 * Whether the requester may read each agreement an event names, asked of the ledger once
 * per agreement (its parties never change) or, for a role whose reach can lapse, at each
 * event; a failure that is not a refusal is asked again at the agreement's next event,
 * and its event is not delivered meanwhile.
 */
function readableAgreements(
  service: AgreementService,
  as: Requester,
): (message: AgreementEventMessage) => Promise<boolean> {
  const known = new Map<string, boolean>();
  const remember = !lapsingReach.includes(as.principal.role);
  return async (message) => {
    const cached = known.get(message.agreementId);
    if (cached !== undefined) return cached;
    const readable = await service.getAgreement(as, message.agreementId).then(
      () => true,
      (error: unknown) => (error instanceof ApiError && error.status === 404 ? false : undefined),
    );
    if (readable !== undefined && remember) known.set(message.agreementId, readable);
    return readable ?? false;
  };
}

/**
 * `agreementEvents(agreementId)`: allowed when the caller may read that agreement
 * (checked at subscription: an agreement's parties never change; again before every event
 * and at every re-check for a role whose reach can lapse, see {@link lapsingReach}), and without
 * an agreement only for roles that oversee agreements (each receives the events of the
 * agreements it may read, asked of the ledger once each), auditors excepted: an
 * auditor reads only what organisations granted, decided per record, so an auditor
 * follows one agreement at a time (its grant checked as for a read, again before every
 * event and at every re-check, so a revoked or expired grant ends the stream). The
 * caller's credential is re-checked for as long as the stream lasts: when it lapses, the
 * stream's last message is an UNAUTHENTICATED error and the stream completes; when the
 * agreement is no longer the caller's to read (an auditor's grant revoked or lapsed, an
 * arbitrator removed by governance), it
 * is a NOT_FOUND naming `agreementId`, as a read of it would answer.
 */
export function agreementEventSubscription(service: AgreementService, feed: AgreementEventFeed) {
  return {
    subscribe: (_parent: unknown, args: { agreementId?: string | null }, context: GraphqlContext) =>
      resolveWith(context, async () => {
        const as = resolverRequester(context, 'agreements:read');
        const standing = () => principalStanding(as.principal);
        if (args.agreementId == null) {
          requireOneOfRoles(
            as.principal,
            overseerRoles.filter((role) => role !== 'auditor'),
            'follow the events of every agreement (an auditor follows one agreement at a time, under its grant)',
          );
          return liveEvents(feed, readableAgreements(service, as), standing);
        }
        const agreementId = parseInput(agreementIdSchema, args.agreementId, 'agreementId');
        await service.getAgreement(as, agreementId);
        if (!lapsingReach.includes(as.principal.role)) {
          return liveEvents(feed, (message) => message.agreementId === agreementId, standing);
        }
        // An auditor's access is a grant the organisation may revoke or let expire at any
        // time, an arbitrator's or settlement identity's a governance decision the consortium
        // may withdraw: the agreement is read again as the caller before every event and at
        // each re-check.
        const stillReadable = (): Promise<Lapse | undefined> =>
          service.getAgreement(as, agreementId).then(
            () => undefined,
            (error: unknown) => ({
              recordLost: `agreement ${agreementId} is no longer readable by the caller (${error instanceof Error ? error.message : String(error)})`,
            }),
          );
        return liveEvents(
          feed,
          (message) => message.agreementId === agreementId,
          async () => (await standing()) ?? (await stillReadable()),
        );
      }),
    resolve: (message: AgreementEventMessage | CallerLapsed, _args: unknown, context: GraphqlContext) =>
      'lapsed' in message
        ? resolveWith(context, () => {
            // Its credential still stands: signing in again would not help, the record is gone from its view.
            if (message.recordLost === true) {
              throw new ApiError(404, 'NOT_FOUND', `the subscription has ended: ${message.lapsed}`, 'agreementId');
            }
            throw unauthenticated(`the subscription has ended: ${message.lapsed}`);
          })
        : agreementEventView(message),
  };
}
