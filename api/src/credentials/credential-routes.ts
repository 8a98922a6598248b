import { z } from 'zod';
import {
  canonicalInput,
  credentialIdSchema,
  credentialRecordSchema,
  credentialSecretsResultSchema,
  issuerDetailsSchema,
  issuerRecordSchema,
  partySchema,
  presentationVerdictSchema,
  reasonSchema,
  saltedClaimSchema,
  verifyPresentationRequestSchema,
} from '@gigledger/chaincode/model';
import { route, type RouteSpec } from '../http/route.js';
import {
  CredentialService,
  credentialListQuerySchema,
  documentVerdictSchema,
  issueCredentialBodySchema,
  issuedCredentialSchema,
  issuerFilterSchema,
  presentationBodySchema,
  registerIssuerBodySchema,
  removeIssuerBodySchema,
  type CredentialDependencies,
  type StatusAction,
} from './credential-service.js';
import { transactionRefSchema } from './ledger-results.js';
import { callerOf } from './route-caller.js';
import { verifiableCredentialSchema } from './w3c-credential.js';

const credentialParams = z.strictObject({ credentialId: credentialIdSchema });
const issuerChange = z.object({ issuer: issuerRecordSchema, transaction: transactionRefSchema });
const credentialChange = z.object({ credential: credentialRecordSchema, transaction: transactionRefSchema });

const statusRoutes: readonly { action: StatusAction; operationId: string; summary: string }[] = [
  {
    action: 'suspend',
    operationId: 'suspendCredential',
    summary: 'The issuer suspends a credential with a reason; verification reports SUSPENDED at once',
  },
  {
    action: 'reinstate',
    operationId: 'reinstateCredential',
    summary: 'The issuer, while still active, lifts a suspension with a reason',
  },
  {
    action: 'revoke',
    operationId: 'revokeCredential',
    summary: 'The issuer revokes a credential for good with a reason; verification reports REVOKED at once',
  },
];

/**
 * Issuer administration, issuance, selective disclosure, status changes, W3C export and
 * verification. Verification is public: a verifier needs no account.
 */
export function credentialRoutes(deps: CredentialDependencies): RouteSpec[] {
  const service = new CredentialService(deps);
  return [
    route({
      method: 'put',
      path: '/v1/admin/issuers/:mspId/:userId',
      operationId: 'putIssuer',
      summary: 'Register an issuer, or replace the credential types it may issue (each change is a new version)',
      tag: 'issuers',
      access: 'admin',
      params: partySchema,
      body: canonicalInput(registerIssuerBodySchema),
      response: issuerChange,
      errors: [409],
      handler: ({ principal, log, params, body }) => service.registerIssuer(callerOf(principal), log, params, body),
    }),
    route({
      method: 'post',
      path: '/v1/admin/issuers/:mspId/:userId/removal',
      operationId: 'removeIssuer',
      summary: 'Remove an issuer with a reason; what it issued before stays valid',
      tag: 'issuers',
      access: 'admin',
      params: partySchema,
      body: canonicalInput(removeIssuerBodySchema),
      response: issuerChange,
      errors: [404, 409],
      handler: ({ principal, log, params, body }) =>
        service.removeIssuer(callerOf(principal), log, params, body.reason),
    }),
    route({
      method: 'get',
      path: '/v1/issuers',
      operationId: 'listIssuers',
      summary: 'Issuer records, optionally by status or by a type their current grant includes',
      tag: 'issuers',
      access: 'credentials:read',
      query: issuerFilterSchema,
      response: z.array(issuerRecordSchema),
      handler: ({ principal, log, query }) => service.listIssuers(callerOf(principal), log, query),
    }),
    route({
      method: 'get',
      path: '/v1/issuers/:mspId/:userId',
      operationId: 'getIssuer',
      summary: 'An issuer record and every version of its grant',
      tag: 'issuers',
      access: 'credentials:read',
      params: partySchema,
      response: issuerDetailsSchema,
      errors: [404],
      handler: ({ principal, log, params }) => service.getIssuer(callerOf(principal), log, params),
    }),
    route({
      method: 'post',
      path: '/v1/credentials',
      operationId: 'issueCredential',
      summary:
        'An issuer issues a credential; the API salts each claim and returns the claims with their salts this once',
      tag: 'credentials',
      access: 'credentials:write',
      body: canonicalInput(issueCredentialBodySchema),
      response: issuedCredentialSchema,
      status: 201,
      errors: [409],
      handler: ({ principal, log, body }) => service.issue(callerOf(principal), log, body),
    }),
    route({
      method: 'get',
      path: '/v1/credentials',
      operationId: 'listOwnCredentials',
      summary: 'Credentials the caller holds, or with as=issuer, issued',
      tag: 'credentials',
      access: 'credentials:read',
      query: credentialListQuerySchema,
      response: z.array(credentialRecordSchema),
      handler: ({ principal, log, query }) => service.listOwn(callerOf(principal), log, query),
    }),
    route({
      method: 'get',
      path: '/v1/credentials/:credentialId',
      operationId: 'getCredential',
      summary: 'A credential record (claim commitments, never values), for its subject, its issuer, hr and auditors',
      tag: 'credentials',
      access: 'credentials:read',
      params: credentialParams,
      response: credentialRecordSchema,
      errors: [404],
      handler: ({ principal, log, params }) => service.getCredential(callerOf(principal), log, params.credentialId),
    }),
    route({
      method: 'get',
      path: '/v1/credentials/:credentialId/claims',
      operationId: 'getCredentialClaims',
      summary: 'The claims with their salts, for the subject only',
      tag: 'credentials',
      access: 'credentials:read',
      params: credentialParams,
      response: credentialSecretsResultSchema,
      errors: [404],
      handler: ({ principal, log, params }) => service.getClaims(callerOf(principal), log, params.credentialId),
    }),
    route({
      method: 'post',
      path: '/v1/credentials/:credentialId/presentations',
      operationId: 'createPresentation',
      summary:
        'The subject discloses some claims: a presentation for POST /v1/credentials/verify and the same as a W3C document',
      tag: 'credentials',
      access: 'credentials:read',
      params: credentialParams,
      body: canonicalInput(presentationBodySchema),
      response: z.object({
        presentation: z.object({ credentialId: z.string(), revealedClaims: z.array(saltedClaimSchema) }),
        undisclosedClaims: z.array(z.string()),
        verifiableCredential: verifiableCredentialSchema,
      }),
      errors: [404, 503],
      handler: ({ principal, log, params, body }) =>
        service.present(callerOf(principal), log, params.credentialId, body.reveal),
    }),
    route({
      method: 'get',
      path: '/v1/credentials/:credentialId/vc',
      operationId: 'exportCredential',
      summary: 'The credential as a W3C Verifiable Credentials 2.0 document with its claim commitments',
      tag: 'credentials',
      access: 'credentials:read',
      params: credentialParams,
      response: verifiableCredentialSchema,
      errors: [404, 503],
      handler: ({ principal, log, params }) => service.exportCredential(callerOf(principal), log, params.credentialId),
    }),
    ...statusRoutes.map((spec) =>
      route({
        method: 'post',
        path: `/v1/credentials/:credentialId/${spec.action}`,
        operationId: spec.operationId,
        summary: spec.summary,
        tag: 'credentials',
        access: 'credentials:write',
        params: credentialParams,
        body: canonicalInput(z.strictObject({ reason: reasonSchema })),
        response: credentialChange,
        errors: [404, 409],
        handler: ({ principal, log, params, body }) =>
          service.changeStatus(callerOf(principal), log, spec.action, params.credentialId, body.reason),
      }),
    ),
    route({
      method: 'post',
      path: '/v1/credentials/verify',
      operationId: 'verifyPresentation',
      summary:
        'Check a presentation against the ledger: a verdict with a reason code for each failure; no account needed',
      tag: 'credentials',
      access: 'public',
      body: canonicalInput(verifyPresentationRequestSchema),
      response: presentationVerdictSchema,
      errors: [503],
      handler: ({ principal, log, body }) => service.verify(principal, log, body),
    }),
    route({
      method: 'post',
      path: '/v1/credentials/vc/verify',
      operationId: 'verifyCredentialDocument',
      summary: 'Check an exported W3C document (with any revealed claims) against the ledger record; no account needed',
      tag: 'credentials',
      access: 'public',
      body: canonicalInput(verifiableCredentialSchema),
      response: documentVerdictSchema,
      errors: [503],
      handler: ({ principal, log, body }) => service.verifyDocument(principal, log, body),
    }),
  ];
}
