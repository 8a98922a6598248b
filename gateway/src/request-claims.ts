import { createHash } from 'node:crypto';
import type { SigningIdentity } from './identity.js';

/**
 * Turns with a request id among processes that send as the same callers, e.g. the HTTP
 * workers of one API deployment. Within one process a `ContractClient` joins the same
 * request under way and holds another request under an id in use until the first has
 * settled; a second process knows of neither, so the copy it sends at the same time is
 * ordered and invalidated as an MVCC read conflict. With claims, the second waits for the
 * first's turn to end and then sends: the chaincode answers a repeat from storage (the
 * client then answers with the transaction that acted and orders nothing) and refuses
 * another request under the id (REQUEST_ID_REUSED) at endorsement.
 *
 * A claim only spares invalid transactions; that a request acts once is the chaincode's
 * (`runOnce`). A client whose claim fails sends without one.
 */
export interface RequestClaims {
  /**
   * Resolves once this process may send under `key`, with what ends its turn; the next
   * claim of `key`, from any process, waits until then.
   *
   * @throws Error when the claims cannot be reached (the caller sends unclaimed).
   */
  claim(key: string): Promise<() => void>;
}

/**
 * `claims` for one caller: its keys are the caller's (organisation and certificate, as
 * the chaincode keeps request ids per client identity) before the caller's own key.
 */
export function callerRequestClaims(claims: RequestClaims, identity: SigningIdentity): RequestClaims {
  const caller = createHash('sha256').update(identity.mspId).update('\n').update(identity.certificatePem).digest('hex');
  return { claim: (key) => claims.claim(`${caller} ${key}`) };
}
