import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { sample } from 'openapi-sampler';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

/*
 * The server against its own OpenAPI document, tried from outside as a generated client
 * would: for every operation, requests are generated from the document alone (path and
 * query parameters, headers and body sampled from their schemas, patterns included),
 * sent over a real socket by callers of each kind, and every answer must have a status
 * the document declares for that operation and a body its schema for that status
 * accepts. No answer may be a 500.
 */

// ajv-formats is CommonJS with a default export; seen from an ES module it arrives as the module object.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

type Schema = Record<string, unknown>;

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required: boolean;
  readonly schema: Schema;
}

interface Operation {
  readonly operationId: string;
  readonly parameters: readonly Parameter[];
  readonly requestBody?: { readonly content: { readonly 'application/json': { readonly schema: Schema } } };
  readonly responses: Record<
    string,
    { readonly content: { readonly 'application/json': { readonly schema: Schema } } }
  >;
}

interface Document {
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { readonly schemas: Record<string, Schema> };
}

interface Generated {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** A value of the schema, as openapi-sampler makes one; all fields or only the required ones. */
function sampled(schema: Schema, document: Document, minimal: boolean): unknown {
  return sample(schema, { enablePatterns: true, skipNonRequired: minimal, quiet: true }, document);
}

/** A request for the operation built from the document alone. */
function generate(document: Document, template: string, operation: Operation, minimal: boolean): Generated {
  let path = template;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  for (const parameter of operation.parameters) {
    if (minimal && !parameter.required) continue;
    const value = String(sampled(parameter.schema, document, minimal));
    if (parameter.in === 'path') path = path.replace(`{${parameter.name}}`, encodeURIComponent(value));
    else if (parameter.in === 'query') query.set(parameter.name, value);
    else headers[parameter.name] = value;
  }
  const bodySchema = operation.requestBody?.content['application/json'].schema;
  const search = query.toString();
  return {
    path: search === '' ? path : `${path}?${search}`,
    headers,
    body: bodySchema === undefined ? undefined : sampled(bodySchema, document, minimal),
  };
}

/** The schema with the document's component references resolved, for ajv to compile on its own. */
function resolved(schema: Schema, document: Document): Schema {
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const name = ref.replace('#/components/schemas/', '');
    const component = document.components.schemas[name];
    if (component === undefined) throw new Error(`unresolved reference ${ref}`);
    return component;
  }
  return schema;
}

describe('the server against its OpenAPI document, with requests generated from it', () => {
  let server: TestServer;
  let document: Document;
  const callers: { readonly name: string; readonly auth: { token?: string; apiKey?: string } }[] = [];
  const validators = new Map<string, ValidateFunction>();
  const ajv = new Ajv2020({ strict: true });
  addFormats(ajv);

  beforeAll(async () => {
    server = await startTestServer();
    document = (await server.request('GET', '/openapi.json')).body as Document;
    const admin = await server.person('conformance-admin', 'ClientOrg', 'admin');
    const freelancer = await server.person('conformance-tara', 'TalentOrg', 'freelancer');
    const hr = await server.service('conformance-hr', 'AuditOrg', 'hr');
    callers.push(
      { name: 'anonymous', auth: {} },
      { name: 'admin', auth: { token: admin.token } },
      { name: 'freelancer', auth: { token: freelancer.token } },
      { name: 'hr system', auth: { apiKey: hr.key } },
    );
  });

  afterAll(async () => {
    await server.close();
  });

  function validatorFor(operation: Operation, status: string): ValidateFunction {
    const key = `${operation.operationId} ${status}`;
    let validate = validators.get(key);
    if (validate === undefined) {
      const declared = operation.responses[status];
      if (declared === undefined) throw new Error(`${key} is not declared`);
      validate = ajv.compile(resolved(declared.content['application/json'].schema, document));
      validators.set(key, validate);
    }
    return validate;
  }

  // Eight requests per operation, one after another: the time grows with the API, and `npm test`
  // runs it beside the end-to-end suites' networks (92 s there once). The limit catches a hang.
  it('answers every operation, for every kind of caller, with a declared status and a body of its declared schema', async () => {
    const operations = Object.entries(document.paths)
      .flatMap(([template, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ template, method, operation })),
      )
      // Signing out ends the callers' tokens, so it goes last, after every other operation had them.
      .sort(
        (a, b) => Number(a.operation.operationId === 'revokeToken') - Number(b.operation.operationId === 'revokeToken'),
      );
    expect(operations.length).toBeGreaterThanOrEqual(50);
    const faults: unknown[] = [];
    const seen = new Set<string>();
    for (const { template, method, operation } of operations) {
      for (const caller of callers) {
        for (const minimal of [false, true]) {
          const request = generate(document, template, operation, minimal);
          const answer = await server.request(method.toUpperCase(), request.path, {
            ...caller.auth,
            headers: request.headers,
            ...(request.body === undefined ? {} : { body: request.body }),
          });
          const status = String(answer.status);
          seen.add(`${operation.operationId} ${status}`);
          const where = { operation: operation.operationId, caller: caller.name, minimal, request, status };
          if (answer.status === 500 || operation.responses[status] === undefined) {
            faults.push({ ...where, fault: 'undeclared status', body: answer.body });
            continue;
          }
          const validate = validatorFor(operation, status);
          if (!validate(answer.body)) {
            faults.push({ ...where, fault: ajv.errorsText(validate.errors), body: answer.body });
          }
        }
      }
    }
    expect(faults).toEqual([]);
    // The generated requests reach past the gates: some succeed, some are refused by the ledger itself.
    const statuses = new Set([...seen].map((entry) => entry.split(' ')[1]));
    expect([...statuses]).toEqual(expect.arrayContaining(['200', '401', '403', '404', '422']));
  }, 600_000);

  it('declares the refusals every operation makes of what it does not take: a bad credential, a query parameter, headers too large, a body not JSON, one too large', async () => {
    // Its own: the test above ends by signing its callers out.
    const admin = (await server.person('conformance-refusals-admin', 'ClientOrg', 'admin')).token;
    const faults: unknown[] = [];
    for (const [template, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const { path, headers } = generate(document, template, operation, true);
        const separator = path.includes('?') ? '&' : '?';
        const tries: { name: string; path: string; headers?: Record<string, string>; body?: string }[] = [
          { name: 'an undeclared query parameter', path: `${path}${separator}unexpected=1` },
          { name: 'a bearer token not valid', path, headers: { authorization: 'Bearer not-a-token' } },
          // Refused by the HTTP parser (431) before any route, in the same error shape.
          { name: 'headers over 16 KB', path, headers: { 'x-padding': 'x'.repeat(17_000) } },
        ];
        // fetch sends no body with GET or HEAD.
        if (method !== 'get' && method !== 'head') {
          tries.push(
            { name: 'a body not JSON', path, headers: { 'content-type': 'text/plain' }, body: 'plain text' },
            {
              name: 'a body over 1 MB',
              path,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ padding: 'x'.repeat(1_100_000) }),
            },
          );
        }
        for (const attempt of tries) {
          const answer = await fetch(`${server.url}${attempt.path}`, {
            method: method.toUpperCase(),
            headers: { ...headers, authorization: `Bearer ${admin}`, ...attempt.headers },
            ...(attempt.body === undefined ? {} : { body: attempt.body }),
          });
          const status = String(answer.status);
          const body: unknown = await answer.json();
          const where = { operation: operation.operationId, attempt: attempt.name, status, body };
          if (answer.status < 400 || operation.responses[status] === undefined) {
            faults.push({ ...where, fault: 'undeclared status, or taken' });
          } else if (!validatorFor(operation, status)(body)) {
            faults.push({ ...where, fault: 'body of another shape' });
          }
        }
      }
    }
    expect(faults).toEqual([]);
  }, 300_000);
});
