import { auditSchema } from './audit/audit-graphql.js';
import { auditRoutes, type ReadLogAnchoring } from './audit/audit-routes.js';
import { AuditScopes } from './audit/audit-scopes.js';
import { graphqlReadLog, graphqlRefusalReadLog, keepingRootResults, restReadLog } from './audit/read-log-capture.js';
import { ReadLog } from './audit/read-log.js';
import { ReadRecorder } from './audit/read-recorder.js';
import { ReadSubjectResolver } from './audit/read-subjects.js';
import express, { type Express } from 'express';
import type { Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { LedgerClient, SigningIdentity } from '@gigledger/gateway';
import { adminRoutes } from './admin/admin-routes.js';
import { agreementRoutes } from './agreements/agreement-routes.js';
import { agreementSchema } from './agreements/graphql/agreement-schema.js';
import type { AccountService } from './auth/account-service.js';
import { identifyCaller } from './auth/authenticate.js';
import { authRoutes } from './auth/auth-routes.js';
import type { PassportInstance } from './auth/passport-strategies.js';
import type { TokenService } from './auth/tokens.js';
import type { ApiConfig } from './config.js';
import type { Db } from './db/database.js';
import { consolePagePaths, consoleRouter } from './console/console-router.js';
import { errorHandler } from './errors/error-handler.js';
import { healthRouter } from './health/health-router.js';
import { refuseDeclaredOversize } from './http/json-limits.js';
import { answerHeldBodyRefusal, heldBodyRefusal, jsonBodyReaders } from './http/json-bodies.js';
import { callerRateLimit, refusalsCounted, refusesSender } from './http/rate-limits.js';
import { corsAllowList, noStore, securityHeaders } from './http/response-headers.js';
import { requireOneHost } from './http/client-errors.js';
import { markSignedRoutes, onSignedRoute, signedBodyReader } from './http/signed-bodies.js';
import { mountRoutes, type RouteSpec } from './http/route.js';
import { answerOptions, methodsServed, unknownRoute } from './http/unknown-routes.js';
import type { IdentityIssuer } from './identity/identity-issuer.js';
import type { LedgerAccess } from './ledger/ledger-access.js';
import type { Metrics } from './observability/metrics.js';
import { requestContext } from './observability/request-context.js';
import { openApiDocument } from './openapi/openapi.js';
import { systemRoutes } from './system/system-routes.js';
import type { AgreementEventFeed } from './events/agreement-event-feed.js';
import { baseSchema } from './graphql/base-schema.js';
import type { SchemaModule } from './graphql/context.js';
import { graphqlRequestGate } from './graphql/graphql-http.js';
import { accessOf } from './graphql/field-access.js';
import { createGraphqlServer, graphqlEndpoint } from './graphql/graphql-server.js';
import { idempotencyKeyPlugin } from './graphql/idempotency-key.js';
import { credentialSchema } from './credentials/credential-graphql.js';
import type { ClaimSalts } from './credentials/claim-salts.js';
import { credentialRoutes } from './credentials/credential-routes.js';
import type { LedgerBlocks, ProofExporter } from '@gigledger/gateway';
import { reputationSchema } from './reputation/reputation-graphql.js';
import { reputationRoutes } from './reputation/reputation-routes.js';
import { governanceRoutes } from './governance/governance-routes.js';
import { governanceSchema } from './governance/governance-graphql.js';
import { ipRoutes } from './ip/ip-routes.js';
import { ipSchema } from './ip/ip-graphql.js';
import { licensingSchema } from './licensing/licensing-graphql.js';
import { licensingRoutes } from './licensing/licensing-routes.js';
import { proofRoutes } from './proofs/proof-routes.js';
import { proofSchema } from './proofs/proof-graphql.js';
import { provenanceRoutes } from './provenance/provenance-routes.js';
import { provenanceSchema } from './provenance/provenance-graphql.js';
import { settlementRoutes } from './settlement/settlement-routes.js';
import { auditIndexRoutes } from './audit-index/audit-index-routes.js';
import { auditIndexSchema } from './audit-index/audit-index-graphql.js';
import type { IndexFollower } from './audit-index/index-follower.js';
import type { SettlementRuntime } from './settlement/settlement-runtime.js';

/** Everything the server needs, built by main.ts (or a test) and passed in. */
export interface AppDependencies {
  readonly config: ApiConfig;
  readonly db: Db;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly ledger: LedgerAccess;
  readonly issuer: IdentityIssuer;
  readonly accounts: AccountService;
  readonly tokens: TokenService;
  readonly passport: PassportInstance;
  /** The server's own identity, for public reads such as the chaincode version. */
  readonly serviceLedger: LedgerClient;
  /** Committed agreement events, for GraphQL subscriptions. */
  readonly events: AgreementEventFeed;
  /** Block numbers and the channel height (qscc), for W3C credential exports and reputation statements; those answer 503 without it. */
  readonly ledgerBlocks?: LedgerBlocks;
  /** Proof bundles of committed transactions, read from blocks; GET /v1/proofs answers 503 without it. */
  readonly proofs?: ProofExporter;
  /** Claim salts and credential ids derived per issuance request, so an issuance can be retried. */
  readonly claimSalts: ClaimSalts;
  /** The organisation operator's identity, which signs portable reputation statements; they answer 503 without it. */
  readonly statementSigner?: SigningIdentity;
  /** CA certificates (PEM) of the consortium's organisations by MSP id, to verify statements; verification answers 503 without them. */
  readonly statementAuthorities?: ReadonlyMap<string, string>;
  /** The settlement service, when the server is configured with providers; its routes answer 503 without it. */
  readonly settlement?: SettlementRuntime;
  /** The audit index's block follower, when the server runs it (GIGLEDGER_AUDIT_INDEX); the index is read either way. */
  readonly auditIndex?: IndexFollower;
  /** The read log's anchoring under the organisation's service identity; without it, anchoring and verification answer 503. */
  readonly readLogAnchoring?: ReadLogAnchoring;
  /** Where each rate limit (`requests`, `probes`) counts: the cluster primary's store in an HTTP worker; memory without it. */
  readonly rateLimitStore?: (name: string) => Store;
  /** The Prometheus text `/metrics` answers: the whole cluster's, through the primary, in an HTTP worker; this process's registry without it. */
  readonly metricsText?: () => Promise<string>;
  /** Check every REST answer against its declared schema (tests; see `MountOptions`). */
  readonly checkResponses?: boolean;
}

export const apiVersion = '0.1.0';

/** Every REST operation, in the order the OpenAPI document lists them. */
export function restRoutes(deps: AppDependencies): RouteSpec[] {
  return [
    ...systemRoutes(deps),
    ...authRoutes(deps),
    ...adminRoutes(deps),
    ...agreementRoutes(deps),
    ...credentialRoutes(deps),
    ...reputationRoutes(deps),
    ...settlementRoutes(deps),
    ...governanceRoutes(deps),
    ...ipRoutes(deps),
    ...licensingRoutes(deps),
    ...provenanceRoutes(deps),
    ...auditIndexRoutes(deps),
    ...proofRoutes(deps),
    ...auditRoutes(deps),
  ];
}

/** Every part of the GraphQL schema. */
export function schemaModules(deps: AppDependencies): SchemaModule[] {
  return [
    baseSchema(deps),
    agreementSchema(deps),
    credentialSchema(deps),
    reputationSchema(deps),
    governanceSchema(deps),
    ipSchema(deps),
    licensingSchema(deps),
    provenanceSchema(deps),
    auditIndexSchema(deps),
    auditSchema(deps),
    proofSchema(deps),
  ];
}

/** Builds the HTTP application from its dependencies; main.ts only parses config and listens. */
export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  // Decides request.ip, which every per-address limit counts under.
  app.set('trust proxy', deps.config.trustProxy);

  app.use(requestContext(deps));
  const routes = restRoutes(deps);
  // First: whatever refuses a request to a signed-message route from here on counts it as a callback.
  app.use(markSignedRoutes(routes));
  app.use(securityHeaders());
  app.use(requireOneHost());
  // Every response may carry tokens, terms, claims or salts; none is worth caching.
  app.use(noStore());
  app.use(corsAllowList(deps.config.corsOrigins));
  const served = methodsServed([
    ...routes,
    ...['/healthz', '/readyz', '/metrics', '/openapi.json'].map((path) => ({ method: 'get', path })),
    ...['get', 'post'].map((method) => ({ method, path: graphqlEndpoint, headWithGet: false })),
    ...consolePagePaths.map((path) => ({ method: 'get', path })),
  ]);
  // Before anything answers: no route takes a body this large, and none should wait for it.
  app.use(refuseDeclaredOversize);
  const rateLimit = callerRateLimit(deps.config.rateLimitPerMinute, { store: deps.rateLimitStore?.('requests') });
  const callbackLimit = callerRateLimit(deps.config.callbackRateLimitPerMinute, {
    store: deps.rateLimitStore?.('callbacks'),
    counted: 'refused callbacks',
  });
  // What is answered before a caller is identified (preflights, the console's pages, the
  // OpenAPI document) counts against the address's budget like any request.
  app.use((request, response, next) => {
    if (request.method !== 'OPTIONS') {
      next();
      return;
    }
    void rateLimit.middleware(request, response, next);
  });
  app.use(answerOptions(served));

  app.use(healthRouter(deps));
  // Static files under their own policy, before authentication: the page signs in through the API itself.
  const oidc = deps.config.jwt.oidc;
  // The console's pages count; its assets (immutable, cached by the browser) do not, so that
  // the people behind one address (a company's NAT) are not refused the code of a page they loaded.
  app.use('/console', (request, response, next) => {
    if (request.path.startsWith('/assets/')) {
      next();
      return;
    }
    void rateLimit.middleware(request, response, next);
  });
  app.use(consoleRouter(deps.config.consoleDir, oidc?.consoleClientId === undefined ? undefined : oidc.issuer));
  // Serialised once: the document is large, and the same for every request.
  const documentText = JSON.stringify(openApiDocument(routes, { version: apiVersion }));
  app.get(
    '/openapi.json',
    (request, response, next) => {
      void rateLimit.middleware(request, response, next);
    },
    (_request, response) => {
      response.type('application/json').send(documentText);
    },
  );

  // GraphQL reads its own request bodies (see graphqlRequestGate); only the REST routes take parsed JSON here.
  app.use(signedBodyReader(routes));
  // Read here, refused once the route is known (see answerHeldBodyRefusal).
  app.use('/v1', ...jsonBodyReaders());
  // A signed message's signature is its credential: an Authorization header a provider (or
  // a proxy on its way) adds is not the API's to judge, and refusing it would refuse the message.
  const identify = identifyCaller(deps.passport);
  app.use((request, response, next) => {
    if (onSignedRoute(request)) {
      next();
      return;
    }
    identify(request, response, next);
  });
  // Signed messages (providers' callbacks) are counted only once refused (see refusalsCounted below):
  // a provider answering many instructions neither stalls settlement nor uses up its address's
  // budget for people, and nothing sent from its address without its key holds its callbacks back.
  app.use((request, response, next) => {
    if (onSignedRoute(request)) {
      next();
      return;
    }
    void rateLimit.middleware(request, response, next);
  });
  // Every read by an auditor or HR system is logged, through REST or GraphQL alike.
  const readRecorder = new ReadRecorder(
    new ReadLog(deps.db),
    new AuditScopes(deps.ledger),
    new ReadSubjectResolver(deps.serviceLedger, { proofs: deps.proofs, db: deps.db }),
  );
  app.use('/v1', restReadLog(readRecorder, routes));
  app.use(mountRoutes(routes, { checkResponses: deps.checkResponses ?? false, heldBodyRefusal }));
  app.use('/v1', answerHeldBodyRefusal);
  // A callback refused (before or after its signature is read) counts as a refused callback;
  // a failure of the server's own (5xx) counts against nobody.
  app.use(refusalsCounted(callbackLimit, (request, error) => onSignedRoute(request) && refusesSender(error)));
  const graphqlModules = keepingRootResults(schemaModules(deps));
  const graphql = createGraphqlServer(deps.config, graphqlModules, [
    graphqlReadLog(readRecorder),
    idempotencyKeyPlugin,
  ]);
  // Routed with `all`, not `use`, so the path reaches yoga unstripped. Express matches
  // without regard to case, yoga does not and answers a wrong case with an empty 404:
  // such a path is left to the JSON 404 below.
  app.all(
    graphql.graphqlEndpoint,
    (request, _response, next) => {
      next(request.path.replace(/\/$/, '') === graphql.graphqlEndpoint ? undefined : 'route');
    },
    graphqlRefusalReadLog(readRecorder),
    ...graphqlRequestGate({
      graphiql: deps.config.graphql.graphiql,
      rateLimit,
      maxBatch: deps.config.graphql.maxBatch,
      maxSubscriptionsPerCaller: deps.config.graphql.maxSubscriptionsPerCaller,
      access: accessOf(graphqlModules),
    }),
    (request, response) => {
      void graphql(request, response, { req: request, res: response });
    },
  );

  app.use(unknownRoute(served));
  // Callbacks draw on the people's budget in no case.
  app.use(refusalsCounted(rateLimit, (request) => !onSignedRoute(request)));
  app.use(errorHandler(deps.log, { graphqlPath: graphql.graphqlEndpoint }));
  return app;
}
