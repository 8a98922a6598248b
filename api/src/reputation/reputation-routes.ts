import { canonicalInput, partySchema, reputationSchema } from '@gigledger/chaincode/model';
import { route, type RouteSpec } from '../http/route.js';
import { callerOf } from '../credentials/route-caller.js';
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
      access: 'reputation:write',
      body: canonicalInput(completionBodySchema),
      response: recordedCompletionSchema,
      status: 201,
      errors: [404, 409],
      handler: ({ principal, log, body }) => service.recordCompletion(callerOf(principal), log, body),
    }),
    route({
      method: 'post',
      path: '/v1/reputation/attestations',
      operationId: 'attestSkill',
      summary: "A freelancer vouches for another's skill on work they shared for the same client",
      tag: 'reputation',
      access: 'reputation:write',
      body: canonicalInput(attestationBodySchema),
      response: recordedAttestationSchema,
      status: 201,
      errors: [404, 409],
      handler: ({ principal, log, body }) => service.attest(callerOf(principal), log, body),
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
      handler: ({ principal, log, params }) => service.reputationOf(callerOf(principal), log, params),
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
      handler: ({ principal, log }) => service.exportStatement(callerOf(principal), log),
    }),
  ];
}
