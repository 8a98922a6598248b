import { z } from 'zod';
import { chaincodeVersionSchema, iso4217Currencies } from '@gigledger/chaincode/model';
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
    route({
      method: 'get',
      path: '/v1/system/currencies',
      operationId: 'listCurrencies',
      summary:
        'The ISO 4217 currencies the ledger prices work in, each with its minor-unit exponent (decimal places of one major unit): the table every amount in minor units is read against. Clients convert and show amounts with it, not with their own locale data, which disagrees for some currencies (e.g. HUF, IQD)',
      tag: 'system',
      access: 'public',
      response: z.array(z.object({ code: z.string(), minorUnitExponent: z.number().int() })),
      handler: () =>
        Promise.resolve(
          Object.entries(iso4217Currencies).map(([code, minorUnitExponent]) => ({ code, minorUnitExponent })),
        ),
    }),
  ];
}
