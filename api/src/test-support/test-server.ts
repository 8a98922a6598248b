import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import type { GovernanceAction, Role } from '@gigledger/chaincode/model';
import type { ProofExporter, SigningIdentity } from '@gigledger/gateway';
import { createApp, schemaModules, type AppDependencies } from '../app.js';
import { accessOf } from '../graphql/field-access.js';
import type { FieldAccess } from '../graphql/context.js';
import { ClaimSalts } from '../credentials/claim-salts.js';
import { AccountService } from '../auth/account-service.js';
import type { OrganisationMembership } from '../auth/channel-membership.js';
import type { ReadLogAnchoring } from '../audit/audit-routes.js';
import type { CredentialThrottleOptions } from '../auth/credential-throttle.js';
import { createPassport } from '../auth/passport-strategies.js';
import type { Principal } from '../auth/principal.js';
import { TokenService } from '../auth/tokens.js';
import { parseApiConfig, type ApiConfig } from '../config.js';
import { openDatabase, type Db } from '../db/database.js';
import { IdentityTakenError, type IdentityIssuer, type IdentityRequest } from '../identity/identity-issuer.js';
import { Wallet } from '../identity/wallet.js';
import { createLogger } from '../observability/logger.js';
import type { SettlementRuntime } from '../settlement/settlement-runtime.js';
import { Metrics } from '../observability/metrics.js';
import { InMemoryLedgerAccess } from './in-memory-ledger-access.js';
import { AgreementEventFeed } from '../events/agreement-event-feed.js';
import { inMemoryLedgerBlocks } from './in-memory-ledger-blocks.js';
import { testOrganizationCa, testStatementSigner } from './test-certificates.js';
import { closeHttpServer, createHttpServer, listenHttp, serveHandedConnections } from '../http/listen.js';

/**
 * The three organisations as the network's bootstrap records them, each with a vote, for
 * `genesis`: until members are recorded the chaincode checks nobody's organisation.
 */
export const memberRights: readonly GovernanceAction[] = ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'].map(
  (mspId) => ({ type: 'setMemberRights', mspId, voting: true, veto: false }),
);

export const testOrganizations = [
  { name: 'ClientOrg', mspId: 'ClientOrgMSP' },
  { name: 'TalentOrg', mspId: 'TalentOrgMSP' },
  { name: 'AuditOrg', mspId: 'AuditOrgMSP' },
] as const;

/**
 * Enrollment ids each test CA holds that the server did not register, as a real network's
 * CAs hold their registrar, the network's operators and whomever an operator registered
 * with `fabric-ca-client` by hand (`ca-ops`).
 */
export const foreignCaIdentities = [
  'registrar',
  'operator-clientorg',
  'operator-talentorg',
  'operator-auditorg',
  'ca-ops',
];

/**
 * Issues stand-in identities: in API tests the in-memory ledger takes the caller's MSP
 * id and attributes from the principal, so no certificate is ever parsed.
 */
class TestIssuer implements IdentityIssuer {
  readonly organizations = testOrganizations;
  readonly issued: IdentityRequest[] = [];

  async issue(request: IdentityRequest): Promise<SigningIdentity> {
    // A turn of the event loop, as a CA's answer takes: requests at once interleave here.
    await new Promise((resolve) => setImmediate(resolve));
    const org = testOrganizations.find((candidate) => candidate.name === request.org);
    if (org === undefined) throw new Error(`no organisation ${request.org}`);
    if (request.ownRegistrationsOnly === true && foreignCaIdentities.includes(request.enrollmentId))
      throw new IdentityTakenError(request.enrollmentId);
    this.issued.push(request);
    return {
      mspId: org.mspId,
      certificatePem: `test certificate of ${request.enrollmentId}`,
      privateKeyPem: `test key of ${request.enrollmentId}`,
    };
  }

  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

/** A person on a test server: a bearer token, the principal it stands for, and their place in agreements. */
export interface Person {
  readonly token: string;
  readonly principal: Principal;
  readonly party: { readonly mspId: string; readonly userId: string };
}

/** A running API on a real loopback socket, with a real database and the in-memory ledger. */
export interface TestServer {
  readonly url: string;
  readonly db: Db;
  readonly ledger: InMemoryLedgerAccess;
  readonly accounts: AccountService;
  readonly config: ApiConfig;
  /** The feed GraphQL subscriptions read, to publish events into. */
  readonly events: AgreementEventFeed;
  /** The settlement runtime, when the options gave one. */
  readonly settlement: SettlementRuntime | undefined;
  /** The secret the server signs its own tokens with, to forge or shorten tokens in tests. */
  readonly tokenSecret: string;
  /** The server's own metrics registry. */
  readonly metrics: Metrics;
  /** The access each GraphQL root field declares, by `Type.field`. */
  readonly graphqlAccess: ReadonlyMap<string, FieldAccess>;
  /** Creates a person and returns a bearer token for them. */
  person(userId: string, org: string, role: Role): Promise<Person>;
  /** The bootstrap administrator's direct changes to the consortium rules, before genesis is sealed. */
  genesis(actions: readonly GovernanceAction[]): Promise<void>;
  /** Hands the rules to governance: from then on only executed proposals change them. */
  sealGenesis(): Promise<void>;
  /** Creates a service account and returns its API key. */
  service(name: string, org: string, role: Role): Promise<{ key: string; id: string }>;
  /** `fetch` against the server with JSON in and out. */
  request(
    method: string,
    pathAndQuery: string,
    options?: { token?: string; apiKey?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: unknown; headers: Headers; text: string }>;
  /** Stops the server and removes the data folder it made for itself (none when the caller named one). */
  close(): Promise<void>;
}

/** What a test's settlement runtime is built from: the server's own parts. */
export interface TestServerParts {
  readonly db: Db;
  readonly ledger: InMemoryLedgerAccess;
  readonly log: Logger;
  readonly metrics: Metrics;
}

/** Settings a test may change that the environment does not carry. */
export interface TestServerOptions {
  /** How often live subscriptions re-check their caller (default 30 s). */
  readonly recheckIntervalMs?: number;
  readonly credentialThrottle?: CredentialThrottleOptions;
  /** Where the server logs (silent by default), e.g. to read what it logged. */
  readonly log?: Logger;
  /** A settlement runtime for the settlement routes, which answer 503 without one; stopped on close. */
  readonly settlement?: (parts: TestServerParts) => SettlementRuntime | Promise<SettlementRuntime>;
  /** Where proof bundles come from; GET /v1/proofs answers 503 without it. */
  readonly proofs?: ProofExporter;
  /** The channel's members; every test organisation is one without it. */
  readonly membership?: OrganisationMembership;
  /** Where rate limits count (the cluster primary's store, for a test server run as an HTTP worker); memory by default. */
  readonly rateLimitStore?: (name: string) => Store;
  /** The read log's anchoring; anchoring and verification answer 503 without it. */
  readonly readLogAnchoring?: (parts: TestServerParts) => ReadLogAnchoring | Promise<ReadLogAnchoring>;
  /** What `/metrics` answers (the cluster's, through the primary, for a test server run as an HTTP worker); this server's registry by default. */
  readonly metricsText?: () => Promise<string>;
  /**
   * Serves the connections handed to it through this registration (an HTTP worker's, from
   * its cluster primary) instead of listening; `url` is then empty.
   */
  readonly takeConnections?: (take: (socket: Socket) => void) => void;
}

/** The organisation operator test servers act as for set-up (parameters) and public reads. */
export const testOperator: Principal = {
  kind: 'service',
  id: 'operator',
  userId: 'operator',
  org: 'ClientOrg',
  mspId: 'ClientOrgMSP',
  role: 'admin',
  scopes: [],
  identityLabel: 'service:operator',
};

/**
 * Starts an API on a loopback port with `environment` over the test defaults. Without a
 * GIGLEDGER_DATA_DIR in `environment` the server has a fresh folder of its own, removed
 * by `close` (or at once, when the server does not start); a folder the caller names is
 * the caller's to remove.
 */
export async function startTestServer(
  environment: Record<string, string> = {},
  options: TestServerOptions = {},
): Promise<TestServer> {
  if (environment.GIGLEDGER_DATA_DIR !== undefined) return serveTestApi(environment, options, undefined);
  const ownDataDir = mkdtempSync(path.join(os.tmpdir(), 'gl-api-'));
  try {
    return await serveTestApi(environment, options, ownDataDir);
  } catch (error) {
    rmSync(ownDataDir, { recursive: true, force: true });
    throw error;
  }
}

async function serveTestApi(
  environment: Record<string, string>,
  options: TestServerOptions,
  ownDataDir: string | undefined,
): Promise<TestServer> {
  const config = parseApiConfig({
    GIGLEDGER_CONNECTION_PROFILE: '/dev/null',
    ...(ownDataDir === undefined ? {} : { GIGLEDGER_DATA_DIR: ownDataDir }),
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PORT: '4000',
    ...environment,
  });
  const db = await openDatabase(config.database);
  const metrics = new Metrics();
  const issuer = new TestIssuer();
  const wallet = new Wallet(db, 'test wallet key');
  const accounts = new AccountService(db, wallet, issuer, {
    ...(options.credentialThrottle === undefined ? {} : { credentialThrottle: options.credentialThrottle }),
    ...(options.membership === undefined ? {} : { membership: options.membership }),
  });
  const tokenSecret = 'a test signing secret of more than thirty-two characters';
  const tokens = new TokenService(config.jwt, tokenSecret);
  const events = new AgreementEventFeed({
    ...(options.recheckIntervalMs === undefined ? {} : { recheckIntervalMs: options.recheckIntervalMs }),
  });
  const ledger = new InMemoryLedgerAccess(metrics, (event) => {
    events.publish(event);
  });
  const log = options.log ?? createLogger(config.logLevel);
  const operator = testOperator;
  const operatorLedger = await ledger.clientFor(operator, log);
  for (const [name, value] of Object.entries({
    platformFeeBps: 250,
    defaultReviewWindowSeconds: 604_800,
    maxRevisions: 3,
    // Payout compliance is proven on the chaincode and on the real network.
    kycCredentialTypes: [],
    settlementOrganisations: ['ClientOrgMSP', 'AuditOrgMSP'],
    arbitrationPanelSize: 3,
    governanceQuorumBps: 5001,
    governancePassThresholdBps: 5000,
    governanceMinVotingSeconds: 3600,
    governanceMinTimelockSeconds: 3600,
    governanceExecutionWindowSeconds: 7 * 24 * 3600,
    auditGrantMaxSeconds: 366 * 24 * 3600,
  })) {
    await operatorLedger.parameters.setParameter({ name: name as 'platformFeeBps', value });
  }
  const settlement = await options.settlement?.({ db, ledger, log, metrics });
  const readLogAnchoring = await options.readLogAnchoring?.({ db, ledger, log, metrics });
  const deps: AppDependencies = {
    config,
    db,
    log,
    metrics,
    ledger,
    issuer,
    accounts,
    tokens,
    passport: createPassport(accounts, tokens),
    serviceLedger: operatorLedger,
    events,
    ledgerBlocks: inMemoryLedgerBlocks(ledger.ledger),
    statementSigner: testStatementSigner,
    statementAuthorities: new Map([['ClientOrgMSP', testOrganizationCa.certificatePem]]),
    claimSalts: new ClaimSalts('test wallet key'),
    ...(settlement === undefined ? {} : { settlement }),
    ...(options.proofs === undefined ? {} : { proofs: options.proofs }),
    ...(options.rateLimitStore === undefined ? {} : { rateLimitStore: options.rateLimitStore }),
    ...(readLogAnchoring === undefined ? {} : { readLogAnchoring }),
    ...(options.metricsText === undefined ? {} : { metricsText: options.metricsText }),
    // Every answer of every API test is checked against the OpenAPI document.
    checkResponses: true,
  };
  const connections = { keepAliveTimeoutMs: config.keepAliveTimeoutMs, requestTimeoutMs: config.requestTimeoutMs };
  let server: Server;
  let url = '';
  if (options.takeConnections === undefined) {
    server = await listenHttp(createApp(deps), {
      port: 0,
      host: '127.0.0.1',
      backlog: config.listenBacklog,
      ...connections,
    });
    url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  } else {
    server = createHttpServer(createApp(deps), connections);
    options.takeConnections(serveHandedConnections(server));
  }

  return {
    url,
    db,
    ledger,
    accounts,
    config,
    events,
    settlement,
    tokenSecret,
    metrics,
    graphqlAccess: accessOf(schemaModules(deps)),
    async person(userId, org, role) {
      const password = `password of ${userId}`;
      await accounts.createPerson({ userId, org, role, password });
      const principal = await accounts.checkPassword(userId, password);
      return { token: (await tokens.issue(userId)).token, principal, party: { mspId: principal.mspId, userId } };
    },
    async service(name, org, role) {
      const { key, apiKey } = await accounts.createApiKey({ name, org, role }, 'test');
      return { key, id: apiKey.id };
    },
    async request(method, pathAndQuery, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      if (options.apiKey !== undefined) headers['x-api-key'] = options.apiKey;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${url}${pathAndQuery}`, {
        method,
        headers,
        ...(options.body === undefined
          ? {}
          : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON (e.g. /metrics): keep the text.
      }
      return { status: response.status, body, headers: response.headers, text };
    },
    async genesis(actions) {
      await operatorLedger.governance.applyGenesisActions({ actions: [...actions] });
    },
    async sealGenesis() {
      await operatorLedger.governance.sealGenesis();
    },
    async close() {
      try {
        await settlement?.service.stop();
        await closeHttpServer(server);
        await db.destroy();
      } finally {
        if (ownDataDir !== undefined) rmSync(ownDataDir, { recursive: true, force: true });
      }
    },
  };
}
