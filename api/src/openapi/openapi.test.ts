import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
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

  it('requires a request body only where an absent one (read as `{}`) would be refused', () => {
    const paths = document.paths as Record<string, Record<string, { requestBody?: { required: boolean } }>>;
    expect(paths['/v1/audit/read-log/anchors']?.post?.requestBody?.required).toBe(false);
    expect(paths['/v1/agreements']?.post?.requestBody?.required).toBe(true);
    // Two credentials at once are refused before any route, so every operation lists 400.
    for (const operations of Object.values(paths)) {
      for (const operation of Object.values(operations)) {
        expect(Object.keys((operation as { responses: object }).responses)).toContain('400');
      }
    }
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
            {
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
              // Those that say when to send again say so in their header.
              ...(['429', '503', '504'].includes(status)
                ? { headers: { 'Retry-After': expect.anything() as unknown } }
                : {}),
            },
          ]);
        }
      }
    }
  });

  describe('states the checks the server makes, so that what it documents as valid is taken', () => {
    type Operation = {
      parameters?: { name: string; in: string; schema: Record<string, unknown> }[];
      requestBody?: { content: { 'application/json': { schema: Record<string, unknown> } } };
    };
    const ajv = new Ajv2020({ strict: false });
    const operation = (path: string, method: string) =>
      (document.paths as Record<string, Record<string, Operation>>)[path]?.[method] as Operation;
    const parameterSchema = (path: string, method: string, name: string) => {
      const schema = operation(path, method).parameters?.find((parameter) => parameter.name === name)?.schema;
      if (schema === undefined) throw new Error(`${method} ${path} has no parameter ${name}`);
      return schema;
    };

    it('gives a bounded whole number its bounds, for digits as for integers (query.first of the index)', async () => {
      const admin = await server.person('openapi-bounds-admin', 'AuditOrg', 'admin');
      const documented = ajv.compile(parameterSchema('/v1/index/agreements', 'get', 'first'));
      for (const first of ['0', '1', '007', '20', '100', '0100', '101', '1000', '99999999999999999', 'abc', '1.5']) {
        const answer = await server.request('GET', `/v1/index/agreements?first=${first}`, { token: admin.token });
        expect([first, answer.status === 422]).toEqual([first, !documented(first)]);
      }
      expect(documented(100)).toBe(true);
      expect(documented(101)).toBe(false);
    });

    it('states that text may hold no control or bidirectional formatting character, and where it must not be blank', async () => {
      const carol = await server.person('openapi-text-carol', 'ClientOrg', 'client');
      const body = (
        operation('/v1/settlement/payout-accounts/me', 'put').requestBody as NonNullable<Operation['requestBody']>
      ).content['application/json'].schema;
      const documented = ajv.compile(body);
      const account = {
        kind: 'iban',
        currency: 'EUR',
        holderName: 'Carol',
        iban: 'DE89370400440532013000',
        bic: 'COBADEFFXXX',
      };
      for (const holderName of [
        'Carol',
        ' Carol ',
        'Ca\u0007rol',
        'Carol\u202E',
        '   ',
        '\u00A0\uFEFF',
        'Carol\u200F',
      ]) {
        const sent = { ...account, holderName };
        const answer = await server.request('PUT', '/v1/settlement/payout-accounts/me', {
          token: carol.token,
          body: sent,
        });
        expect([holderName, answer.status === 422]).toEqual([holderName, !documented(sent)]);
      }
      for (const blank of [{ iban: '' }, { bic: '' }]) {
        const sent = { ...account, ...blank };
        const answer = await server.request('PUT', '/v1/settlement/payout-accounts/me', {
          token: carol.token,
          body: sent,
        });
        expect([blank, answer.status, documented(sent)]).toEqual([blank, 422, false]);
      }
    });

    it('states where a list may not repeat an entry and where a map must hold one', () => {
      const bodyOf = (path: string) => {
        const body = operation(path, 'post').requestBody;
        if (body === undefined) throw new Error(`post ${path} takes no body`);
        return body.content['application/json'].schema as { properties: Record<string, Record<string, unknown>> };
      };
      expect(bodyOf('/v1/licensing/offers').properties.territories).toMatchObject({ uniqueItems: true });
      expect(bodyOf('/v1/licensing/offers').properties.fieldsOfUse).toMatchObject({ uniqueItems: true });
      expect(bodyOf('/v1/provenance/datasets/{datasetId}/grants').properties.scope).toMatchObject({
        uniqueItems: true,
      });
      expect(bodyOf('/v1/credentials/{credentialId}/presentations').properties.reveal).toMatchObject({
        uniqueItems: true,
      });
      expect(
        bodyOf('/v1/agreements/{agreementId}/milestones/{milestoneId}/evaluations').properties.metrics,
      ).toMatchObject({ minProperties: 1 });
    });

    it('puts the text rule on every free-text string an operation takes, and leaves verbatim ones free', () => {
      const paths = document.paths as Record<string, Record<string, Operation>>;
      const freeStrings: { where: string; schema: Record<string, unknown> }[] = [];
      const collect = (node: unknown, where: string): void => {
        if (Array.isArray(node)) {
          node.forEach((item, index) => {
            collect(item, `${where}/${index}`);
          });
          return;
        }
        if (typeof node !== 'object' || node === null) return;
        const schema = node as Record<string, unknown>;
        if (schema.type === 'string' && !('format' in schema || 'enum' in schema || 'const' in schema)) {
          freeStrings.push({ where, schema });
        }
        for (const [key, value] of Object.entries(schema)) collect(value, `${where}/${key}`);
      };
      for (const [path, methods] of Object.entries(paths)) {
        for (const [method, spec] of Object.entries(methods)) {
          collect(spec.parameters, `${method} ${path} parameters`);
          collect(spec.requestBody, `${method} ${path} body`);
        }
      }
      const takingAnything = freeStrings.filter(({ schema }) => {
        const validate = ajv.compile(schema);
        return validate('a\u0007b') || validate('a\u202Eb') || validate('a\u0000');
      });
      // Only operations that take text as sent: a password, a provider's signed callback, a
      // document re-sent to be checked against the ledger.
      const verbatim = [
        'post /v1/auth/token',
        'post /v1/settlement/callbacks/{provider}',
        'post /v1/credentials/vc/verify',
        'post /v1/credentials/verify',
        'post /v1/agreements/{agreementId}/terms/verify',
        'get /v1/audit/read-log/verification',
        'post /v1/reputation/statements/verification',
      ];
      const outside = takingAnything.filter(({ where }) => !verbatim.some((operation) => where.startsWith(operation)));
      expect(outside.map(({ where }) => where)).toEqual([]);
      expect(freeStrings.length - takingAnything.length).toBeGreaterThan(100);
    });
  });
});
