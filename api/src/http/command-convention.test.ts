import { buildSchema, getNamedType, isInputObjectType, isObjectType, type GraphQLField } from 'graphql';
import { z } from 'zod';
import * as model from '@gigledger/chaincode/model';
import { agreementTransactions, type TransactionSpec } from '@gigledger/chaincode/model';
import { apiSchemaSdl } from '../cli/print-schema.js';
import { startTestServer } from '../test-support/test-server.js';

/*
 * One command convention (issue 8, item 2): every transaction that changes the ledger
 * takes a request id, every REST command accepts it in the body or as Idempotency-Key and
 * answers with it, and every GraphQL command mutation takes it and answers with it.
 */

/** Every contract's transaction table the model exports (`agreementTransactions`, …). */
const contracts = Object.entries(model)
  .filter(([name]) => name.endsWith('Transactions'))
  .map(([, transactions]) => transactions);

function submitted(): TransactionSpec<z.ZodType, z.ZodType>[] {
  return contracts.flatMap((transactions) =>
    Object.values(transactions as Record<string, TransactionSpec<z.ZodType, z.ZodType>>).filter(
      (spec) => spec.kind === 'submit',
    ),
  );
}

describe('the request id of every command', () => {
  it('is part of the request of every submitted transaction that takes an argument', () => {
    const specs = submitted();
    expect(specs.length).toBeGreaterThan(50);
    const without = specs
      .filter((spec) => spec.request instanceof z.ZodObject && Object.keys(spec.request.shape).length > 0)
      .filter((spec) => !('requestId' in (spec.request as z.ZodObject).shape))
      .map((spec) => `${spec.contract}:${spec.name}`);
    expect(without).toEqual([]);
    // Only genesis sealing, run once by the network's bootstrap, takes nothing at all.
    const takingNothing = specs
      .filter((spec) => spec.request instanceof z.ZodObject && Object.keys(spec.request.shape).length === 0)
      .map((spec) => `${spec.contract}:${spec.name}`);
    expect(takingNothing).toEqual(['governance:sealGenesis']);
  });

  it('is optional where the request names nothing it creates, and parsed with the house rules', () => {
    const accept = agreementTransactions.acceptMilestone.request;
    expect(accept.safeParse({ agreementId: 'A-1', milestoneId: 'm1' }).success).toBe(true);
    expect(accept.safeParse({ agreementId: 'A-1', milestoneId: 'm1', requestId: 'req-accept-1' }).success).toBe(true);
    const tooShort = accept.safeParse({ agreementId: 'A-1', milestoneId: 'm1', requestId: 'x' });
    expect(tooShort.error?.issues[0]).toMatchObject({ path: ['requestId'], message: 'must be at least 8 characters' });
    // The shared evaluate request is untouched: reads take no request id.
    const history = agreementTransactions.getMilestoneHistory.request;
    expect(history.safeParse({ agreementId: 'A-1', milestoneId: 'm1', requestId: 'req-accept-1' }).success).toBe(false);
  });

  it('keeps a request’s own refinements', () => {
    const vote = agreementTransactions.castDisputeVote.request;
    const parsed = vote.safeParse({
      requestId: 'req-vote-0001',
      agreementId: 'A-1',
      milestoneId: 'm1',
      escrowAmount: { amount: '100', currency: 'EUR' },
      clientShare: '60',
      freelancerShare: '60',
      reason: 'split',
    });
    expect(parsed.success).toBe(false);
  });
});

describe('every REST command in the OpenAPI document', () => {
  type Operation = {
    operationId: string;
    parameters?: { name: string; in: string }[];
    requestBody?: { content: { 'application/json': { schema: unknown } } };
    responses: Record<string, { content?: { 'application/json'?: { schema: unknown } } }>;
  };
  let operations: Operation[];
  let document: Record<string, unknown>;

  beforeAll(async () => {
    const server = await startTestServer();
    try {
      document = (await server.request('GET', '/openapi.json')).body as Record<string, unknown>;
    } finally {
      await server.close();
    }
    // Commands change the ledger; a GET (e.g. an indexed transaction) only shows one.
    operations = Object.values(document.paths as Record<string, Record<string, Operation>>).flatMap((path) =>
      Object.entries(path)
        .filter(([method]) => method !== 'get')
        .map(([, operation]) => operation),
    );
  });

  function resolved(schema: unknown): Record<string, unknown> {
    const ref = (schema as { $ref?: string }).$ref;
    if (ref === undefined) return schema as Record<string, unknown>;
    return ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<Record<string, unknown>>((node, segment) => node[segment] as Record<string, unknown>, document);
  }

  function answersEnvelope(operation: Operation): boolean {
    return Object.entries(operation.responses).some(([status, response]) => {
      const schema = response.content?.['application/json']?.schema;
      if (Number(status) >= 300 || schema === undefined) return false;
      const properties = resolved(schema).properties as Record<string, unknown> | undefined;
      return properties !== undefined && 'transactionId' in properties && 'blockNumber' in properties;
    });
  }

  it('takes a request id in its body or the Idempotency-Key header, and answers with it', () => {
    const commands = operations.filter(answersEnvelope);
    expect(commands.length).toBeGreaterThan(40);
    const faults = commands.flatMap((operation) => {
      const found: string[] = [];
      if (!(operation.parameters ?? []).some((p) => p.in === 'header' && p.name === 'Idempotency-Key')) {
        found.push(`${operation.operationId}: no Idempotency-Key header`);
      }
      const body = operation.requestBody?.content['application/json'].schema;
      const bodyProperties = body === undefined ? undefined : (resolved(body).properties as object | undefined);
      if (bodyProperties === undefined || !('requestId' in bodyProperties)) {
        found.push(`${operation.operationId}: no requestId in the body`);
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        const schema = response.content?.['application/json']?.schema;
        if (Number(status) >= 300 || schema === undefined) continue;
        if (!((resolved(schema).required as string[] | undefined) ?? []).includes('requestId')) {
          found.push(`${operation.operationId}: ${status} answer without a required requestId`);
        }
      }
      return found;
    });
    expect(faults).toEqual([]);
  });

  it('covers every operation that submits a transaction: the others change no ledger state a client asks for', () => {
    const others = operations
      .filter((operation) => !answersEnvelope(operation))
      .map((operation) => operation.operationId);
    // Read-log anchoring submits a transaction for the caller, so it is a command, not one of these.
    expect(others).not.toContain('anchorReadLog');
    expect(others.sort()).toEqual(
      [
        // Accounts and keys (the server's database and its CA).
        'createToken',
        'createUser',
        'createApiKey',
        'revokeApiKey',
        'revokeToken',
        // Reads and checks sent as POST bodies.
        'verifyAgreementTerms',
        'createPresentation',
        'verifyPresentation',
        'verifyCredentialDocument',
        'exportReputationStatement',
        'verifyReputationStatement',
        // Off the ledger (payout accounts never reach it), and a provider's signed callback, idempotent by its own webhook id.
        'registerPayoutAccount',
        'receiveProviderCallback',
      ].sort(),
    );
  });
});

describe('every GraphQL command mutation', () => {
  it('takes a requestId (as an argument or in its input) and answers one that is never null', () => {
    const schema = buildSchema(apiSchemaSdl());
    const mutations = Object.values(schema.getMutationType()?.getFields() ?? {}) as GraphQLField<unknown, unknown>[];
    const commandPayload = schema.getType('CommandPayload');
    const commands = mutations.filter((field) => {
      const payload = getNamedType(field.type);
      return isObjectType(payload) && payload.getInterfaces().some((face) => face === commandPayload);
    });
    expect(commands.length).toBeGreaterThan(35);
    const faults = commands.flatMap((field) => {
      const takes = field.args.some((arg) => {
        if (arg.name === 'requestId') return true;
        const input = getNamedType(arg.type);
        // A JSON input is the REST body of the same command (checked above), requestId included.
        if (input.name === 'JSON' && arg.name === 'input') return true;
        return isInputObjectType(input) && 'requestId' in input.getFields();
      });
      const payload = getNamedType(field.type);
      const answers = isObjectType(payload) && String(payload.getFields().requestId?.type) === 'String!';
      return [
        ...(takes ? [] : [`${field.name}: takes no requestId`]),
        ...(answers ? [] : [`${field.name}: answers none`]),
      ];
    });
    expect(faults).toEqual([]);
  });
});
