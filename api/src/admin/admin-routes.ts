import { z } from 'zod';
import { roles, type Role } from '@gigledger/chaincode/model';
import { routeRequester } from '../http/route-requester.js';
import { route, type RouteSpec } from '../http/route.js';
import { answerWithPage, ledgerPageQuerySchema, nextPageLinkHeader, readLedgerPage } from '../http/ledger-pages.js';
import {
  apiKeyViewSchema as apiKeySchema,
  createApiKeySchema,
  createPersonSchema,
  personViewSchema as personSchema,
  type AccountService,
} from '../auth/account-service.js';
import type { Principal } from '../auth/principal.js';
import { requirePersonFor } from '../auth/person-only.js';
import { ApiError } from '../errors/api-error.js';

/**
 * @throws ApiError 403 FORBIDDEN (field `org`) when `org` is not the administrator's own organisation.
 */
function requireOwnOrganisation(admin: Principal, org: string): void {
  if (org !== admin.org) {
    throw new ApiError(
      403,
      'FORBIDDEN',
      `an administrator of ${admin.org} manages only its own organisation's people and keys, not ${org}'s`,
      'org',
    );
  }
}

/**
 * Roles that act for the organisation towards the rest of the consortium, or over other
 * people's work and money: administering accounts, voting on the consortium's rules,
 * reading across organisations as an auditor, moving money, deciding disputes and
 * vouching for skills. Only a person grants them.
 */
const rolesOnlyAPersonGrants: ReadonlySet<Role> = new Set<Role>([
  'admin',
  'governor',
  'auditor',
  'settlement',
  'arbitrator',
  'issuer',
]);

/**
 * An administrator's API key may provision people and keys of the everyday roles (client,
 * freelancer, evaluator, HR: what an HR system's provisioning needs), but none of
 * {@link rolesOnlyAPersonGrants}, so that a leaked key cannot outlive its revocation as
 * privileged people or keys it made for itself.
 *
 * @throws ApiError 403 FORBIDDEN (field `role`) when a service account asks for such a role.
 */
function requirePersonToGrantPrivilegedRole(admin: Principal, role: Role): void {
  if (!rolesOnlyAPersonGrants.has(role)) return;
  const everyday = [...roles].filter((candidate) => !rolesOnlyAPersonGrants.has(candidate));
  requirePersonFor(admin, `grant the role ${role} (an API key may grant ${everyday.join(', ')})`, 'role');
}

/**
 * People and service accounts, managed by administrators, each only within its own
 * organisation: an administrator of one organisation neither creates, lists nor revokes
 * accounts of another (whose keys look as if they did not exist).
 */
const usersPath = '/v1/admin/users';
const apiKeysPath = '/v1/admin/api-keys';

export function adminRoutes(deps: { accounts: AccountService }): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: usersPath,
      operationId: 'createUser',
      summary: "Enroll a person in the administrator's own organisation's CA with a role, and let them log in",
      tag: 'admin',
      access: 'admin',
      body: createPersonSchema,
      response: personSchema,
      status: 201,
      errors: [409],
      handler: ({ body, ...caller }) => {
        const admin = routeRequester(caller).principal;
        requireOwnOrganisation(admin, body.org);
        requirePersonToGrantPrivilegedRole(admin, body.role);
        return deps.accounts.createPerson(body);
      },
    }),
    route({
      method: 'get',
      path: usersPath,
      operationId: 'listUsers',
      summary: "The people of the administrator's organisation in user id order, one page at a time",
      tag: 'admin',
      access: 'admin',
      query: ledgerPageQuerySchema,
      response: z.array(personSchema),
      responseHeaders: [nextPageLinkHeader],
      handler: async ({ query, setHeader, ...caller }) => {
        const org = routeRequester(caller).principal.org;
        const page = await readLedgerPage(query, 'query.after', (paging) => deps.accounts.listPeople(org, paging));
        return answerWithPage(page, { path: usersPath, query, setHeader });
      },
    }),
    route({
      method: 'post',
      path: apiKeysPath,
      operationId: 'createApiKey',
      summary:
        "Create a service account (e.g. an HR system) of the administrator's organisation with its own Fabric identity (userId svc.<name>); the key is shown once",
      tag: 'admin',
      access: 'admin',
      body: createApiKeySchema,
      response: z.object({
        key: z.string().describe('Send as X-API-Key; not retrievable later'),
        apiKey: apiKeySchema,
      }),
      status: 201,
      errors: [409],
      handler: ({ body, ...caller }) => {
        const admin = routeRequester(caller).principal;
        requireOwnOrganisation(admin, body.org);
        requirePersonToGrantPrivilegedRole(admin, body.role);
        return deps.accounts.createApiKey(body, admin.id);
      },
    }),
    route({
      method: 'get',
      path: apiKeysPath,
      operationId: 'listApiKeys',
      summary: "The API keys of the administrator's organisation, without secrets, oldest first, one page at a time",
      tag: 'admin',
      access: 'admin',
      query: ledgerPageQuerySchema,
      response: z.array(apiKeySchema),
      responseHeaders: [nextPageLinkHeader],
      handler: async ({ query, setHeader, ...caller }) => {
        const org = routeRequester(caller).principal.org;
        const page = await readLedgerPage(query, 'query.after', (paging) => deps.accounts.listApiKeys(org, paging));
        return answerWithPage(page, { path: apiKeysPath, query, setHeader });
      },
    }),
    route({
      method: 'delete',
      path: `${apiKeysPath}/:keyId`,
      operationId: 'revokeApiKey',
      summary: "Revoke an API key of the administrator's organisation; it stops working at once",
      tag: 'admin',
      access: 'admin',
      params: z.strictObject({ keyId: z.string().regex(/^[a-z0-9]{12}$/, 'must be a 12-character key id') }),
      response: z.object({ revoked: z.literal(true) }),
      errors: [404],
      handler: async ({ params, ...caller }) => {
        await deps.accounts.revokeApiKey(params.keyId, routeRequester(caller).principal.org);
        return { revoked: true as const };
      },
    }),
  ];
}
