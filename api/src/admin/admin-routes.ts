import { z } from 'zod';
import { routeRequester } from '../http/route-requester.js';
import { route, type RouteSpec } from '../http/route.js';
import {
  apiKeyViewSchema as apiKeySchema,
  createApiKeySchema,
  createPersonSchema,
  personViewSchema as personSchema,
  type AccountService,
} from '../auth/account-service.js';
import type { Principal } from '../auth/principal.js';
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
 * Only a person grants the administrator role: an administrator's API key may create
 * people and keys of other roles (provisioning from an HR system, say), but not another
 * administrator, so that a leaked key cannot outlive its revocation as new administrators
 * or keys it made for itself.
 *
 * @throws ApiError 403 FORBIDDEN (field `role`) when a service account asks for the administrator role.
 */
function requirePersonToGrantAdmin(admin: Principal, role: string): void {
  if (role === 'admin' && admin.kind !== 'person') {
    throw new ApiError(
      403,
      'FORBIDDEN',
      'only an administrator signed in as a person may create another administrator; an API key may not',
      'role',
    );
  }
}

/**
 * People and service accounts, managed by administrators, each only within its own
 * organisation: an administrator of one organisation neither creates, lists nor revokes
 * accounts of another (whose keys look as if they did not exist).
 */
export function adminRoutes(deps: { accounts: AccountService }): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/admin/users',
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
        requirePersonToGrantAdmin(admin, body.role);
        return deps.accounts.createPerson(body);
      },
    }),
    route({
      method: 'get',
      path: '/v1/admin/users',
      operationId: 'listUsers',
      summary: "Every person of the administrator's organisation",
      tag: 'admin',
      access: 'admin',
      response: z.array(personSchema),
      handler: (caller) => deps.accounts.listPeople(routeRequester(caller).principal.org),
    }),
    route({
      method: 'post',
      path: '/v1/admin/api-keys',
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
        requirePersonToGrantAdmin(admin, body.role);
        return deps.accounts.createApiKey(body, admin.id);
      },
    }),
    route({
      method: 'get',
      path: '/v1/admin/api-keys',
      operationId: 'listApiKeys',
      summary: "Every API key of the administrator's organisation, without secrets",
      tag: 'admin',
      access: 'admin',
      response: z.array(apiKeySchema),
      handler: (caller) => deps.accounts.listApiKeys(routeRequester(caller).principal.org),
    }),
    route({
      method: 'delete',
      path: '/v1/admin/api-keys/:keyId',
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
