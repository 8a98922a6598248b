import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

/** Every `$ref` in the document, with the path it appears at. */
function references(value: unknown, at = '#'): { ref: string; at: string }[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => references(item, `${at}/${index}`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === '$ref' && typeof inner === 'string' ? [{ ref: inner, at }] : references(inner, `${at}/${key}`),
  );
}

function resolve(document: unknown, pointer: string): unknown {
  return pointer
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>(
      (node, segment) =>
        node !== null && typeof node === 'object'
          ? (node as Record<string, unknown>)[segment.replaceAll('~1', '/').replaceAll('~0', '~')]
          : undefined,
      document,
    );
}

describe('the OpenAPI document served at /openapi.json', () => {
  let server: TestServer;
  let document: Record<string, unknown>;

  beforeAll(async () => {
    server = await startTestServer();
    document = (await server.request('GET', '/openapi.json')).body as Record<string, unknown>;
  });

  afterAll(async () => {
    await server.close();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('resolves every reference inside the document', () => {
    const refs = references(document);
    expect(refs.length).toBeGreaterThan(50);
    const dangling = refs.filter(({ ref }) => !ref.startsWith('#/') || resolve(document, ref) === undefined);
    expect(dangling).toEqual([]);
  });

  it('documents the error answer of every operation with the one error shape', () => {
    const paths = document.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue;
          expect([path, method, status, response]).toMatchObject([
            path,
            method,
            status,
            { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          ]);
        }
      }
    }
  });
});
