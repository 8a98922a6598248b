import { roles } from '@gigledger/chaincode/model';
import { suiteServer } from '../test-support/suite-server.js';
import type { Person } from '../test-support/test-server.js';

/**
 * Every refusal names a field the caller can send, by the path it is sent at: `offerId`,
 * not `offerId.offerId`; `reason` for a top-level GraphQL argument, not `input.reason`.
 * Each operation of the GraphQL schema and of the OpenAPI document is called with
 * malformed values in every argument, by each role until one gets past the role check,
 * and the path it names is walked through the declared arguments or request schema.
 */

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}
interface InputValue {
  name: string;
  type: TypeRef;
}
interface SchemaType {
  name: string;
  kind: string;
  inputFields: InputValue[] | null;
  enumValues: { name: string }[] | null;
}
interface RootField {
  name: string;
  args: InputValue[];
}

const typeRef = 'kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }';
const introspection = `{ __schema {
  queryType { fields { name args { name type { ${typeRef} } } } }
  mutationType { fields { name args { name type { ${typeRef} } } } }
  types { name kind inputFields { name type { ${typeRef} } } enumValues { name } }
} }`;

/** Each sweep sends a request or more per operation, one after another. */
const sweepTimeoutMs = 180_000;

/** A value no id, hash, enum-like string or bounded text of the model accepts. */
const malformedText = `not valid ${'x'.repeat(5000)}`;

interface JsonSchema {
  $ref?: string;
  required?: string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

/** Whether `segments` lead somewhere inside `schema` (a JSON Schema of the OpenAPI document). */
function inJsonSchema(
  schema: JsonSchema | undefined,
  segments: readonly string[],
  refs: Record<string, JsonSchema>,
): boolean {
  if (schema === undefined) return false;
  if (schema.$ref !== undefined) return inJsonSchema(refs[schema.$ref.split('/').pop() ?? ''], segments, refs);
  const [head, ...rest] = segments;
  if (head === undefined) return true;
  const branches = [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  if (branches.some((branch) => inJsonSchema(branch, segments, refs))) return true;
  if (/^\d+$/.test(head) && schema.items !== undefined) return inJsonSchema(schema.items, rest, refs);
  const property = schema.properties?.[head];
  if (property !== undefined) return inJsonSchema(property, rest, refs);
  return typeof schema.additionalProperties === 'object' && inJsonSchema(schema.additionalProperties, rest, refs);
}

describe('field paths in refusals', () => {
  const server = suiteServer({
    RATE_LIMIT_PER_MINUTE: '100000',
    GRAPHQL_INTROSPECTION: 'true',
    // Introspecting nested argument types goes deeper than operations do.
    GRAPHQL_MAX_DEPTH: '12',
  });
  let people: Person[];

  beforeAll(async () => {
    people = await Promise.all(roles.map((role, index) => server().person(`paths-${index}`, 'ClientOrg', role)));
  });

  /** Calls as each role in turn; the first validation refusal's field, if any role got that far. */
  async function refusedField(
    call: (person: Person) => Promise<{ code?: unknown; field?: unknown } | undefined>,
  ): Promise<string | undefined> {
    for (const person of people) {
      const refusal = await call(person);
      if (refusal?.code === 'VALIDATION_FAILED' && typeof refusal.field === 'string') return refusal.field;
    }
    return undefined;
  }

  it(
    'names each GraphQL argument at fault once, under an argument the field has',
    async () => {
      const answer = (await server().request('POST', '/graphql', {
        token: people[0]?.token ?? '',
        body: { query: introspection },
      })) as { body: { data?: { __schema: Record<string, unknown> } } };
      if (answer.body.data === undefined) throw new Error(JSON.stringify(answer.body));
      const schema = answer.body.data.__schema as {
        queryType: { fields: RootField[] };
        mutationType: { fields: RootField[] };
        types: SchemaType[];
      };
      const types = new Map(schema.types.map((type) => [type.name, type]));
      const malformed = (ref: TypeRef, depth: number): unknown => {
        if (ref.kind === 'NON_NULL' && ref.ofType !== null) return malformed(ref.ofType, depth);
        if (ref.kind === 'LIST' && ref.ofType !== null) return [malformed(ref.ofType, depth)];
        const type = types.get(ref.name ?? '');
        if (type?.kind === 'ENUM') return type.enumValues?.[0]?.name;
        if (type?.kind === 'INPUT_OBJECT') {
          if (depth > 3) return {};
          return Object.fromEntries(
            (type.inputFields ?? []).map((field) => [field.name, malformed(field.type, depth + 1)]),
          );
        }
        if (ref.name === 'Int') return -1;
        if (ref.name === 'Float') return -1.5;
        if (ref.name === 'Boolean') return true;
        if (ref.name === 'JSON') return { unexpected: malformedText };
        return malformedText;
      };
      /** Whether `segments` lead somewhere inside an argument or input field of type `ref`. */
      const inType = (ref: TypeRef, segments: readonly string[]): boolean => {
        const [head, ...rest] = segments;
        if (head === undefined) return true;
        if (ref.kind === 'NON_NULL' && ref.ofType !== null) return inType(ref.ofType, segments);
        if (ref.kind === 'LIST' && ref.ofType !== null) return /^\d+$/.test(head) && inType(ref.ofType, rest);
        // A JSON argument's fields are checked by the model schema, which the path follows.
        if (ref.name === 'JSON') return true;
        const field = types.get(ref.name ?? '')?.inputFields?.find((candidate) => candidate.name === head);
        return field !== undefined && inType(field.type, rest);
      };
      const declared = (ref: TypeRef): string =>
        ref.kind === 'NON_NULL' && ref.ofType !== null
          ? `${declared(ref.ofType)}!`
          : ref.kind === 'LIST' && ref.ofType !== null
            ? `[${declared(ref.ofType)}]`
            : (ref.name ?? '');

      const named: Record<string, string> = {};
      const roots = [
        ['query', schema.queryType.fields],
        ['mutation', schema.mutationType.fields],
      ] as const;
      for (const [operation, fields] of roots) {
        for (const field of fields.filter((candidate) => candidate.args.length > 0)) {
          const variables = Object.fromEntries(field.args.map((arg) => [arg.name, malformed(arg.type, 0)]));
          const document = `${operation} (${field.args.map((arg) => `$${arg.name}: ${declared(arg.type)}`).join(', ')}) {
          ${field.name}(${field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ')}) { __typename }
        }`;
          const path = await refusedField(async (person) => {
            const response = await server().request('POST', '/graphql', {
              token: person.token,
              body: { query: document, variables },
            });
            const errors = (response.body as { errors?: { extensions?: { code?: unknown; field?: unknown } }[] })
              .errors;
            return errors?.[0]?.extensions;
          });
          if (path === undefined) continue;
          named[field.name] = path;
          // Some modules put `args.` before an argument's name; the argument comes next either way.
          const [head = '', ...rest] = path.startsWith('args.')
            ? path.slice('args.'.length).split('.')
            : path.split('.');
          const argument = field.args.find((arg) => arg.name === head);
          expect([field.name, path, argument !== undefined && inType(argument.type, rest)]).toEqual([
            field.name,
            path,
            true,
          ]);
        }
      }
      // The paths that once named their field twice or under an `input` the field does not have.
      expect(named).toMatchObject({
        licenceOffer: 'offerId',
        consentToLicenceOffer: 'offerId',
        withdrawLicenceOffer: 'offerId',
        licenceGrant: 'grantId',
        royaltyPeriod: 'grantId',
        work: 'workId',
        ownershipChange: 'workId',
        proposal: 'proposalId',
        vetoProposal: 'proposalId',
        provenanceRecord: 'recordId',
        revokeAuditAccess: 'grantId',
      });
      expect(Object.keys(named).length).toBeGreaterThan(40);
    },
    sweepTimeoutMs,
  );

  it(
    'says a required body field left out is required, naming it, in every REST operation',
    async () => {
      const document = (await server().request('GET', '/openapi.json')).body as {
        paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>>;
        components: { schemas: Record<string, JsonSchema> };
      };
      const refs = document.components.schemas;
      const seen: string[] = [];
      for (const [template, operations] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          if (template === '/v1/auth/token/revocation') continue;
          const schema = operation.requestBody?.content?.['application/json']?.schema;
          const required = (schema?.$ref === undefined ? schema : refs[schema.$ref.split('/').pop() ?? ''])?.required;
          if (required === undefined || required.length === 0) continue;
          const path = template.replace(/\{[^}]+\}/g, 'A-1');
          for (const person of people) {
            const response = await server().request(method.toUpperCase(), path, { token: person.token, body: {} });
            const refusal = response.body as { code?: string; field?: string; message?: string };
            if (refusal.code !== 'VALIDATION_FAILED' || refusal.field?.startsWith('body.') !== true) continue;
            const name = refusal.field.slice('body.'.length);
            if (!required.includes(name)) break;
            seen.push(`${method} ${template}`);
            expect([method, template, refusal.message]).toEqual([method, template, `body.${name}: is required`]);
            break;
          }
        }
      }
      expect(seen).toEqual(
        expect.arrayContaining(['post /v1/agreements', 'post /v1/agreements/{agreementId}/terms/verify']),
      );
      expect(seen.length).toBeGreaterThan(20);
    },
    sweepTimeoutMs,
  );

  it(
    'names each REST field at fault once, under the request part it came in',
    async () => {
      const document = (await server().request('GET', '/openapi.json')).body as {
        paths: Record<
          string,
          Record<
            string,
            {
              parameters?: { name: string; in: string; schema?: JsonSchema }[];
              requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
            }
          >
        >;
        components: { schemas: Record<string, JsonSchema> };
      };
      const refs = document.components.schemas;
      let checked = 0;
      for (const [template, operations] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
          // Signing out takes no input to name, and would end the token every later request uses.
          if (template === '/v1/auth/token/revocation') continue;
          const path = template.replace(/\{[^}]+\}/g, 'not%20valid%20!');
          const schema = operation.requestBody?.content?.['application/json']?.schema;
          const properties = (schema?.$ref === undefined ? schema : refs[schema.$ref.split('/').pop() ?? ''])
            ?.properties;
          const body =
            properties === undefined
              ? undefined
              : Object.fromEntries(Object.keys(properties).map((name) => [name, { unexpected: malformedText }]));
          const field = await refusedField(async (person) => {
            const response = await server().request(method.toUpperCase(), path, {
              token: person.token,
              ...(body === undefined ? {} : { body }),
            });
            return response.body as { code?: unknown; field?: unknown } | undefined;
          });
          if (field === undefined) continue;
          checked += 1;
          const [part = '', name = '', ...rest] = field.split('.');
          const parameter = operation.parameters?.find((candidate) => candidate.in === part && candidate.name === name);
          const sent =
            part === 'body'
              ? inJsonSchema(schema, [name, ...rest], refs)
              : part === 'header'
                ? name === 'idempotency-key'
                : parameter !== undefined && inJsonSchema(parameter.schema, rest, refs);
          expect([method, template, field, sent]).toEqual([method, template, field, true]);
        }
      }
      expect(checked).toBeGreaterThan(40);
    },
    sweepTimeoutMs,
  );
});
