import { z } from 'zod';
import { route, type RouteSpec } from '../http/route.js';
import {
  apiKeyViewSchema as apiKeySchema,
  createApiKeySchema,
  createPersonSchema,
  personViewSchema as personSchema,
  type AccountService,
} from '../auth/account-service.js';

/** People and service accounts, managed by administrators. */
export function adminRoutes(deps: { accounts: AccountService }): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/admin/users',
      operationId: 'createUser',
      summary: "Enroll a person in their organisation's CA with a role, and let them log in",
      tag: 'admin',
      access: 'admin',
      body: createPersonSchema,
      response: personSchema,
      status: 201,
      errors: [409],
      handler: ({ body }) => deps.accounts.createPerson(body),
    }),
    route({
      method: 'get',
      path: '/v1/admin/users',
      operationId: 'listUsers',
      summary: 'Every person the server knows',
      tag: 'admin',
      access: 'admin',
      response: z.array(personSchema),
      handler: () => deps.accounts.listPeople(),
    }),
    route({
      method: 'post',
      path: '/v1/admin/api-keys',
      operationId: 'createApiKey',
      summary: 'Create a service account (e.g. an HR system) with its own Fabric identity; the key is shown once',
      tag: 'admin',
      access: 'admin',
      body: createApiKeySchema,
      response: z.object({
        key: z.string().describe('Send as X-API-Key; not retrievable later'),
        apiKey: apiKeySchema,
      }),
      status: 201,
      handler: ({ body, principal }) => deps.accounts.createApiKey(body, principal?.id ?? 'unknown'),
    }),
    route({
      method: 'get',
      path: '/v1/admin/api-keys',
      operationId: 'listApiKeys',
      summary: 'Every API key, without secrets',
      tag: 'admin',
      access: 'admin',
      response: z.array(apiKeySchema),
      handler: () => deps.accounts.listApiKeys(),
    }),
    route({
      method: 'delete',
      path: '/v1/admin/api-keys/:keyId',
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key; it stops working at once',
      tag: 'admin',
      access: 'admin',
      params: z.strictObject({ keyId: z.string().regex(/^[a-z0-9]{12}$/, 'must be a 12-character key id') }),
      response: z.object({ revoked: z.literal(true) }),
      errors: [404],
      handler: async ({ params }) => {
        await deps.accounts.revokeApiKey(params.keyId);
        return { revoked: true as const };
      },
    }),
  ];
}
