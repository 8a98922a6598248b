import { organisationOfRole } from '../test-support/role-organisations.js';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import type { Role } from '@gigledger/chaincode/model';
import { scopesByRole, type Scope } from '../auth/principal.js';
import { suiteServer } from '../test-support/suite-server.js';
import { declaredAccess, guardingRootFields } from './field-access.js';
import type { SchemaModule } from './context.js';

/**
 * A value GraphQL accepts for the type and the API's own checks refuse (empty strings,
 * negative numbers, empty lists, input objects with only their required fields), so a
 * resolver that judged its arguments before its caller would answer 422, not 403.
 */
function malformedValue(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return malformedValue(type.ofType);
  if (isListType(type)) return [];
  if (isEnumType(type)) return type.getValues()[0]?.value;
  if (isInputObjectType(type)) {
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((field) => isNonNullType(field.type) && field.defaultValue === undefined)
        .map((field) => [field.name, malformedValue(field.type)]),
    );
  }
  switch (type.name) {
    case 'Int':
    case 'Float':
      return -1;
    case 'Boolean':
      return false;
    case 'JSON':
      return {};
    default:
      return '';
  }
}

/**
 * Operations calling the field, asking for no more than `__typename`: with malformed
 * values for every argument (they reach the resolver), with variables of the wrong type
 * (graphql-js refuses them before any resolver runs), and with an argument the field
 * does not have (refused by validation).
 */
function operationsFor(root: 'query' | 'mutation', field: GraphQLField<unknown, unknown>) {
  const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
  return [
    operationFor(root, field, (type) => malformedValue(type)),
    operationFor(root, field, () => [[{ an: 'object' }]]),
    { query: `${root} { ${field.name}(noSuchArgument: 1)${selection} }` },
  ];
}

function operationFor(
  root: 'query' | 'mutation',
  field: GraphQLField<unknown, unknown>,
  valueOf: (type: GraphQLInputType) => unknown,
) {
  const variables = Object.fromEntries(field.args.map((arg) => [arg.name, valueOf(arg.type)]));
  const declarations = field.args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
  const argumentList = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
  return {
    query: `${root}${declarations === '' ? '' : ` (${declarations})`} { ${field.name}${argumentList === '' ? '' : `(${argumentList})`}${selection} }`,
    variables,
  };
}

/** The code of a GraphQL response's only error. */
function codeOf(body: unknown): string | undefined {
  const errors = (body as { errors?: { extensions?: { code?: string } }[] }).errors;
  return errors?.length === 1 ? errors[0]?.extensions?.code : undefined;
}

describe('every GraphQL root field checks its caller before its arguments', () => {
  const server = suiteServer({
    GRAPHQL_INTROSPECTION: 'true',
    GRAPHQL_MAX_COST: '1000000',
    GRAPHQL_MAX_DEPTH: '30',
  });
  let schema: GraphQLSchema;

  beforeAll(async () => {
    const person = await server().person('field-access-reader', 'ClientOrg', 'client');
    const introspection = await server().request('POST', '/graphql', {
      token: person.token,
      body: { query: getIntrospectionQuery() },
    });
    schema = buildClientSchema((introspection.body as { data: IntrospectionQuery }).data);
  });

  /** The API key of a role holding `scope`, with every scope of the role but that one. */
  const keysWithout = new Map<Scope, string>();
  async function keyWithout(scope: Scope): Promise<string> {
    const known = keysWithout.get(scope);
    if (known !== undefined) return known;
    const role = (Object.keys(scopesByRole) as Role[]).find(
      (candidate) => scopesByRole[candidate].includes(scope) && scopesByRole[candidate].length > 1,
    );
    if (role === undefined) throw new Error(`no role holds ${scope} beside another scope`);
    const { key } = await server().accounts.createApiKey(
      {
        name: `without-${scope.replace(':', '-')}`,
        org: organisationOfRole[role],
        role,
        scopes: scopesByRole[role].filter((held) => held !== scope),
      },
      'test',
    );
    keysWithout.set(scope, key);
    return key;
  }

  function rootFields(): { root: 'query' | 'mutation'; field: GraphQLField<unknown, unknown> }[] {
    return [
      ...Object.values(schema.getQueryType()?.getFields() ?? {}).map((field) => ({ root: 'query' as const, field })),
      ...Object.values(schema.getMutationType()?.getFields() ?? {}).map((field) => ({
        root: 'mutation' as const,
        field,
      })),
    ];
  }

  it('answers 403 to a caller without the field’s scope, whatever its arguments, for every query and mutation', async () => {
    const wrongAnswers: string[] = [];
    let checked = 0;
    for (const { root, field } of rootFields()) {
      const access = server().graphqlAccess.get(`${root === 'query' ? 'Query' : 'Mutation'}.${field.name}`);
      // Every signed-in caller may call a `signed-in` field; no scope is missing to refuse it for.
      if (access === undefined || access === 'public' || access === 'signed-in') continue;
      for (const operation of operationsFor(root, field)) {
        const response = await server().request('POST', '/graphql', {
          apiKey: await keyWithout(access),
          body: operation,
        });
        if (response.status !== 403 || codeOf(response.body) !== 'FORBIDDEN') {
          wrongAnswers.push(`${field.name} (needs ${access}): ${response.status} ${response.text.slice(0, 300)}`);
        }
        checked += 1;
      }
    }
    expect(wrongAnswers).toEqual([]);
    expect(checked).toBeGreaterThan(300);
  });

  it('refuses every subscription with 403 to a caller without its scope, whatever its arguments', async () => {
    const wrongAnswers: string[] = [];
    const subscriptions = Object.values(schema.getSubscriptionType()?.getFields() ?? {});
    for (const field of subscriptions) {
      const access = server().graphqlAccess.get(`Subscription.${field.name}`);
      if (access === undefined || access === 'public' || access === 'signed-in') continue;
      // Over server-sent events the document and its variables are the GET's query string.
      const withArguments = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
      const declarations = field.args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
      const query = `subscription${declarations === '' ? '' : ` (${declarations})`} { ${field.name}${withArguments === '' ? '' : `(${withArguments})`} { __typename } }`;
      const variables = JSON.stringify(Object.fromEntries(field.args.map((arg) => [arg.name, { an: 'object' }])));
      const response = await fetch(
        `${server().url}/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(variables)}`,
        { headers: { accept: 'text/event-stream', 'x-api-key': await keyWithout(access) } },
      );
      const body: unknown = await response.json();
      if (response.status !== 403 || codeOf(body) !== 'FORBIDDEN') {
        wrongAnswers.push(`${field.name} (needs ${access}): ${response.status} ${JSON.stringify(body)}`);
      }
    }
    expect(wrongAnswers).toEqual([]);
    expect(subscriptions.length).toBeGreaterThan(1);
  });

  it('answers 401 to a caller without credentials, whatever its arguments, for every field that is not public', async () => {
    const wrongAnswers: string[] = [];
    for (const { root, field } of rootFields()) {
      const access = server().graphqlAccess.get(`${root === 'query' ? 'Query' : 'Mutation'}.${field.name}`);
      if (access === 'public') continue;
      for (const operation of operationsFor(root, field)) {
        const response = await server().request('POST', '/graphql', { body: operation });
        if (response.status !== 401 || codeOf(response.body) !== 'UNAUTHENTICATED') {
          wrongAnswers.push(`${field.name}: ${response.status} ${response.text.slice(0, 300)}`);
        }
      }
    }
    expect(wrongAnswers).toEqual([]);
  });

  it('answers an operation holding a field the caller may call, and refuses the others one by one', async () => {
    const response = await server().request('POST', '/graphql', {
      apiKey: await keyWithout('governance:read'),
      body: { query: '{ me { role } proposals { __typename } }' },
    });
    const body = response.body as { data?: unknown; errors?: { path?: string[]; extensions?: { code?: string } }[] };
    // Executed, not refused at the door: `proposals` is refused alone, null beside its error,
    // and `me` keeps its answer (every root field is nullable, whatever its module declares).
    expect(response.status).toBe(200);
    expect(body.errors?.map((error) => [error.path?.[0], error.extensions?.code])).toEqual([
      ['proposals', 'FORBIDDEN'],
    ]);
    expect(body.data).toEqual({ me: { role: expect.any(String) as unknown }, proposals: null });
  });

  it('answers a signed-in caller naming only fields the schema does not have as a document that does not validate, and a stranger 401', async () => {
    const person = await server().person('field-access-unknown', 'ClientOrg', 'client');
    for (const query of ['{ nonexistentField }', 'mutation { nonexistentMutation }']) {
      const response = await server().request('POST', '/graphql', {
        token: person.token,
        headers: { accept: 'application/graphql-response+json' },
        body: { query },
      });
      expect([response.status, codeOf(response.body)]).toEqual([400, 'GRAPHQL_VALIDATION_FAILED']);
      const stranger = await server().request('POST', '/graphql', { body: { query } });
      expect([stranger.status, codeOf(stranger.body)]).toEqual([401, 'UNAUTHENTICATED']);
    }
  });

  it('refuses a batch holding an operation the caller may call nothing of', async () => {
    const response = await server().request('POST', '/graphql', {
      apiKey: await keyWithout('governance:read'),
      body: [{ query: '{ me { role } }' }, { query: 'query ($id: ID!) { proposal(proposalId: $id) { __typename } }' }],
    });
    expect([response.status, codeOf(response.body)]).toEqual([403, 'FORBIDDEN']);
  });

  it('judges what yoga will run: an empty operation name, a repeated or far-off GET parameter, a fragment defined twice, a public field beside others', async () => {
    const draft = 'mutation ($i: DraftAgreementInput!) { draftAgreement(input: $i) { transactionId } }';
    const governor = await keyWithout('agreements:write');
    // An empty name selects what no name selects, and is remembered apart from nothing.
    for (const operationName of ['', undefined, '']) {
      const response = await server().request('POST', '/graphql', {
        apiKey: governor,
        body: { query: draft, variables: { i: { zzz: 1 } }, ...(operationName === undefined ? {} : { operationName }) },
      });
      expect([operationName, response.status, codeOf(response.body)]).toEqual([operationName, 403, 'FORBIDDEN']);
    }
    const subscription = encodeURIComponent('subscription ($a: ID) { agreementEvents(agreementId: $a) { name } }');
    const badVariables = encodeURIComponent('{"a":{"x":1}}');
    const sse = (search: string) =>
      fetch(`${server().url}/graphql?${search}`, { headers: { accept: 'text/event-stream' } }).then(
        async (response) => [response.status, JSON.stringify(await response.json())] as const,
      );
    const [repeatedStatus, repeated] = await sse(`query=${subscription}&query=%23&variables=${badVariables}`);
    expect([repeatedStatus, repeated]).toEqual([400, expect.stringContaining('"field":"query.query"')]);
    const padding = Array.from({ length: 1000 }, (_, index) => `p${String(index)}=1`).join('&');
    expect(await sse(`${padding}&query=${subscription}&variables=${badVariables}`)).toEqual([
      401,
      expect.stringContaining('UNAUTHENTICATED'),
    ]);
    expect(await sse(`${padding}&query=${subscription}&variables=%7Bx`)).toEqual([
      400,
      expect.stringContaining('"field":"query.variables"'),
    ]);
    expect(await sse(`query=${subscription}&operationName=&variables=${badVariables}`)).toEqual([
      401,
      expect.stringContaining('UNAUTHENTICATED'),
    ]);
    const twice = await server().request('POST', '/graphql', {
      body: {
        query:
          'query ($i: String) { ...F } fragment F on Query { __typename } fragment F on Query { agreement(id: $i) { title } }',
      },
    });
    expect([twice.status, codeOf(twice.body)]).toEqual([401, 'UNAUTHENTICATED']);
    const besidePublic = await server().request('POST', '/graphql', {
      body: {
        query:
          'mutation ($i: DraftAgreementInput!) { createToken(userId: "zz", password: "b") { accessToken } draftAgreement(input: $i) { transactionId } }',
        variables: { i: { a: 1 } },
      },
    });
    expect([besidePublic.status, codeOf(besidePublic.body)]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('declares the access of every root field the schema has, and of no other', () => {
    const fields = [
      ...Object.keys(schema.getQueryType()?.getFields() ?? {}).map((name) => `Query.${name}`),
      ...Object.keys(schema.getMutationType()?.getFields() ?? {}).map((name) => `Mutation.${name}`),
      ...Object.keys(schema.getSubscriptionType()?.getFields() ?? {}).map((name) => `Subscription.${name}`),
    ];
    expect([...server().graphqlAccess.keys()].sort()).toEqual(fields.sort());
  });
});

describe('a refusal’s field over GraphQL', () => {
  const server = suiteServer();

  it('is named under input when the caller sent it there, and stays bare when it is an argument of its own', async () => {
    const desk = await server().person('refusal-naming-desk', 'ClientOrg', 'settlement');
    const answer = { instructionId: 'I-1', outcome: 'paid', providerReference: 'ref-1' };
    const graphql = await server().request('POST', '/graphql', {
      token: desk.token,
      body: {
        query: 'mutation ($input: ConfirmRoyaltyPayoutInput!) { confirmRoyaltyPayout(input: $input) { __typename } }',
        variables: { input: { grantId: 'G-404', periodId: 'fee', ...answer } },
      },
    });
    expect((graphql.body as { errors: { extensions: unknown }[] }).errors[0]?.extensions).toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
      field: 'input.periodId',
    });
    const rest = await server().request('POST', '/v1/licensing/grants/G-404/periods/fee/settlement-confirmations', {
      token: desk.token,
      body: answer,
    });
    expect(rest.body).toMatchObject({ code: 'NOT_FOUND', field: 'path.periodId' });

    const owner = await server().person('refusal-naming-owner', 'ClientOrg', 'client');
    const consent = await server().request('POST', '/graphql', {
      token: owner.token,
      body: { query: 'mutation { consentToLicenceOffer(offerId: "O-404") { __typename } }' },
    });
    expect((consent.body as { errors: { extensions: unknown }[] }).errors[0]?.extensions).toMatchObject({
      code: 'NOT_FOUND',
      field: 'offerId',
    });
  });
});

describe('declared access', () => {
  const typeDefs = 'type Query { open: String, guarded(id: String!): String } type Mutation { change: String }';
  const resolvers = { Query: { open: () => 'o', guarded: () => 'g' }, Mutation: { change: () => 'c' } };

  it('is required of every root field of the schema, once, and only of fields the schema has', () => {
    const schema = buildSchema(typeDefs);
    const module = (access: SchemaModule['access']): SchemaModule => ({ typeDefs, resolvers, access });
    const complete = module({
      Query: { open: 'public', guarded: 'agreements:read' },
      Mutation: { change: 'agreements:write' },
    });
    expect([...declaredAccess(schema, [complete]).entries()]).toEqual([
      ['Query.open', 'public'],
      ['Query.guarded', 'agreements:read'],
      ['Mutation.change', 'agreements:write'],
    ]);
    expect(() => declaredAccess(schema, [module({ Query: { open: 'public', guarded: 'agreements:read' } })])).toThrow(
      'GraphQL field Mutation.change declares no access',
    );
    expect(() =>
      declaredAccess(schema, [complete, { typeDefs: '', resolvers: {}, access: { Query: { open: 'public' } } }]),
    ).toThrow('GraphQL field Query.open declares its access in two modules');
    expect(() =>
      declaredAccess(schema, [
        module({
          Query: { open: 'public', guarded: 'agreements:read', gone: 'admin' },
          Mutation: { change: 'agreements:write' },
        }),
      ]),
    ).toThrow('GraphQL field Query.gone declares its access but is not in the schema');
  });

  it('is required of every resolver before the server starts', () => {
    expect(() => guardingRootFields([{ typeDefs, resolvers, access: { Query: { open: 'public' } } }])).toThrow(
      'GraphQL field Query.guarded has a resolver but declares no access',
    );
  });
});
