import path from 'node:path';
import { z } from 'zod';

const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(4000),
  HOST: z.string().default('127.0.0.1'),
  GIGLEDGER_CONNECTION_PROFILE: z.string().min(1, 'must name the connection profile the network wrote'),
  GIGLEDGER_DATA_DIR: z.string().default(path.resolve('.gigledger', 'api')),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
});

/** The server's settings, parsed once from the environment at start-up. */
export interface ApiConfig {
  readonly port: number;
  readonly host: string;
  readonly connectionProfile: string;
  readonly dataDir: string;
  readonly mode: 'development' | 'production' | 'test';
}

/**
 * @throws Error naming the variable at fault.
 */
export function parseApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`environment variable ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const value = parsed.data;
  return {
    port: value.PORT,
    host: value.HOST,
    connectionProfile: path.resolve(value.GIGLEDGER_CONNECTION_PROFILE),
    dataDir: path.resolve(value.GIGLEDGER_DATA_DIR),
    mode: value.NODE_ENV,
  };
}
