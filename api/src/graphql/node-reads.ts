import pLimit, { type LimitFunction } from 'p-limit';
import type { GraphqlContext, HttpRequestShare } from './context.js';

/**
 * How many ledger reads one GraphQL request (every operation of a batch together) runs at
 * once for the nodes of its lists: an agreement's view, a credential's verification, a
 * match's reputation. Each is one evaluation on a peer; a list of hundreds of nodes would
 * otherwise start them all at once and take the process's whole Gateway allowance
 * (`defaultGatewayCallsInFlight`) from every other caller.
 */
export const nodeReadsPerRequest = 8;

const readersOfRequest = new WeakMap<HttpRequestShare, LimitFunction>();

/**
 * Runs `read` once fewer than {@link nodeReadsPerRequest} node reads of the same HTTP
 * request are running. `read` must not wait for another node read of its request, which
 * could wait for a slot it holds.
 */
export function readForNode<Value>(context: GraphqlContext, read: () => Promise<Value>): Promise<Value> {
  let readers = readersOfRequest.get(context.httpRequest);
  if (readers === undefined) {
    readers = pLimit(nodeReadsPerRequest);
    readersOfRequest.set(context.httpRequest, readers);
  }
  return readers(read);
}
