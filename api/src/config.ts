import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { z } from 'zod';

const optionalUrl = z.url().optional();

/** `true` or `false`, spelled out: anything else is a mistake worth refusing at start-up. */
const flag = z
  .enum(['true', 'false'])
  .default('false')
  .transform((value) => value === 'true');

/** Origins as browsers send them (`https://app.example.com`), comma-separated; none by default. */
const origins = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin !== ''),
  )
  .pipe(z.array(z.string().regex(/^https?:\/\/[^/?#\s]+$/, 'each origin is scheme://host[:port], nothing more')));

/**
 * Which proxies in front of the server are believed about the client's address
 * (X-Forwarded-For), in Express's `trust proxy` syntax: `false` (default: the socket's
 * peer is the client), a hop count, or a comma-separated list of addresses, CIDR ranges
 * and the names `loopback`, `linklocal`, `uniquelocal`. `true` is refused: it would let
 * every client name its own address and so escape the per-address limits.
 */
const trustProxy = z
  .string()
  .default('false')
  .transform((value, context): false | number | string[] => {
    const text = value.trim();
    if (text === 'false' || text === '') return false;
    if (/^\d+$/.test(text)) return Number(text);
    const entries = text.split(',').map((entry) => entry.trim());
    if (entries.some((entry) => entry === 'true')) {
      context.addIssue({
        code: 'custom',
        message:
          'true would trust any X-Forwarded-For a client sends; name the hop count (e.g. 1) or the proxies (loopback, 10.0.0.0/8, …)',
      });
      return z.NEVER;
    }
    try {
      // Express compiles the setting the way it will use it, and says which entry it cannot read.
      express().set('trust proxy', entries);
    } catch (error) {
      context.addIssue({
        code: 'custom',
        message: `${error instanceof Error ? error.message : String(error)}; expected false, a hop count, or a comma-separated list of addresses, CIDR ranges, loopback, linklocal or uniquelocal`,
      });
      return z.NEVER;
    }
    return entries;
  });

const environmentSchema = z.object({
  // 0 asks the system for a free port (tests).
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('127.0.0.1'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  GIGLEDGER_CONNECTION_PROFILE: z
    .string({
      error:
        "is not set: name the network's connection profile (.gigledger/network/connection-profile.json after npm start)",
    })
    .min(1, 'must name the connection profile the network wrote'),
  GIGLEDGER_DATA_DIR: z.string().default(path.resolve('.gigledger', 'api')),
  /** postgres://… selects PostgreSQL; otherwise SQLite in the data directory. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** HS256 secret for tokens the server issues itself; generated into the data directory when absent. */
  GIGLEDGER_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  GIGLEDGER_JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  /** An OIDC issuer whose tokens are accepted; its keys come from OIDC_JWKS_URL or the issuer's discovery document. */
  OIDC_ISSUER: optionalUrl,
  OIDC_JWKS_URL: optionalUrl,
  OIDC_AUDIENCE: z.string().optional(),
  /** Claims of an OIDC token that carry the GigLedger organisation and role. */
  OIDC_ORG_CLAIM: z.string().default('gigledger_org'),
  OIDC_ROLE_CLAIM: z.string().default('gigledger_role'),
  /** The web console's client id at the OIDC issuer (a public client using PKCE); sign-in there is offered only with it. */
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  /** Scopes the console asks for; an IdP that names the API by scope (Entra: `api://…/.default`) needs it here. */
  OIDC_SCOPE: z.string().min(1).default('openid'),
  /** Requests per minute per principal (or per address when anonymous). */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /**
   * Refused provider callbacks (bad or missing signature, unknown provider, a confirmation
   * that does not match its instruction) per minute per sending address; past it they are
   * answered 429. A callback whose signature verifies is never counted: a provider answers
   * every instruction from a few addresses, and counting its callbacks let messages anyone
   * sends from such an address hold back the real ones (and the people signing in there).
   */
  CALLBACK_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /** Which proxies are believed about the client address (Express `trust proxy` syntax); none by default. */
  TRUST_PROXY: trustProxy,
  /** Failed credentials one client address may have per window before backing off. */
  AUTH_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
  /** Failed logins for one user id from one client address per window. */
  AUTH_FAILURES_PER_ACCOUNT: z.coerce.number().int().min(1).default(10),
  /** Failed logins for one user id from all addresses together per window; above AUTH_FAILURES_PER_ADDRESS. */
  AUTH_FAILURES_PER_ACCOUNT_ALL_ADDRESSES: z.coerce.number().int().min(1).default(100),
  AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  /** How often an open subscription re-checks its caller's token, key and account. */
  GIGLEDGER_SUBSCRIPTION_RECHECK_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).max(30).default(8),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(10).default(5000),
  GRAPHQL_MAX_BATCH: z.coerce.number().int().min(1).max(50).default(5),
  /** Subscriptions one caller may hold open at once in one API process; each holds a connection. */
  GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Schema introspection; off unless set, whatever NODE_ENV says. The depth limit applies to it too. */
  GRAPHQL_INTROSPECTION: flag,
  /** The GraphiQL page on GET /graphql; off unless set. */
  GRAPHQL_GRAPHIQL: flag,
  /** Browser origins allowed to call the API cross-origin; none unless listed. */
  CORS_ORIGINS: origins,
  /** When set, /metrics and /readyz answer only `Authorization: Bearer <token>`. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Requests per minute per address to /metrics and /readyz, which do work on each call. */
  PROBE_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  /** JSON file naming the settlement providers; without it the server runs no settlement service. */
  GIGLEDGER_SETTLEMENT_CONFIG: z.string().min(1).optional(),
  /** The web console's built assets, served at /console; the workspace's build output by default. */
  GIGLEDGER_CONSOLE_DIR: z
    .string()
    .min(1)
    .default(fileURLToPath(new URL('../../console/dist', import.meta.url))),
  /** The audit index's block follower inside the server: on unless set to off (e.g. when a separate process indexes). */
  GIGLEDGER_AUDIT_INDEX: z.enum(['on', 'off']).default('on'),
  /** How often the read log's head is anchored on the ledger when it grew; 0 anchors only on demand. */
  GIGLEDGER_READ_LOG_ANCHOR_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /**
   * HTTP worker processes: an integer from 1 or `auto` (one per available core). 1 serves
   * from the one process as before; more runs a primary that does the singleton work and
   * that many workers that serve HTTP.
   */
  API_WORKERS: z
    .string()
    .default('1')
    .transform((value, context) => {
      if (value === 'auto') return os.availableParallelism();
      if (/^[1-9][0-9]{0,2}$/.test(value)) return Number(value);
      context.addIssue({ code: 'custom', message: `must be an integer from 1 to 999 or auto, got ${value}` });
      return z.NEVER;
    }),
  /**
   * How long an idle kept-alive connection stays open. Above the idle timeout of the proxy
   * or load balancer in front (60 s for most), so that it never reuses a connection the
   * server is closing that moment (which its client sees as a 502 or a reset).
   */
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(65),
  /**
   * New connections the kernel holds for the server while it is too busy to accept them
   * (listen(2)'s backlog, capped by Linux at `net.core.somaxconn`). Node's 511 overflows
   * when more clients than that connect at once to a saturated API, and they are reset.
   */
  HTTP_LISTEN_BACKLOG: z.coerce.number().int().min(1).max(65535).default(4096),
  /** Time to receive a whole request (headers and a body of at most 1 MB); Node's 300 s lets a slow body hold a connection. */
  HTTP_REQUEST_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(300).default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Mode = 'development' | 'production' | 'test';

/** The server's settings, parsed once from the environment at start-up and passed in. */
export interface ApiConfig {
  readonly port: number;
  readonly host: string;
  readonly mode: Mode;
  readonly connectionProfile: string;
  readonly dataDir: string;
  readonly database:
    { readonly kind: 'sqlite'; readonly file: string } | { readonly kind: 'postgres'; readonly url: string };
  readonly jwt: {
    readonly secret: string | undefined;
    readonly ttlSeconds: number;
    readonly oidc:
      | {
          readonly issuer: string;
          readonly jwksUrl: string | undefined;
          readonly audience: string | undefined;
          /** The console's public client at the issuer, when the console offers OIDC sign-in. */
          readonly consoleClientId: string | undefined;
          readonly consoleScope: string;
        }
      | undefined;
    readonly orgClaim: string;
    readonly roleClaim: string;
  };
  readonly rateLimitPerMinute: number;
  /** Refused provider callbacks per minute per address (CALLBACK_RATE_LIMIT_PER_MINUTE); verified ones are not counted. */
  readonly callbackRateLimitPerMinute: number;
  /** Express's `trust proxy`: false, a hop count, or the trusted proxies' addresses and ranges. */
  readonly trustProxy: false | number | readonly string[];
  readonly graphql: {
    readonly maxDepth: number;
    readonly maxCost: number;
    /** Operations in one batched request; each counts against the rate limit. */
    readonly maxBatch: number;
    /** Open subscriptions per caller in one process (GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER). */
    readonly maxSubscriptionsPerCaller: number;
    readonly introspection: boolean;
    readonly graphiql: boolean;
  };
  /** Exact origins answered with CORS headers; empty means no cross-origin access. */
  readonly corsOrigins: readonly string[];
  /** /metrics and /readyz: the bearer token they require, if any, and their own rate limit. */
  readonly probes: { readonly token: string | undefined; readonly rateLimitPerMinute: number };
  readonly logLevel: string;
  /** Path of the settlement configuration file, when settlement is on. */
  readonly settlementConfigFile: string | undefined;
  readonly credentialThrottle: {
    readonly failuresPerAddress: number;
    readonly failuresPerAccount: number;
    readonly failuresPerAccountAllAddresses: number;
    readonly windowMs: number;
  };
  readonly subscriptionRecheckMs: number;
  /** Directory of the web console's built assets (index.html and assets/); /console answers 404 while it has none. */
  readonly consoleDir: string;
  /** Whether the server follows blocks into the audit index. */
  readonly auditIndex: boolean;
  /** Interval of read-log anchoring; 0 anchors only on demand. */
  readonly readLogAnchorMs: number;
  /** HTTP worker processes (API_WORKERS); 1 means no cluster: one process does everything. */
  readonly workers: number;
  /** Idle time after which the server closes a kept-alive connection. */
  readonly keepAliveTimeoutMs: number;
  /** listen(2)'s backlog for the HTTP server (HTTP_LISTEN_BACKLOG). */
  readonly listenBacklog: number;
  /** Time to receive a whole request (HTTP_REQUEST_TIMEOUT_SECONDS), in milliseconds. */
  readonly requestTimeoutMs: number;
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
  if (value.OIDC_ISSUER !== undefined && value.OIDC_AUDIENCE === undefined) {
    throw new Error(
      'environment variable OIDC_AUDIENCE: must be set when OIDC_ISSUER is, so tokens meant for another service are refused',
    );
  }
  if (value.AUTH_FAILURES_PER_ACCOUNT_ALL_ADDRESSES <= value.AUTH_FAILURES_PER_ADDRESS) {
    throw new Error(
      'environment variable AUTH_FAILURES_PER_ACCOUNT_ALL_ADDRESSES: must be above AUTH_FAILURES_PER_ADDRESS, or one address could lock an account for everyone',
    );
  }
  const dataDir = path.resolve(value.GIGLEDGER_DATA_DIR);
  return {
    port: value.PORT,
    host: value.HOST,
    mode: value.NODE_ENV,
    connectionProfile: path.resolve(value.GIGLEDGER_CONNECTION_PROFILE),
    dataDir,
    database:
      value.DATABASE_URL === undefined
        ? { kind: 'sqlite', file: path.join(dataDir, 'gigledger.sqlite') }
        : { kind: 'postgres', url: value.DATABASE_URL },
    jwt: {
      secret: value.GIGLEDGER_JWT_SECRET,
      ttlSeconds: value.GIGLEDGER_JWT_TTL_SECONDS,
      oidc:
        value.OIDC_ISSUER === undefined
          ? undefined
          : {
              issuer: value.OIDC_ISSUER,
              jwksUrl: value.OIDC_JWKS_URL,
              audience: value.OIDC_AUDIENCE,
              consoleClientId: value.OIDC_CLIENT_ID,
              consoleScope: value.OIDC_SCOPE,
            },
      orgClaim: value.OIDC_ORG_CLAIM,
      roleClaim: value.OIDC_ROLE_CLAIM,
    },
    rateLimitPerMinute: value.RATE_LIMIT_PER_MINUTE,
    callbackRateLimitPerMinute: value.CALLBACK_RATE_LIMIT_PER_MINUTE,
    trustProxy: value.TRUST_PROXY,
    graphql: {
      maxDepth: value.GRAPHQL_MAX_DEPTH,
      maxCost: value.GRAPHQL_MAX_COST,
      maxBatch: value.GRAPHQL_MAX_BATCH,
      maxSubscriptionsPerCaller: value.GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER,
      introspection: value.GRAPHQL_INTROSPECTION,
      graphiql: value.GRAPHQL_GRAPHIQL,
    },
    corsOrigins: value.CORS_ORIGINS,
    probes: { token: value.METRICS_TOKEN, rateLimitPerMinute: value.PROBE_RATE_LIMIT_PER_MINUTE },
    logLevel: value.LOG_LEVEL,
    settlementConfigFile:
      value.GIGLEDGER_SETTLEMENT_CONFIG === undefined ? undefined : path.resolve(value.GIGLEDGER_SETTLEMENT_CONFIG),
    credentialThrottle: {
      failuresPerAddress: value.AUTH_FAILURES_PER_ADDRESS,
      failuresPerAccount: value.AUTH_FAILURES_PER_ACCOUNT,
      failuresPerAccountAllAddresses: value.AUTH_FAILURES_PER_ACCOUNT_ALL_ADDRESSES,
      windowMs: value.AUTH_FAILURE_WINDOW_SECONDS * 1000,
    },
    subscriptionRecheckMs: value.GIGLEDGER_SUBSCRIPTION_RECHECK_SECONDS * 1000,
    consoleDir: path.resolve(value.GIGLEDGER_CONSOLE_DIR),
    auditIndex: value.GIGLEDGER_AUDIT_INDEX === 'on',
    readLogAnchorMs: value.GIGLEDGER_READ_LOG_ANCHOR_SECONDS * 1000,
    workers: value.API_WORKERS,
    keepAliveTimeoutMs: value.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS * 1000,
    listenBacklog: value.HTTP_LISTEN_BACKLOG,
    requestTimeoutMs: value.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
  };
}
