import { canonicalInput, partySchema, reputationSchema } from '@gigledger/chaincode/model';
import { idempotencyKeyHeader, withRequestId } from '../http/request-ids.js';
import { routeRequester } from '../http/route-requester.js';
import { route, type RouteSpec } from '../http/route.js';
import {
  attestationBodySchema,
  completionBodySchema,
  recordedAttestationSchema,
  recordedCompletionSchema,
  ReputationService,
  type ReputationDependencies,
} from './reputation-service.js';
import { reputationStatementSchema } from './statement.js';

/** Ratings, attestations, scores and portable signed statements. */
export function reputationRoutes(deps: ReputationDependencies): RouteSpec[] {
  const service = new ReputationService(deps);
  return [
    route({
      method: 'post',
      path: '/v1/reputation/completions',
      operationId: 'recordCompletion',
      summary: "The agreement's client rates a finished milestone from 1 to 5",
      tag: 'reputation',
      headers: [idempotencyKeyHeader],
      access: 'reputation:write',
      body: canonicalInput(completionBodySchema),
      response: recordedCompletionSchema,
      status: 201,
      errors: [404, 409],
      handler: ({ body, header, ...caller }) =>
        service.recordCompletion(routeRequester(caller), withRequestId(body, header('idempotency-key'))),
    }),
    route({
      method: 'post',
      path: '/v1/reputation/attestations',
      operationId: 'attestSkill',
      summary: "A freelancer vouches for another's skill on work they shared for the same client",
      tag: 'reputation',
      headers: [idempotencyKeyHeader],
      access: 'reputation:write',
      body: canonicalInput(attestationBodySchema),
      response: recordedAttestationSchema,
      status: 201,
      errors: [404, 409],
      handler: ({ body, header, ...caller }) =>
        service.attest(routeRequester(caller), withRequestId(body, header('idempotency-key'))),
    }),
    route({
      method: 'get',
      path: '/v1/reputation/:mspId/:userId',
      operationId: 'getReputation',
      summary: 'A score with its components, its formula and every record it rests on',
      tag: 'reputation',
      access: 'reputation:read',
      params: partySchema,
      response: reputationSchema,
      handler: ({ params, ...caller }) => service.reputationOf(routeRequester(caller), params),
    }),
    route({
      method: 'post',
      path: '/v1/reputation/statements',
      operationId: 'exportReputationStatement',
      summary:
        "A freelancer's own reputation, signed by this server's organisation, for verifiers outside the consortium",
      tag: 'reputation',
      access: 'reputation:read',
      response: reputationStatementSchema,
      status: 201,
      errors: [503],
      handler: (caller) => service.exportStatement(routeRequester(caller)),
    }),
  ];
}
