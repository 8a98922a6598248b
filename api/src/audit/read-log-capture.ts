import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  print,
  type DefinitionNode,
  type DocumentNode,
  type ExecutionArgs,
  type FieldNode,
  type OperationDefinitionNode,
  parse,
  valueFromASTUntyped,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { graphqlRequestBytes, maxDocumentTokens } from '../graphql/graphql-http.js';
import type { AuditRecordKind } from '@gigledger/chaincode/model';
import type { Principal } from '../auth/principal.js';
import type { GraphqlContext, SchemaModule } from '../graphql/context.js';
import { errorBody } from '../errors/error-handler.js';
import { rootFieldNodes } from '../graphql/root-fields.js';
import { kindsOf, type ObservedRead, type ReadRecorder } from './read-recorder.js';
import { subjectsOfRead, type ReadSubjects } from './read-subjects.js';
import { heldBodyRefusal } from '../http/json-bodies.js';
import type { RequestWithRawBody, RouteSpec } from '../http/route.js';

/**
 * Logs every REST read under `/v1` by an auditor or HR system, refusals included, before
 * its answer leaves: `response.json` is held until the row is written, and a read that
 * cannot be logged is answered 503 instead. One middleware for every route. A read is a
 * GET or HEAD, or a POST its route declares one ({@link RouteSpec.reads}: a document
 * checked against the ledger, a statement exported), whose body is then among the
 * arguments the row hashes. HEAD runs the GET route without sending its body, but its
 * status, length and ETag tell whether a record exists and when it changed, so it is a
 * read like any other.
 */
export function restReadLog(recorder: ReadRecorder, routes: readonly RouteSpec[]): RequestHandler {
  const readsByPost = new Set(
    routes.filter((spec) => spec.reads === true).map((spec) => `${spec.method.toUpperCase()} ${spec.path}`),
  );
  return (request: Request, response: Response, next: NextFunction) => {
    const principal: Principal | undefined = response.locals.principal;
    const byGet = request.method === 'GET' || request.method === 'HEAD';
    if ((!byGet && readsByPost.size === 0) || !recorder.logs(principal)) {
      next();
      return;
    }
    const send = response.json.bind(response);
    response.json = (body: unknown) => {
      const route: unknown = request.route;
      const template =
        typeof route === 'object' && route !== null && 'path' in route && typeof route.path === 'string'
          ? route.path
          : undefined;
      const path = `${request.baseUrl}${template ?? request.path}`;
      // Which route answers is known only once Express has matched one.
      if (!byGet && !readsByPost.has(`${request.method} ${path}`)) return send(body);
      // A body refused before it was read as JSON (not JSON, a repeated member, too deep,
      // another media type, too large) is hashed as the text received, or null when none was read.
      const bodyRefused = heldBodyRefusal(request) !== undefined;
      const bodyArgument = bodyRefused
        ? { body: (request as RequestWithRawBody).rawBody?.toString('utf8') ?? null }
        : byGet
          ? {}
          : { body: request.body as unknown };
      const segments = path
        .split('/')
        .filter((segment) => segment !== '' && segment !== 'v1' && !segment.startsWith(':'));
      // A record proof's kind is a parameter (`/proofs/records/:kind/:id`): the record's kind is read too.
      const kind = routeParams(request, response).kind;
      const named =
        template === undefined ? segments.slice(0, 1) : [...segments, ...(typeof kind === 'string' ? [kind] : [])];
      const status = statusAsSent(request, response, body);
      // The path as its route spells it, the parameters filled in: Express matches a path
      // whatever its letters' case (and an absolute-form request line), and the records a
      // read names must be found however the caller wrote them.
      const pathNamed = template === undefined ? path : routePath(path, routeParams(request, response));
      const queryNames = queryParameterNames[path];
      const query: unknown = queryNames === undefined ? request.query : renamed(request.query, queryNames);
      const argumentsNamed = byGet ? query : { query, ...bodyArgument };
      // A route checks its path before its query and body: a read refused for either of
      // those named its path's record validly, and concerns that record's organisations,
      // which are looked up; of the refused part only the organisations it named are kept.
      const refusedField = [400, 413, 415, 422].includes(status) ? fieldOf(body) : undefined;
      const refusedPastPath = template !== undefined && refusedField !== undefined && !/^path\b/.test(refusedField);
      const subjects = subjectsOfRead({ path: pathNamed, arguments: argumentsNamed });
      recorder
        .record(
          {
            principal,
            operation: `${request.method} ${path}`,
            arguments: { path: request.path, query: request.query as unknown, ...bodyArgument },
            kinds: path === instructionRoute ? instructionKinds(subjects) : kindsOf(named),
            answers: status >= 400 ? [] : [body],
            status,
            ...(refusedPastPath ? { inputRefused: false } : bodyRefused ? { inputRefused: true } : {}),
            subjects: refusedPastPath
              ? { organisations: subjects.organisations, targets: subjectsOfRead({ path: pathNamed }).targets }
              : subjects,
          },
          response.locals.log,
        )
        .then(
          () => send(body),
          (error: unknown) => {
            // A read the server could not answer itself (the ledger down) disclosed nothing:
            // its own failure is the more useful answer.
            if (status >= 500) return send(body);
            const mapped = errorBody(error, response.locals.requestId);
            // The withheld answer's ETag would tell, unlogged, whether the record changed.
            response.removeHeader('ETag');
            response.status(mapped.status);
            send(mapped);
          },
        );
      return response;
    };
    next();
  };
}

/**
 * The matched route's parameters: kept by the route as it starts (see `mountRoutes`),
 * since Express gives `request.params` back to the application's once a route's error
 * leaves its router.
 */
function routeParams(request: Request, response: Response): Record<string, unknown> {
  return (response.locals.routeParams as Record<string, unknown> | undefined) ?? request.params;
}

/**
 * A route's path with its parameters filled in, each percent-encoded as a path segment
 * (`/v1/settlement/instructions/:instructionId` with `A-1/m1/release-1` gives
 * `/v1/settlement/instructions/A-1%2Fm1%2Frelease-1`).
 */
function routePath(template: string, params: Record<string, unknown>): string {
  return template.replace(/:(\w+)/g, (whole, name: string) => {
    const value = params[name];
    return typeof value === 'string' ? encodeURIComponent(value) : whole;
  });
}

// A payout instruction is part of the record it pays out of: its route answers whoever may
// read that record, under the grants that open it.
const instructionRoute = '/v1/settlement/instructions/:instructionId';

/** The record kinds of the records an instruction's id names: an agreement's, or a licence's (royalties and fees). */
function instructionKinds(subjects: ReadSubjects): AuditRecordKind[] {
  const kinds = subjects.targets.map((target) => (target.kind === 'licenceGrant' ? 'licensing' : 'agreement'));
  return kinds.length === 0 ? ['agreement'] : [...new Set(kinds)];
}

/** The field an error answer names (`body.terms`, `path.agreementId`), or undefined when it names none. */
function fieldOf(answer: unknown): string | undefined {
  const field = (answer as { field?: unknown } | null)?.field;
  return typeof field === 'string' ? field : undefined;
}

/**
 * The status the answer will leave with. Express answers 304 Not Modified to a conditional
 * GET or HEAD whose `If-None-Match` matches the body's ETag, which it computes only as it
 * sends; the ETag is computed here with Express's own function and set, so the row and the
 * answer agree. A 304 keeps the answer in the row: the reader learns the record they hold is current.
 */
function statusAsSent(request: Request, response: Response, body: unknown): number {
  // Only a conditional request can be answered 304; any other keeps its status, and
  // Express computes its ETag as it sends, without the body being serialised twice.
  const conditional =
    request.headers['if-none-match'] !== undefined || request.headers['if-modified-since'] !== undefined;
  if (!conditional || response.statusCode < 200 || response.statusCode >= 300) return response.statusCode;
  const etagOf = request.app.get('etag fn') as ((body: Buffer) => string | undefined) | undefined;
  if (response.get('ETag') === undefined && etagOf !== undefined) {
    // Express keeps an ETag already set, so its 304 and this row rest on the same one.
    const text = JSON.stringify(body) as string | undefined;
    const etag = etagOf(Buffer.from(text ?? '', 'utf8'));
    if (etag !== undefined) response.set('ETag', etag);
  }
  return request.fresh ? 304 : response.statusCode;
}

/** The root fields' names, each once, through fragments: what the row says was read. */
function rootFields(fields: readonly FieldNode[]): string[] {
  return [...new Set(fields.map((field) => field.name.value))];
}

// Root field arguments (at any depth: a filter's too) whose plain name says less than the
// field does (`agreement(id:)`, a licence's `grantId` beside a dataset's), named as
// `subjectsOfRead` knows them.
export const argumentNames: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  agreement: { id: 'agreementId' },
  licenceGrant: { grantId: 'licenceGrantId' },
  royaltyPeriod: { grantId: 'licenceGrantId' },
  indexedRoyaltyPeriods: { grantId: 'licenceGrantId' },
  datasetGrant: { grantId: 'datasetGrantId' },
  datasetAccessLog: { grantId: 'datasetGrantId' },
  indexedDatasetAccessLog: { grantId: 'datasetGrantId' },
};

// The same for REST query parameters, by route.
const queryParameterNames: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '/v1/index/royalty-periods': { grantId: 'licenceGrantId' },
};

/** The value with the keys `names` renames renamed, at every depth. */
function renamed(value: unknown, names: Readonly<Record<string, string>>): unknown {
  if (Array.isArray(value)) return value.map((item) => renamed(item, names));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, child]) => [names[key] ?? key, renamed(child, names)]));
}

/** The record kinds root fields name in a top-level `kind` argument (`recordProof(kind:)`). */
function recordKindsOf(argumentsOfFields: unknown[]): string[] {
  return argumentsOfFields.flatMap((each) => {
    const kind = (each as { kind?: unknown }).kind;
    return typeof kind === 'string' ? [kind] : [];
  });
}

/** Each root field's arguments, variables filled in: what the read asked about, whatever it answered. */
function rootArguments(fields: readonly FieldNode[], variables: Record<string, unknown>): unknown[] {
  return fields.map((field) => {
    const values = Object.fromEntries(
      (field.arguments ?? []).map((argument) => [argument.name.value, valueFromASTUntyped(argument.value, variables)]),
    );
    const names = argumentNames[field.name.value];
    return names === undefined ? values : renamed(values, names);
  });
}

/**
 * The operation's variables as graphql-js runs it: those sent, and the default the
 * document gives each one not sent, so an id given as a default is named as one sent is.
 */
function variablesWithDefaults(
  operation: OperationDefinitionNode,
  sent: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const variables: Record<string, unknown> = { ...sent };
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (!(name in variables) && definition.defaultValue !== undefined) {
      variables[name] = valueFromASTUntyped(definition.defaultValue);
    }
  }
  return variables;
}

// What each root query field's resolver returned, whole, per operation context: the
// answer the caller sees holds only the fields it selected, and an auditor must not
// keep a read out of an organisation's log by leaving its MSP id unselected.
const rootResults = new WeakMap<object, { readonly field: string; readonly result: unknown }[]>();

// Yoga's parser cache hands the same document object to every request with the same
// query text, so each operation is printed once for the digest of its arguments.
const printed = new WeakMap<OperationDefinitionNode, string>();

/** The operation's text for the digest, followed by the document's fragments when it has any: they select what is read too. */
function printedOnce(document: DocumentNode, operation: OperationDefinitionNode): string {
  let text = printed.get(operation);
  if (text === undefined) {
    const fragments = document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION);
    text = [operation, ...fragments].map((definition) => print(definition)).join('\n\n');
    printed.set(operation, text);
  }
  return text;
}

type Resolver = (parent: unknown, args: unknown, context: object, info: unknown) => unknown;

/**
 * The schema modules with every root query resolver wrapped to keep its whole result
 * for {@link graphqlReadLog}.
 */
export function keepingRootResults(modules: readonly SchemaModule[]): SchemaModule[] {
  return modules.map((module) => {
    const query = module.resolvers.Query as Record<string, unknown> | undefined;
    if (query === undefined) return module;
    const wrapped = Object.fromEntries(
      Object.entries(query).map(([name, resolver]) => [
        name,
        typeof resolver !== 'function'
          ? resolver
          : async (parent: unknown, args: unknown, context: object, info: unknown) => {
              const result = await (resolver as Resolver)(parent, args, context, info);
              rootResults.set(context, [...(rootResults.get(context) ?? []), { field: name, result }]);
              return result;
            },
      ]),
    );
    return { ...module, resolvers: { ...module.resolvers, Query: wrapped } };
  });
}

/**
 * The root fields' results as the read log takes them: those of fields naming a record
 * kind as the answers it counts, the others (`me`, `chaincodeVersion`, `auditGrants`) for
 * the organisations they name only. Without kept results (no resolver ran), the answer's
 * `data`, counted.
 */
function answersOf(
  kept: readonly { readonly field: string; readonly result: unknown }[] | undefined,
  data: Record<string, unknown> | null | undefined,
): { answers: unknown[]; notRecords: unknown[] } {
  if (kept === undefined) return { answers: Object.values(data ?? {}), notRecords: [] };
  const ofRecords = (field: string) => kindsOf([field]).length > 0;
  return {
    answers: kept.filter(({ field }) => ofRecords(field)).map(({ result }) => result),
    notRecords: kept.filter(({ field }) => !ofRecords(field)).map(({ result }) => result),
  };
}

/** What an operation read, for a row: its root fields through fragments, its digested arguments and kinds. */
function operationRead(
  args: Pick<ExecutionArgs, 'document' | 'variableValues'>,
  operation: OperationDefinitionNode,
): Pick<ObservedRead, 'operation' | 'arguments' | 'kinds' | 'subjects'> {
  const fieldNodes = rootFieldNodes(args.document, operation.selectionSet);
  const fields = rootFields(fieldNodes);
  const askedAbout = rootArguments(fieldNodes, variablesWithDefaults(operation, args.variableValues ?? {}));
  return {
    operation: `graphql ${operation.operation} ${fields.join(',')}`,
    arguments: { document: printedOnce(args.document, operation), variables: args.variableValues ?? {} },
    kinds: kindsOf([...fields, ...recordKindsOf(askedAbout)]),
    subjects: subjectsOfRead({ arguments: askedAbout }),
  };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What one GraphQL request, refused before it executed, asked to read: its operation named
 * as an executed read's is when its document parses, else undefined. `'mutation'` when it
 * is a mutation, which reads nothing.
 */
function refusedOperation(entry: unknown): ReturnType<typeof operationRead> | 'mutation' | undefined {
  if (!isPlainObject(entry) || typeof entry.query !== 'string') return undefined;
  let document: DocumentNode;
  try {
    document = parse(entry.query, { maxTokens: maxDocumentTokens });
  } catch {
    return undefined;
  }
  const operationName = typeof entry.operationName === 'string' ? entry.operationName : undefined;
  // Several operations and no name: none of them was chosen, a mutation first or not.
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  if (operationName === undefined && operations.length > 1) return undefined;
  const operation = operationOf({ document, operationName });
  if (operation === undefined) return undefined;
  if (operation.operation === OperationTypeNode.MUTATION) return 'mutation';
  const variables = isPlainObject(entry.variables) ? entry.variables : {};
  return operationRead({ document, variableValues: variables }, operation);
}

/**
 * A refused GraphQL request's row, as far as it can be told what it read: a single
 * operation whose document parses is named as an executed read is; anything else (a
 * document that does not parse, a body that is no GraphQL request, a batch) is `graphql
 * request`, with the request as received (`received`) hashed. Undefined when every
 * operation it holds is a mutation.
 */
function refusedRead(
  requests: unknown,
  received: unknown,
): Pick<ObservedRead, 'operation' | 'arguments' | 'kinds' | 'subjects'> | undefined {
  const entries = Array.isArray(requests) ? requests : [requests];
  const operations = entries.map(refusedOperation);
  if (operations.length > 0 && operations.every((operation) => operation === 'mutation')) return undefined;
  const [single] = operations;
  if (!Array.isArray(requests) && single !== undefined && single !== 'mutation') return single;
  return { operation: 'graphql request', arguments: { request: received ?? null }, kinds: [] };
}

/**
 * Logs a GraphQL request by an auditor or HR system that the HTTP gate refused before any
 * operation ran (a body that is not JSON or no GraphQL request, another media type, a
 * document nested too deep, variables with a lone surrogate, a root field the caller's
 * role may not ask for, a batch too large), answered like a refused REST read: the
 * refusal leaves once its row is written, or as 503 when it cannot be. A rate limit's
 * refusal (429) is no read, and is not logged: a row for each would let a caller write
 * past its limit. A request holding only mutations reads nothing.
 */
export function graphqlRefusalReadLog(recorder: ReadRecorder): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const principal: Principal | undefined = response.locals.principal;
    if (!recorder.logs(principal)) {
      next();
      return;
    }
    const send = response.json.bind(response);
    response.json = (body: unknown) => {
      const status = response.statusCode;
      if (status < 400 || status >= 500 || status === 429) return send(body);
      const bytes = graphqlRequestBytes(request);
      // A POST's body may not have parsed (the parser then leaves `{}`): the bytes say what was sent.
      const requests: unknown = request.method === 'GET' ? getRequestOf(request.query) : request.body;
      const received = bytes?.toString('utf8') ?? (request.method === 'GET' ? request.query : null);
      const read = refusedRead(requests, received);
      if (read === undefined) return send(body);
      recorder.record({ principal, ...read, answers: [], status, inputRefused: true }, response.locals.log).then(
        () => send(body),
        (error: unknown) => {
          const mapped = errorBody(error, response.locals.requestId);
          response.status(mapped.status);
          send(mapped);
        },
      );
      return response;
    };
    next();
  };
}

/** A GET's GraphQL request from its query string, `variables` parsed when it is JSON. */
function getRequestOf(query: unknown): unknown {
  if (!isPlainObject(query)) return undefined;
  let variables: unknown;
  try {
    variables = typeof query.variables === 'string' ? (JSON.parse(query.variables) as unknown) : undefined;
  } catch {
    variables = undefined;
  }
  return { ...query, variables };
}

/**
 * Logs every GraphQL query by an auditor or HR system once it has executed, with the
 * operation's root fields, its document and variables (digested) and what it answered,
 * and every subscription of theirs (its opening, then each event). When the row cannot be
 * written the answer (or the event) is replaced by the error.
 */
export function graphqlReadLog(recorder: ReadRecorder): Plugin<GraphqlContext> {
  // The operations that reached execution (their contexts): those that did not were
  // refused by parsing, validation or a document limit, and are logged once answered.
  const executed = new WeakSet<object>();
  /** The execution, its logged reader and its operation when it is of `kind` and its caller's reads are logged. */
  const loggedOperation = (untyped: unknown, kind: OperationTypeNode) => {
    const args = untyped as ExecutionArgs & { contextValue: GraphqlContext };
    executed.add(args.contextValue);
    const principal = args.contextValue.principal;
    const operation = operationOf(args);
    if (operation?.operation !== kind || !recorder.logs(principal)) return undefined;
    return { args, context: args.contextValue, principal, operation };
  };
  return {
    // An operation refused before it executed (a document that does not parse or
    // validate, one past a depth, cost, alias or token limit) is logged as the HTTP gate's
    // refusals are, once per operation of a batch.
    async onExecutionResult(payload) {
      const { result } = payload;
      const context = payload.context as unknown as { readonly res?: Response; readonly params?: unknown };
      if (executed.has(context) || result === undefined || Symbol.asyncIterator in result) return;
      const locals = context.res?.locals;
      const principal: Principal | undefined = locals?.principal;
      if (locals === undefined || !recorder.logs(principal)) return;
      const read = refusedRead(context.params, context.params ?? null);
      if (read === undefined) return;
      try {
        await recorder.record(
          { principal, ...read, answers: [], status: statusOf(result), inputRefused: true },
          locals.log,
        );
      } catch (error) {
        payload.setResult(unloggedResult(error, { requestId: locals.requestId }));
      }
    },
    onExecute({ args: untyped }) {
      const logged = loggedOperation(untyped, OperationTypeNode.QUERY);
      if (logged === undefined) return undefined;
      const { args, context, principal, operation } = logged;
      return {
        async onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          const status = statusOf(result);
          try {
            await recorder.record(
              {
                principal,
                ...operationRead(args, operation),
                ...answersOf(rootResults.get(context), result.data),
                status,
                inputRefused: onlyInputRefused(result, rootResults.get(context)),
              },
              context.log,
            );
          } catch (error) {
            setResult(unloggedResult(error, context));
          }
        },
      };
    },
    // A subscription is a read that goes on: the row of its opening (what it asked
    // about, whom that concerns, under which grants) is written before its first event
    // leaves, and each event it delivers is a row of its own, so a live feed is accounted
    // for as the same records read one by one would be.
    onSubscribe({ args: untyped }) {
      const logged = loggedOperation(untyped, OperationTypeNode.SUBSCRIPTION);
      if (logged === undefined) return undefined;
      const { args, context, principal, operation } = logged;
      const read = operationRead(args, operation);
      return {
        onSubscribeResult({ result, setResult }) {
          const refused = !(Symbol.asyncIterator in result);
          const opened = recorder.record(
            { principal, ...read, answers: [], status: refused ? statusOf(result) : 200 },
            context.log,
          );
          // Handled here too: a stream that never delivers an event never awaits it, and an
          // unhandled rejection would end the process. The first event answers the failure.
          opened.catch(() => undefined);
          if (refused) {
            // Nothing streams: the refusal leaves once its row is written (or as the log's failure).
            setResult(
              opened.then(
                () => result,
                (error: unknown) => unloggedResult(error, context),
              ) as never,
            );
            return undefined;
          }
          return {
            async onNext({ result: event, setResult: setEvent }) {
              try {
                await opened;
                await recorder.record(
                  { principal, ...read, answers: Object.values(event.data ?? {}), status: statusOf(event) },
                  context.log,
                );
              } catch (error) {
                setEvent(unloggedResult(error, context));
              }
            },
          };
        },
      };
    },
  };
}

/** The operation an execution runs: the one named, or the document's only one. */
function operationOf(
  args: Pick<ExecutionArgs, 'document'> & { readonly operationName?: string | null | undefined },
): OperationDefinitionNode | undefined {
  return args.document.definitions.find(
    (definition: DefinitionNode): definition is OperationDefinitionNode =>
      definition.kind === Kind.OPERATION_DEFINITION &&
      (args.operationName == null || definition.name?.value === args.operationName),
  );
}

/**
 * The status a GraphQL answer stands for: 200 without errors; 207 when some root fields
 * answered and others were refused (the read disclosed records, which its audited
 * organisation must see as a read that answered, not as a failure); else its first
 * error's (400 when it declares none).
 */
function statusOf(result: {
  readonly errors?: readonly unknown[] | undefined;
  readonly data?: Record<string, unknown> | null | undefined;
}): number {
  const errors = (result.errors ?? []) as readonly GraphQLError[];
  if (errors.length === 0) return 200;
  const answered = Object.values(result.data ?? {}).some((value) => value !== null && value !== undefined);
  if (answered) return 207;
  const declared = errors[0]?.extensions.status;
  return typeof declared === 'number' ? declared : 400;
}

/**
 * Whether the operation answered nothing and every error refused its input (400, 422):
 * then it asked the ledger about nothing. One field refused for its input beside another
 * refused as missing (404) is not: the other field asked about a record by id.
 */
function onlyInputRefused(
  result: { readonly errors?: readonly unknown[] | undefined },
  kept: readonly unknown[] | undefined,
): boolean {
  const errors = (result.errors ?? []) as readonly GraphQLError[];
  return (
    (kept ?? []).length === 0 &&
    errors.length > 0 &&
    errors.every((error) => [400, 422, undefined].includes(error.extensions.status as number | undefined))
  );
}

/** What the caller gets instead of an answer the read log could not account for. */
function unloggedResult(error: unknown, context: Pick<GraphqlContext, 'requestId'>) {
  const mapped = errorBody(error, context.requestId);
  return {
    errors: [
      new GraphQLError(mapped.message, {
        extensions: { code: mapped.code, status: mapped.status, requestId: context.requestId },
      }),
    ],
  };
}
