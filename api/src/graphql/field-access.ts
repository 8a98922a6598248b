import { GraphQLError, type GraphQLSchema } from 'graphql';
import {
  graphqlErrorOf,
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
    requireCaller(context, access);
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

function guarded(field: string, resolver: unknown, access: FieldAccess | undefined): unknown {
  if (access === undefined) throw new Error(`GraphQL field ${field} has a resolver but declares no access`);
  if (typeof resolver === 'function') {
    const resolve = resolver as Resolver;
    return async (parent: unknown, args: unknown, context: GraphqlContext, info: unknown) => {
      checkAccess(context, access);
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
 * @throws Error when a root field's resolver has no declared access.
 */
export function guardingRootFields(modules: readonly SchemaModule[]): SchemaModule[] {
  return modules.map((module) => {
    const resolvers: Record<string, unknown> = { ...module.resolvers };
    for (const root of rootTypeNames) {
      const fields = module.resolvers[root] as Record<string, unknown> | undefined;
      if (fields === undefined) continue;
      const declared: Readonly<Record<string, FieldAccess>> = module.access[root] ?? {};
      resolvers[root] = Object.fromEntries(
        Object.entries(fields).map(([name, resolver]) => [
          name,
          guarded(`${root}.${name}`, resolver, Object.hasOwn(declared, name) ? declared[name] : undefined),
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
