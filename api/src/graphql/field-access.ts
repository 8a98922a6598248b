import {
  getOperationAST,
  GraphQLError,
  parse,
  type DocumentNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { RequestHandler } from 'express';
import { forbidden, unauthenticated } from '../errors/api-error.js';
import { refuseControlText } from '../http/route.js';
import { getParameters } from './get-parameters.js';
import { rootFieldNodes } from './root-fields.js';
import {
  graphqlErrorOf,
  requireAuthenticated,
  requireCaller,
  rootTypeNames,
  type FieldAccess,
  type GraphqlContext,
  type RootTypeName,
  type SchemaModule,
} from './context.js';

type Resolver = (parent: unknown, args: unknown, context: GraphqlContext, info: unknown) => unknown;

/**
 * @throws GraphQLError FORBIDDEN (403) or UNAUTHENTICATED (401) when the caller may not
 *   call a field of this access.
 */
function checkAccess(context: GraphqlContext, access: FieldAccess): void {
  if (access === 'public') return;
  try {
    if (access === 'signed-in') requireAuthenticated(context);
    else requireCaller(context, access);
  } catch (error) {
    throw graphqlErrorOf(context, error);
  }
}

/**
 * Refuses arguments holding a control or bidirectional formatting character, as REST
 * refuses such a body, whichever way the resolver reads them (the arguments are the top
 * level of a GraphQL request, so the field is named by its own path: `input.title`).
 *
 * @throws GraphQLError VALIDATION_FAILED (422).
 */
function checkText(context: GraphqlContext, args: unknown, verbatim: boolean): void {
  if (verbatim) return;
  try {
    refuseControlText(args, []);
  } catch (error) {
    throw graphqlErrorOf(context, error);
  }
}

const hasKey = (value: unknown, key: string): boolean =>
  typeof value === 'object' && value !== null && Object.hasOwn(value, key);

/**
 * The error with the field it names put under `input` when the caller sent that field
 * inside the `input` argument: a refusal of the ledger or a service names the request's
 * own field (`agreementId`), which a caller of a mutation taking `input` sent as
 * `input.agreementId`, as REST names it `body.agreementId`. A field that is an argument
 * of its own, or already under `input`, stays as it is.
 */
function namedUnderInput(error: unknown, args: unknown): unknown {
  if (!(error instanceof GraphQLError)) return error;
  const field = error.extensions.field;
  if (typeof field !== 'string' || field.startsWith('input.') || !hasKey(args, 'input')) return error;
  const first = field.split('.')[0] ?? '';
  if (hasKey(args, first) || !hasKey((args as { input: unknown }).input, first)) return error;
  return new GraphQLError(error.message, { extensions: { ...error.extensions, field: `input.${field}` } });
}

function guarded(field: string, resolver: unknown, access: FieldAccess | undefined, verbatim: boolean): unknown {
  if (access === undefined) throw new Error(`GraphQL field ${field} has a resolver but declares no access`);
  if (typeof resolver === 'function') {
    const resolve = resolver as Resolver;
    return async (parent: unknown, args: unknown, context: GraphqlContext, info: unknown) => {
      checkAccess(context, access);
      checkText(context, args, verbatim);
      try {
        return await resolve(parent, args, context, info);
      } catch (error) {
        throw namedUnderInput(error, args);
      }
    };
  }
  // A subscription field: its source stream is where the caller is first known.
  const { subscribe, ...rest } = resolver as { subscribe?: Resolver };
  if (subscribe === undefined) return resolver;
  return {
    ...rest,
    subscribe: (parent: unknown, args: unknown, context: GraphqlContext, info: unknown) => {
      checkAccess(context, access);
      checkText(context, args, verbatim);
      return subscribe(parent, args, context, info);
    },
  };
}

/**
 * The modules with every root field's resolver checking the caller's access before it
 * runs, so that, as over REST, a caller without the scope is refused 403 before its
 * arguments are judged, and naming the fields of its refusals as the caller sent them
 * (see {@link namedUnderInput}).
 *
 * @throws Error when a root field's resolver has no declared access, or a field declared
 *   verbatim has no resolver.
 */
export function guardingRootFields(modules: readonly SchemaModule[]): SchemaModule[] {
  return modules.map((module) => {
    const resolvers: Record<string, unknown> = { ...module.resolvers };
    for (const root of rootTypeNames) {
      const fields = module.resolvers[root] as Record<string, unknown> | undefined;
      if (fields === undefined) continue;
      const declared: Readonly<Record<string, FieldAccess>> = module.access[root] ?? {};
      const verbatim = new Set(module.verbatimText?.[root] ?? []);
      for (const name of verbatim) {
        if (!Object.hasOwn(fields, name))
          throw new Error(`GraphQL field ${root}.${name} is declared verbatim but has no resolver`);
      }
      resolvers[root] = Object.fromEntries(
        Object.entries(fields).map(([name, resolver]) => [
          name,
          guarded(
            `${root}.${name}`,
            resolver,
            Object.hasOwn(declared, name) ? declared[name] : undefined,
            verbatim.has(name),
          ),
        ]),
      );
    }
    return { ...module, resolvers };
  });
}

/**
 * The access the modules declare for their root fields, by `Type.field`.
 *
 * @throws Error naming a root field declared in two modules.
 */
export function accessOf(modules: readonly SchemaModule[]): Map<string, FieldAccess> {
  const declared = new Map<string, FieldAccess>();
  for (const module of modules) {
    for (const root of rootTypeNames) {
      for (const [name, access] of Object.entries(module.access[root] ?? {})) {
        const field = `${root}.${name}`;
        if (declared.has(field)) throw new Error(`GraphQL field ${field} declares its access in two modules`);
        declared.set(field, access);
      }
    }
  }
  return declared;
}

/**
 * The access every root field of the merged schema declared, by `Type.field`.
 *
 * @throws Error naming a root field no module declares, one declared twice, or one
 *   declared that the schema does not have.
 */
export function declaredAccess(schema: GraphQLSchema, modules: readonly SchemaModule[]): Map<string, FieldAccess> {
  const declared = accessOf(modules);
  const roots: Record<RootTypeName, ReturnType<GraphQLSchema['getQueryType']>> = {
    Query: schema.getQueryType(),
    Mutation: schema.getMutationType(),
    Subscription: schema.getSubscriptionType(),
  };
  for (const root of rootTypeNames) {
    for (const name of Object.keys(roots[root]?.getFields() ?? {})) {
      if (!declared.has(`${root}.${name}`)) throw new Error(`GraphQL field ${root}.${name} declares no access`);
    }
  }
  for (const field of declared.keys()) {
    const [root, name] = field.split('.') as [RootTypeName, string];
    if (roots[root]?.getFields()[name] === undefined) {
      throw new Error(`GraphQL field ${field} declares its access but is not in the schema`);
    }
  }
  return declared;
}

/** The root type and root fields an operation selects (fragments followed, `__typename` and the like left out). */
interface SelectedRootFields {
  readonly root: RootTypeName;
  readonly fields: readonly string[];
}

const operationRoots = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' } as const;
const maxDocumentTokens = 4000;
const remembered = new Map<string, SelectedRootFields | null>();
const maxRemembered = 1000;

function rootFieldNames(document: DocumentNode, selectionSet: SelectionSetNode): string[] {
  return rootFieldNodes(document, selectionSet)
    .map((field) => field.name.value)
    .filter((name) => !name.startsWith('__'));
}

/**
 * What the operation selects, or null when yoga is left to answer (a document that does
 * not parse, or names no operation it could pick). The same for every caller, so kept
 * by document and operation name.
 */
function selectedRootFields(query: unknown, operationName: unknown): SelectedRootFields | null {
  if (typeof query !== 'string') return null;
  // Yoga runs the only operation for an empty name, as for none; any other name that is not a string it refuses.
  const name = typeof operationName === 'string' && operationName !== '' ? operationName : undefined;
  const key = JSON.stringify([name ?? null, query]);
  const known = remembered.get(key);
  if (known !== undefined) return known;
  let selected: SelectedRootFields | null = null;
  try {
    const document = parse(query, { maxTokens: maxDocumentTokens });
    const operation = getOperationAST(document, name);
    if (operation != null) {
      selected = {
        root: operationRoots[operation.operation],
        fields: rootFieldNames(document, operation.selectionSet),
      };
    }
  } catch {
    // Yoga answers the syntax error itself.
  }
  if (remembered.size >= maxRemembered) remembered.delete(remembered.keys().next().value as string);
  remembered.set(key, selected);
  return selected;
}

/**
 * Refuses, before yoga reads the document's arguments, an operation none of whose root
 * fields the caller may call: 401 without credentials, 403 otherwise, as REST answers a
 * route's caller. The resolvers' own check comes too late for such a caller: graphql-js
 * first validates the document and coerces its variables, and would answer a malformed
 * value 422 and name the schema's types to a stranger. An operation holding a field the
 * caller may call runs as before, its other fields refused one by one (a non-null one
 * takes `data` with it, as GraphQL says); a caller without credentials may call public
 * fields only, alone. In a batch, one operation refused refuses the request. An operation
 * naming only fields the schema does not have goes on, for a signed-in caller, to yoga's
 * validation (400 GRAPHQL_VALIDATION_FAILED).
 *
 * Answers such a request itself: a GraphQL response whose one error carries the code
 * (UNAUTHENTICATED, FORBIDDEN), the status and the request id, with that HTTP status.
 */
export function refusingCallersOfNoField(access: ReadonlyMap<string, FieldAccess>): RequestHandler {
  return (request, response, next) => {
    const body: unknown = request.body;
    const operations: unknown[] =
      request.method === 'GET'
        ? [getParameters(request)]
        : Array.isArray(body)
          ? body
          : body === undefined
            ? []
            : [body];
    const principal = (response.locals as Partial<GraphqlContext>).principal;
    for (const operation of operations) {
      const { query, operationName } = (operation ?? {}) as { query?: unknown; operationName?: unknown };
      const selected = selectedRootFields(query, operationName);
      if (selected === null || selected.fields.length === 0) continue;
      const declared = selected.fields.map((field) => access.get(`${selected.root}.${field}`));
      // Fields the schema does not have, and nothing else: a document that does not
      // validate, which a signed-in caller is told as such (400, GRAPHQL_VALIDATION_FAILED,
      // naming the field it sent and no other) rather than refused for want of a scope.
      if (principal !== undefined && declared.every((scope) => scope === undefined)) continue;
      // A stranger may call public fields only: beside any other, one would open the
      // whole document's validation messages to them.
      const allowed =
        principal === undefined
          ? declared.every((scope) => scope === 'public')
          : declared.some(
              (access) =>
                access === 'public' ||
                access === 'signed-in' ||
                (access !== undefined && principal.scopes.includes(access)),
            );
      if (allowed) continue;
      const needed = [...new Set(declared.filter((scope) => scope !== undefined))];
      const refusal =
        principal === undefined
          ? unauthenticated()
          : forbidden(
              needed.length === 0
                ? `the caller (role ${principal.role}) may call none of this operation's fields`
                : `this operation needs scope ${needed.join(' or ')}; the caller (role ${principal.role}) does not have it`,
            );
      // The error handler answers it as a GraphQL response, with the status as HTTP's.
      next(refusal);
      return;
    }
    next();
  };
}
