import type { Request, Response } from 'express';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import { createSchema, createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { IResolvers } from '@graphql-tools/utils';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { ApiConfig } from '../config.js';
import type { GraphqlContext, SchemaModule } from './context.js';

interface ServerContext {
  req: Request;
  res: Response;
}

/**
 * The GraphQL endpoint: the schema modules merged, the caller taken from the HTTP
 * layer's authentication, limits on depth, cost, aliases, tokens and batch size,
 * introspection and GraphiQL only outside production, and unexpected errors masked.
 */
export function createGraphqlServer(
  config: ApiConfig,
  modules: readonly SchemaModule[],
): YogaServerInstance<ServerContext, GraphqlContext> {
  const production = config.mode === 'production';
  return createYoga<ServerContext, GraphqlContext>({
    graphqlEndpoint: '/graphql',
    schema: createSchema<ServerContext & GraphqlContext>({
      typeDefs: modules.map((module) => module.typeDefs),
      resolvers: modules.map((module) => module.resolvers) as IResolvers<unknown, ServerContext & GraphqlContext>[],
    }),
    context: ({ res }) => ({
      principal: res.locals.principal,
      log: res.locals.log,
      requestId: res.locals.requestId,
    }),
    graphiql: config.mode === 'development',
    landingPage: false,
    batching: { limit: config.graphql.maxBatch },
    logging: false,
    plugins: [
      EnvelopArmorPlugin({
        maxDepth: { n: config.graphql.maxDepth },
        costLimit: { maxCost: config.graphql.maxCost },
        maxAliases: { n: 15 },
        maxTokens: { n: 4000 },
        maxDirectives: { n: 20 },
        blockFieldSuggestion: { enabled: production },
      }),
      // In production the schema is not handed to strangers: introspection fails validation.
      ...(production
        ? [
            {
              onValidate({
                addValidationRule,
              }: {
                addValidationRule: (rule: typeof NoSchemaIntrospectionCustomRule) => void;
              }) {
                addValidationRule(NoSchemaIntrospectionCustomRule);
              },
            },
          ]
        : []),
    ],
    // Resolvers turn expected errors into GraphQLErrors with codes (see resolveWith);
    // anything else reaching here is masked.
    maskedErrors: true,
  });
}
