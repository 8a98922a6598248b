import pLimit, { type LimitFunction } from 'p-limit';
import { ApiError } from '../errors/api-error.js';
import type { GraphqlContext, HttpRequestShare } from './context.js';
import { ledgerRecordsPerRequest } from './ledger-list-fields.js';

/**
 * How many ledger reads one GraphQL request (every operation of a batch together) runs at
 * once for the nodes of its lists: an agreement's view, a credential's verification, a
 * match's reputation, and each page an HR search (`freelancersByCredential`) reads. Each is one evaluation on a peer; a list of hundreds of nodes would
 * otherwise start them all at once and take the process's whole Gateway allowance
 * (`defaultGatewayCallsInFlight`) from every other caller.
 */
export const nodeReadsPerRequest = 8;

/**
 * How many such reads one GraphQL request may run in all: as many as the records its
 * lists may ask for. The lists' bound counts their nodes, not what each node reads: a
 * search's `limit` counts people, and each person's every credential is verified.
 */
export const nodeReadsPerRequestInAll = ledgerRecordsPerRequest;

const readersOfRequest = new WeakMap<HttpRequestShare, LimitFunction>();

/**
 * Runs `read` once fewer than {@link nodeReadsPerRequest} node reads of the same HTTP
 * request are running. `read` must not wait for another node read of its request, which
 * could wait for a slot it holds.
 *
 * @param field the field whose value `read` gives, named in a refusal.
 * @param fewer what the client can ask for less of, for the refusal's advice.
 * @throws ApiError 422 naming `field` (as a rejection) past {@link nodeReadsPerRequestInAll} reads.
 */
export async function readForNode<Value>(
  context: GraphqlContext,
  field: string,
  fewer: string,
  read: () => Promise<Value>,
): Promise<Value> {
  const share = context.httpRequest;
  if (share.nodeReads >= nodeReadsPerRequestInAll) {
    throw new ApiError(
      422,
      'VALIDATION_FAILED',
      `${field}: one request may read ${String(nodeReadsPerRequestInAll)} records from the ledger for the nodes of its lists; this one asks for more: ask for ${fewer}, or leave ${field} out`,
      field,
    );
  }
  share.nodeReads += 1;
  let readers = readersOfRequest.get(share);
  if (readers === undefined) {
    readers = pLimit(nodeReadsPerRequest);
    readersOfRequest.set(share, readers);
  }
  return readers(read);
}
