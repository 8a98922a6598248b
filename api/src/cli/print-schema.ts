#!/usr/bin/env node
import { pathToFileURL } from 'node:url';
import { printSchema } from 'graphql';
import { createSchema } from 'graphql-yoga';
import { schemaModules, type AppDependencies } from '../app.js';

/*
 * Prints the API's GraphQL schema (SDL) from its schema modules, without a server or a
 * network: the web console generates its typed operations from it.
 *
 *     node api/dist/cli/print-schema.js > console/schema.graphql
 */

/** The schema as SDL, the same one `/graphql` serves. */
export function apiSchemaSdl(): string {
  // The modules' SDL is static; their services keep the dependencies for resolvers, which nothing calls here.
  const modules = schemaModules({} as AppDependencies);
  const schema = createSchema({ typeDefs: modules.map((module) => module.typeDefs) });
  return `${printSchema(schema)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(apiSchemaSdl());
}
