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
  saltedClaimSchema,
  verifyPresentationRequestSchema,
} from '@gigledger/chaincode/model';
import { routeRequester } from '../http/route-requester.js';
import { route, type RouteSpec } from '../http/route.js';
import { committedSchema } from '../ledger/committed.js';
import {
  CredentialService,
  credentialListQuerySchema,
  documentVerdictSchema,
  issueCredentialBodySchema,
  issuedCredentialCommandSchema,
  issuerFilterSchema,
  presentationBodySchema,
  registerIssuerBodySchema,
  removeIssuerBodySchema,
  statusChangeBodySchema,
  type CredentialDependencies,
  type StatusAction,
} from './credential-service.js';
import { importedCredentialSchema, verifiableCredentialSchema } from './w3c-credential.js';
import { answerWithPage, nextPageLinkHeader } from '../http/ledger-pages.js';

const credentialParams = z.strictObject({ credentialId: credentialIdSchema });
const issuerChange = committedSchema(issuerRecordSchema);
const credentialChange = committedSchema(credentialRecordSchema);

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
      summary:
        'Genesis only: register an issuer, or replace the credential types it may issue (each change is a new version). Once genesis is sealed this answers 403 GOVERNANCE_REQUIRED: propose a registerIssuer action instead',
      tag: 'issuers',
      command: true,
      access: 'admin',
      personOnly: 'register an issuer',
      params: partySchema,
      body: canonicalInput(registerIssuerBodySchema),
      response: issuerChange,
      errors: [409],
      handler: ({ params, body, ...caller }) => service.registerIssuer(routeRequester(caller), params, body),
    }),
    route({
      method: 'post',
      path: '/v1/admin/issuers/:mspId/:userId/removal',
      operationId: 'removeIssuer',
      summary:
        'Genesis only: remove an issuer with a reason; what it issued before stays valid. Once genesis is sealed this answers 403 GOVERNANCE_REQUIRED: propose a removeIssuer action instead',
      tag: 'issuers',
      access: 'admin',
      command: true,
      params: partySchema,
      body: canonicalInput(removeIssuerBodySchema),
      response: issuerChange,
      errors: [404, 409],
      handler: ({ params, body, ...caller }) => service.removeIssuer(routeRequester(caller), params, body),
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
      handler: ({ query, ...caller }) => service.listIssuers(routeRequester(caller), query),
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
      handler: ({ params, ...caller }) => service.getIssuer(routeRequester(caller), params),
    }),
    route({
      method: 'post',
      path: '/v1/credentials',
      operationId: 'issueCredential',
      summary:
        'An issuer issues a credential; the API salts each claim and returns the claims with their salts this once',
      tag: 'credentials',
      command: true,
      access: 'credentials:write',
      body: canonicalInput(issueCredentialBodySchema),
      response: issuedCredentialCommandSchema,
      status: 201,
      errors: [409],
      handler: ({ body, ...caller }) => service.issue(routeRequester(caller), body),
    }),
    route({
      method: 'get',
      path: '/v1/credentials',
      operationId: 'listOwnCredentials',
      summary: 'Credentials the caller holds, or with as=issuer, issued, one page at a time',
      tag: 'credentials',
      access: 'credentials:read',
      query: credentialListQuerySchema,
      response: z.array(credentialRecordSchema),
      responseHeaders: [nextPageLinkHeader],
      handler: async ({ query, setHeader, ...caller }) =>
        answerWithPage(await service.listOwn(routeRequester(caller), query), {
          path: '/v1/credentials',
          query,
          setHeader,
        }),
    }),
    route({
      method: 'get',
      path: '/v1/credentials/:credentialId',
      operationId: 'getCredential',
      summary:
        "A credential record (claim commitments, never values), for its subject, its issuer, hr, auditors and its subject's or issuer's admins",
      tag: 'credentials',
      access: 'credentials:read',
      params: credentialParams,
      response: credentialRecordSchema,
      errors: [404],
      handler: ({ params, ...caller }) => service.getCredential(routeRequester(caller), params.credentialId),
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
      // 403 for a reader who is not its subject (its issuer, an overseer), with the reason.
      errors: [403, 404],
      handler: ({ params, ...caller }) => service.getClaims(routeRequester(caller), params.credentialId),
    }),
    route({
      method: 'post',
      path: '/v1/credentials/:credentialId/presentations',
      operationId: 'createPresentation',
      reads: true,
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
      errors: [403, 404, 503],
      handler: ({ params, body, ...caller }) =>
        service.present(routeRequester(caller), params.credentialId, body.reveal),
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
      handler: ({ params, ...caller }) => service.exportCredential(routeRequester(caller), params.credentialId),
    }),
    ...statusRoutes.map((spec) =>
      route({
        method: 'post',
        path: `/v1/credentials/:credentialId/${spec.action}`,
        operationId: spec.operationId,
        summary: spec.summary,
        tag: 'credentials',
        access: 'credentials:write',
        command: true,
        params: credentialParams,
        body: canonicalInput(statusChangeBodySchema),
        response: credentialChange,
        errors: [404, 409],
        handler: ({ params, body, ...caller }) =>
          service.changeStatus(routeRequester(caller), spec.action, params.credentialId, body),
      }),
    ),
    route({
      method: 'post',
      path: '/v1/credentials/verify',
      operationId: 'verifyPresentation',
      reads: true,
      verbatimText: true,
      summary:
        'Check a presentation against the ledger: a verdict with a reason code for each failure; no account needed',
      tag: 'credentials',
      access: 'public',
      body: canonicalInput(verifyPresentationRequestSchema),
      response: presentationVerdictSchema,
      errors: [503],
      handler: ({ body, ...caller }) => service.verify(caller, body),
    }),
    route({
      method: 'post',
      path: '/v1/credentials/vc/verify',
      operationId: 'verifyCredentialDocument',
      reads: true,
      verbatimText: true,
      summary: 'Check an exported W3C document (with any revealed claims) against the ledger record; no account needed',
      tag: 'credentials',
      access: 'public',
      body: canonicalInput(importedCredentialSchema),
      response: documentVerdictSchema,
      errors: [503],
      handler: ({ body, ...caller }) => service.verifyDocument(caller, body),
    }),
  ];
}
