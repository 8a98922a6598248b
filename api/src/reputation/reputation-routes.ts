import { z } from 'zod';
import { canonicalInput, partySchema, reputationSchema } from '@gigledger/chaincode/model';
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
import { reputationStatementSchema, statementFailureCodes } from './statement.js';

const statementVerdictSchema = z.object({
  valid: z.boolean(),
  reasons: z.array(
    z.object({ code: z.enum(statementFailureCodes), message: z.string(), field: z.string().optional() }),
  ),
  statement: z
    .object({
      statementId: z.string(),
      subject: z.object({ mspId: z.string(), userId: z.string() }),
      score: z.number(),
      formula: z.string(),
      asOf: z.string(),
      issuedAt: z.string(),
      blockHeight: z.string(),
      records: z.number().int(),
    })
    .optional(),
  signer: z.object({ mspId: z.string(), certificateSubject: z.string(), certificateIssuer: z.string() }).optional(),
});

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
      command: true,
      access: 'reputation:write',
      body: canonicalInput(completionBodySchema),
      response: recordedCompletionSchema,
      status: 201,
      errors: [404, 409],
      handler: ({ body, ...caller }) => service.recordCompletion(routeRequester(caller), body),
    }),
    route({
      method: 'post',
      path: '/v1/reputation/attestations',
      operationId: 'attestSkill',
      summary: "A freelancer vouches for another's skill on work they shared for the same client",
      tag: 'reputation',
      command: true,
      access: 'reputation:write',
      body: canonicalInput(attestationBodySchema),
      response: recordedAttestationSchema,
      status: 201,
      errors: [404, 409],
      handler: ({ body, ...caller }) => service.attest(routeRequester(caller), body),
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
      reads: true,
      summary:
        "A freelancer's own reputation, signed by this server's organisation, for verifiers outside the consortium",
      tag: 'reputation',
      access: 'reputation:read',
      response: reputationStatementSchema,
      status: 201,
      errors: [503],
      handler: (caller) => service.exportStatement(routeRequester(caller)),
    }),
    route({
      method: 'post',
      path: '/v1/reputation/statements/verification',
      operationId: 'verifyReputationStatement',
      reads: true,
      verbatimText: true,
      summary:
        'Check a portable reputation statement against the CA of the organisation that signed it; no account needed',
      tag: 'reputation',
      access: 'public',
      body: reputationStatementSchema,
      response: statementVerdictSchema,
      errors: [503],
      // The bytes as sent: a key the schema would drop still breaks the signature.
      handler: ({ rawBody }) => {
        const verdict = service.verifyStatement(JSON.parse(rawBody?.toString('utf8') ?? 'null') as unknown);
        return Promise.resolve({ ...verdict, reasons: [...verdict.reasons] });
      },
    }),
  ];
}
