import { startTestServer } from '../test-support/test-server.js';
import { refusalAt } from '../test-support/party-refusals.js';

interface Envelope {
  status: number;
  code: string;
  message: string;
  requestId: string;
}

/** The Allow header for the methods the OpenAPI document declares on a path: HEAD with GET, OPTIONS everywhere. */
const allowFor = (declared: readonly string[]): string =>
  [...new Set([...declared.flatMap((method) => (method === 'GET' ? ['GET', 'HEAD'] : [method])), 'OPTIONS'])]
    .sort()
    .join(', ');

describe('a path or method no route answers', () => {
  it('is answered with the JSON error envelope: 404 naming the path, never an empty body', async () => {
    const server = await startTestServer();
    try {
      for (const [method, path] of [
        ['POST', '/GRAPHQL'],
        ['POST', '/GraphQL/'],
        ['GET', '/v1/x'],
        ['POST', '/v1/agreements/A-1/nothing'],
        ['GET', '/nothing/at/all'],
        ['DELETE', '/'],
      ] as const) {
        const answer = await server.request(
          method,
          path,
          method === 'GET' ? {} : { body: { query: '{ __typename }' } },
        );
        expect([method, path, answer.status]).toEqual([method, path, 404]);
        expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
        expect(answer.body).toMatchObject({
          status: 404,
          code: 'ROUTE_NOT_FOUND',
          message: `no route ${method} ${path}`,
        });
        expect((answer.body as Envelope).requestId).toBe(answer.headers.get('x-request-id'));
      }
      // The exact endpoint, with the trailing slash the router allows everywhere, still serves GraphQL.
      for (const path of ['/graphql', '/graphql/']) {
        const served = await server.request('POST', path, { body: { query: '{ __typename }' } });
        expect(served.body).toEqual({ data: { __typename: 'Query' } });
      }
    } finally {
      await server.close();
    }
  });

  it('answers 405 with Allow on every known path asked with a method it does not serve, and OPTIONS there 204 with the same Allow', async () => {
    const server = await startTestServer();
    try {
      const document = (await server.request('GET', '/openapi.json')).body as {
        paths: Record<string, Record<string, unknown>>;
      };
      const checked: string[] = [];
      const templates = Object.entries(document.paths).map(([template, operations]) => ({
        template,
        pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
        methods: Object.keys(operations).map((method) => method.toUpperCase()),
      }));
      for (const { template } of templates) {
        const path = template.replace(/\{[^}]+\}/g, 'x');
        // A literal segment may also fit another route's parameter (/v1/credentials/verify).
        const declared = templates.filter(({ pattern }) => pattern.test(path)).flatMap(({ methods }) => methods);
        const absent = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].find((method) => !declared.includes(method));
        if (absent === undefined) continue;
        const answer = await server.request(absent, path);
        expect([absent, path, answer.status, answer.headers.get('allow')]).toEqual([
          absent,
          path,
          405,
          allowFor(declared),
        ]);
        expect(answer.body).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });
        checked.push(path);
      }
      expect(checked.length).toBeGreaterThan(50);
      // OPTIONS on every documented path: 204, no body, the same Allow as a 405 there, no credential asked.
      for (const { template } of templates) {
        const path = template.replace(/\{[^}]+\}/g, 'x');
        const declared = templates.filter(({ pattern }) => pattern.test(path)).flatMap(({ methods }) => methods);
        const answer = await fetch(`${server.url}${path}`, { method: 'OPTIONS' });
        expect([path, answer.status, answer.headers.get('allow'), await answer.text()]).toEqual([
          path,
          204,
          allowFor(declared),
          '',
        ]);
      }

      // Routes outside the OpenAPI document, in another case and with a trailing slash too.
      for (const [method, path, allow] of [
        ['PUT', '/v1/me', 'GET, HEAD, OPTIONS'],
        ['PUT', '/V1/Me/', 'GET, HEAD, OPTIONS'],
        ['POST', '/healthz', 'GET, HEAD, OPTIONS'],
        ['DELETE', '/openapi.json', 'GET, HEAD, OPTIONS'],
        ['PUT', '/graphql', 'GET, OPTIONS, POST'],
      ] as const) {
        const answer = await server.request(method, path);
        expect([method, path, answer.status, answer.headers.get('allow')]).toEqual([method, path, 405, allow]);
        expect(refusalAt(path, answer.body)).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });
        const options = await fetch(`${server.url}${path}`, { method: 'OPTIONS' });
        expect([path, options.status, options.headers.get('allow')]).toEqual([path, 204, allow]);
      }
      // A path nothing serves is 404 for OPTIONS as for any method.
      const nowhere = await server.request('OPTIONS', '/v1/nothing');
      expect([nowhere.status, nowhere.body]).toEqual([404, expect.objectContaining({ code: 'ROUTE_NOT_FOUND' })]);
    } finally {
      await server.close();
    }
  });
});
