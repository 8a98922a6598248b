#!/usr/bin/env node
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { printSchema } from 'graphql';
import { createSchema } from 'graphql-yoga';
import { schemaModules, type AppDependencies } from '../app.js';
import { nullableRootFields } from '../graphql/graphql-server.js';
import { endWhenOutputCloses } from './exit-code.js';

/*
 * Prints the API's GraphQL schema (SDL) from its schema modules, without a server or a
 * network: the web console's build generates its typed operations from it.
 *
 *     node api/dist/cli/print-schema.js                    # to standard output
 *     node api/dist/cli/print-schema.js console/generated/schema.graphql
 */

/** The schema as SDL, the same one `/graphql` serves. */
export function apiSchemaSdl(): string {
  // The modules' SDL is static; their services keep the dependencies for resolvers, which nothing calls here.
  const modules = schemaModules({} as AppDependencies);
  const schema = nullableRootFields(createSchema({ typeDefs: modules.map((module) => module.typeDefs) }));
  return `${printSchema(schema)}\n`;
}

/**
 * Writes the schema to `file` (creating its folder), leaving the file untouched when it
 * already holds this schema, so that builds keyed on the file's content or time skip.
 *
 * @returns whether the file was written.
 */
export function writeApiSchema(file: string): boolean {
  const sdl = apiSchemaSdl();
  if (existsSync(file) && readFileSync(file, 'utf8') === sdl) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, sdl);
  return true;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  endWhenOutputCloses();
  if (file === undefined) process.stdout.write(apiSchemaSdl());
  else writeApiSchema(file);
}
