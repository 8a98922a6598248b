import { chaincodeVersionSchema } from '@gigledger/chaincode/model';
import type { LedgerClient } from '@gigledger/gateway';
import { route, type RouteSpec } from '../http/route.js';

/** Facts about the deployment anyone may read. */
export function systemRoutes(deps: { serviceLedger: LedgerClient }): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/v1/system/version',
      operationId: 'getVersion',
      summary: 'The chaincode version and package id, read through the ledger',
      tag: 'system',
      access: 'public',
      response: chaincodeVersionSchema,
      errors: [503],
      handler: () => deps.serviceLedger.system.version(),
    }),
  ];
}
