import type { Request, Response } from 'express';
import {
  GraphQLError,
  isNonNullType,
  NoSchemaIntrospectionCustomRule,
  type GraphQLFieldConfig,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { createSchema, createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { mapSchema, MapperKind, type IResolvers } from '@graphql-tools/utils';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { ApiConfig } from '../config.js';
import type { GraphqlContext, HttpRequestShare, SchemaModule } from './context.js';
import { conciseVariableErrors } from './variable-errors.js';
import { costOfShape } from './page-size-cost.js';
import { errorRequestIds } from './error-request-ids.js';
import { declaredAccess, guardingRootFields } from './field-access.js';
import { maxDocumentTokens } from './graphql-http.js';

interface ServerContext {
  req: Request;
  res: Response;
}

/** Introspection fails validation, so the schema is not handed to strangers. */
const noIntrospection: Plugin = {
  onValidate({ addValidationRule }: { addValidationRule: (rule: ValidationRule) => void }) {
    addValidationRule(NoSchemaIntrospectionCustomRule);
  },
};

/**
 * Every answer `no-store`. Yoga answers server-sent events with `no-cache`, which lets
 * what they carry be stored, and with `Content-Encoding: none`, which names no content
 * coding (RFC 9110 §8.4.1; IANA's registry has no `none`), so a client that reads the
 * header strictly refuses the stream. Yoga's header is there to keep proxies from
 * compressing, and so holding back, the stream: `no-transform` (RFC 9111 §5.2.2.6) is the
 * standard way to say that, and replaces it.
 */
const responseCaching: Plugin = {
  onResponse({ response }) {
    if (response.headers.get('content-encoding') === 'none') {
      response.headers.delete('content-encoding');
      response.headers.set('cache-control', 'no-store, no-transform');
    } else {
      response.headers.set('cache-control', 'no-store');
    }
  },
};

/** Which of the document limits a refused query went past, as its error's `extensions.limit` names it. */
type DocumentLimit = 'depth' | 'cost' | 'aliases' | 'tokens' | 'directives';

/**
 * graphql-armor refuses a document over a limit with `Syntax Error: <what>` and no code,
 * which reads as if the query were malformed. Its `onReject` hook (called before it
 * throws) throws this instead: the limit's own words, code QUERY_LIMIT_EXCEEDED, 400, field
 * `query` (the document as a whole) and which limit, so a client can tell "ask for less"
 * from "fix the syntax".
 */
function refuseOver(limit: DocumentLimit) {
  return [
    (_context: ValidationContext | null, refusal: GraphQLError): never => {
      throw new GraphQLError(refusal.message.replace(/^Syntax Error: /, ''), {
        // The document as a whole is over the limit: the field is the request's `query` member.
        extensions: { code: 'QUERY_LIMIT_EXCEEDED', status: 400, limit, field: 'query' },
      });
    },
  ];
}

/**
 * Makes every query's and mutation's result nullable, whatever its module declares.
 * GraphQL answers an error in a non-null field by nulling its nearest nullable parent,
 * and a root field has none but `data`: in a document of several mutations, one refused
 * (say REQUEST_ID_REUSED) would null the answers of those that committed, and the caller
 * would not learn their transaction ids; in a query, one record the caller may not read
 * (or that does not exist) would hide every other field it asked for. Nullable, each
 * failed root field is null beside its error and the others keep their results (GraphQL
 * spec, "Handling Field Errors"). Subscriptions keep their declared types: an event's
 * error ends the stream either way.
 */
export function nullableRootFields(schema: GraphQLSchema): GraphQLSchema {
  const nullable = (field: GraphQLFieldConfig<unknown, unknown>) =>
    isNonNullType(field.type) ? { ...field, type: field.type.ofType } : field;
  return mapSchema(schema, {
    [MapperKind.QUERY_ROOT_FIELD]: nullable,
    [MapperKind.MUTATION_ROOT_FIELD]: nullable,
  });
}

/** The path GraphQL is served on, over GET (subscriptions) and POST. */
export const graphqlEndpoint = '/graphql';

/**
 * The GraphQL endpoint: the schema modules merged, every root field checking the
 * caller's access before its arguments, the caller taken from the HTTP layer's
 * authentication, limits on depth (introspection included), cost, aliases, tokens and
 * batch size, introspection and GraphiQL only when the configuration turns
 * them on, no CORS of its own (the app's allow-list applies), and unexpected errors
 * masked. What reaches it has passed `graphqlRequestGate`.
 *
 * @throws Error when a root field declares no access (see {@link declaredAccess}).
 */
export function createGraphqlServer(
  config: ApiConfig,
  modules: readonly SchemaModule[],
  plugins: readonly Plugin<GraphqlContext>[] = [],
): YogaServerInstance<ServerContext, GraphqlContext> {
  const { introspection, graphiql } = config.graphql;
  const guarded = guardingRootFields(modules);
  const schema = nullableRootFields(
    createSchema<ServerContext & GraphqlContext>({
      typeDefs: guarded.map((module) => module.typeDefs),
      resolvers: guarded.map((module) => module.resolvers) as IResolvers<unknown, ServerContext & GraphqlContext>[],
    }),
  );
  declaredAccess(schema, guarded);
  return createYoga<ServerContext, GraphqlContext>({
    graphqlEndpoint,
    schema,
    context: ({ res }) => ({
      principal: res.locals.principal,
      log: res.locals.log,
      requestId: res.locals.requestId,
      // One per HTTP request: each operation of a batch has a context of its own.
      httpRequest: (res.locals.graphqlRequestShare ??= {
        ledgerRecordsClaimed: 0,
        nestedRecordsClaimed: 0,
        nodeReads: 0,
        proofsExported: 0,
      }) as HttpRequestShare,
    }),
    graphiql,
    landingPage: false,
    cors: false,
    batching: { limit: config.graphql.maxBatch },
    logging: false,
    plugins: [
      EnvelopArmorPlugin({
        // A fragment spread adds no field of its own: counted as the same fields written inline.
        maxDepth: {
          n: config.graphql.maxDepth,
          ignoreIntrospection: false,
          flattenFragments: true,
          onReject: refuseOver('depth'),
        },
        // Counted by costOfShape below instead, page sizes alike however written.
        costLimit: { enabled: false },
        maxAliases: { n: 15, onReject: refuseOver('aliases') },
        maxTokens: { n: maxDocumentTokens, onReject: refuseOver('tokens') },
        maxDirectives: { n: 20, onReject: refuseOver('directives') },
        // Suggestions would spell out the schema that introspection keeps to itself.
        blockFieldSuggestion: { enabled: !introspection },
      }),
      {
        onValidate({ addValidationRule }: { addValidationRule: (rule: ValidationRule) => void }) {
          addValidationRule(
            costOfShape({ maxCost: config.graphql.maxCost, ignoreIntrospection: false, onReject: refuseOver('cost') }),
          );
        },
      },
      ...(introspection ? [] : [noIntrospection]),
      responseCaching,
      conciseVariableErrors,
      errorRequestIds,
      ...(plugins as Plugin[]),
    ],
    // Resolvers turn expected errors into GraphQLErrors with codes (see resolveWith);
    // anything else reaching here is masked.
    maskedErrors: true,
  });
}
