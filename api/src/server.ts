import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ReadLogAnchor } from '@gigledger/chaincode/model';
import {
  ChaincodeEventFollower,
  LedgerGateway,
  type ConnectionProfile,
  type LedgerEvent,
  PeerConnections,
  defaultGatewayCallsInFlight,
  qsccChannelMembers,
  qsccLedgerBlocks,
  qsccProofExporter,
  readConnectionProfile,
  readMspIdentity,
  type LedgerSession,
  type RequestClaims,
  type SigningIdentity,
  type Submitted,
} from '@gigledger/gateway';
import type { IdentityIssuer } from './identity/identity-issuer.js';
import { apiVersion, createApp, type AppDependencies } from './app.js';
import { AccountService } from './auth/account-service.js';
import { ChannelMembership } from './auth/channel-membership.js';
import { serviceUserId } from './auth/principal.js';
import { createPassport } from './auth/passport-strategies.js';
import { TokenService } from './auth/tokens.js';
import type { ApiConfig } from './config.js';
import { openDatabase, type Db } from './db/database.js';
import { indexedChain } from './proofs/indexed-chain.js';
import { AgreementEventFeed } from './events/agreement-event-feed.js';
import { DatabaseCheckpointer } from './events/database-checkpointer.js';
import { FabricCaIssuer } from './identity/identity-issuer.js';
import { ClaimSalts } from './credentials/claim-salts.js';
import { loadOrCreateSecret } from './identity/secrets.js';
import { useTermsSaltSecret } from './agreements/terms-salt.js';
import { Wallet } from './identity/wallet.js';
import { GatewayLedgerAccess } from './ledger/ledger-access.js';
import { createLogger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { PayoutAccountStore } from './settlement/payout-accounts.js';
import { readSettlementConfig } from './settlement/settlement-config.js';
import { createSettlementRuntime, type SettlementRuntime } from './settlement/settlement-runtime.js';
import { ReadLog } from './audit/read-log.js';
import { ReadLogAnchorer } from './audit/read-log-anchorer.js';
import { instrumentedClient } from './ledger/instrumented-transport.js';
import { crashPoints, type CrashPoint } from '@gigledger/settlement';
import { indexCrashInjection } from './audit-index/index-crash.js';
import { IndexFollower } from './audit-index/index-follower.js';
import type { PrimaryLink } from './cluster/primary-link.js';
import { PrimaryRateLimitStore } from './cluster/primary-rate-limit-store.js';
import { answerMetricsQuestions, clusterMetricsRequest } from './cluster/cluster-metrics.js';
import { followPrimaryEvents, shareCredentialThrottle } from './cluster/worker-sharing.js';
import { primaryRequestClaims } from './cluster/request-id-turns.js';
import { closeHttpServer, createHttpServer, listenHttp, serveHandedConnections } from './http/listen.js';
import { useCursorSecret } from './http/ledger-pages.js';

/** A listening API server wired to a real network. */
export interface RunningServer {
  readonly url: string;
  readonly deps: AppDependencies;
  /** Where the first administrator's password was written, when it was created now. */
  readonly bootstrapAdminFile: string | undefined;
  close(): Promise<void>;
}

/**
 * What every API process opens from the configuration: the database, the wallet, the
 * CA, the gateway connections with read-your-writes, the accounts. An HTTP worker of a
 * cluster opens its own (its own gRPC connections); the primary opens them too.
 */
interface ServerParts {
  readonly config: ApiConfig;
  readonly log: Logger;
  readonly db: Db;
  readonly profile: ConnectionProfile;
  readonly connections: PeerConnections;
  readonly gateway: LedgerGateway;
  readonly metrics: Metrics;
  readonly walletSecret: string;
  readonly wallet: Wallet;
  readonly issuer: FabricCaIssuer;
  readonly tokens: TokenService;
  readonly ledger: GatewayLedgerAccess;
  readonly serviceOrg: ConnectionProfile['organizations'][number];
  readonly serviceIdentity: SigningIdentity;
  readonly serviceSession: LedgerSession;
  readonly network: ReturnType<LedgerSession['gateway']['getNetwork']>;
  readonly accounts: AccountService;
  readonly sessions: LedgerSession[];
  close(): Promise<void>;
}

async function openParts(config: ApiConfig, walletKey: string | undefined, log: Logger): Promise<ServerParts> {
  const db = await openDatabase(config.database);
  const profile = readConnectionProfile(config.connectionProfile);
  // The peer's Gateway service refuses calls past its concurrency limit; each process of
  // the deployment (with workers: each worker and the primary) takes its share of what one
  // process may keep in flight, so that together they stay below it.
  const processes = config.workers > 1 ? config.workers + 1 : 1;
  const connections = new PeerConnections(profile, {
    gatewayCallsInFlight: Math.max(1, Math.floor(defaultGatewayCallsInFlight / processes)),
  });
  const gateway = new LedgerGateway(connections);
  const metrics = new Metrics();
  gateway.onResubmit((_transactionId, reason) => {
    metrics.ledgerResubmissions.inc({ reason });
  });
  const walletSecret = walletKey ?? loadOrCreateSecret(path.join(config.dataDir, 'wallet.key'), 32);
  const wallet = new Wallet(db, walletSecret);
  const issuer = new FabricCaIssuer(profile);
  const deploymentSecret = config.jwt.secret ?? loadOrCreateSecret(path.join(config.dataDir, 'jwt.secret'), 48);
  const tokens = new TokenService(config.jwt, deploymentSecret);
  useCursorSecret(deploymentSecret);
  useTermsSaltSecret(deploymentSecret);
  const ledger = new GatewayLedgerAccess(gateway, connections, wallet, metrics);
  const [serviceOrg] = profile.organizations;
  if (serviceOrg === undefined) throw new Error('the connection profile lists no organisation');
  // The first organisation's operator reads public facts and signs portable statements.
  const serviceIdentity = readMspIdentity(serviceOrg.operatorMspDir, serviceOrg.mspId);
  // A command committed for one caller is visible to the next command and read on every peer.
  gateway.enableReadYourWrites(serviceIdentity);
  const serviceSession = gateway.session(serviceIdentity);
  const network = serviceSession.gateway.getNetwork(profile.channel);
  // Membership follows the channel configuration, so a removed organisation's people are refused without a restart.
  const accounts = new AccountService(db, wallet, issuer, {
    // Every worker examines passwords against the counts all of them share.
    credentialThrottle: { ...config.credentialThrottle, examiningProcesses: config.workers },
    membership: new ChannelMembership(qsccChannelMembers(network)),
  });
  const sessions: LedgerSession[] = [];
  return {
    config,
    log,
    db,
    profile,
    connections,
    gateway,
    metrics,
    walletSecret,
    wallet,
    issuer,
    tokens,
    ledger,
    serviceOrg,
    serviceIdentity,
    serviceSession,
    network,
    accounts,
    sessions,
    async close() {
      for (const session of sessions) session.close();
      ledger.close();
      serviceSession.close();
      gateway.close();
      connections.close();
      await db.destroy();
    },
  };
}

/**
 * The work exactly one process of a deployment does: the chaincode event follower that
 * feeds subscriptions, the audit index's block follower, the settlement service with its
 * outbox, the read log's anchoring, the first administrator.
 */
interface Singletons {
  readonly events: AgreementEventFeed;
  readonly settlement: SettlementRuntime | undefined;
  readonly auditIndex: IndexFollower | undefined;
  readonly anchorer: ReadLogAnchorer;
  readonly bootstrap: { readonly created: boolean; readonly file: string };
  stop(): Promise<void>;
}

/** @param onEvent also told of every committed chaincode event (the primary passes them to its workers). */
async function startSingletons(parts: ServerParts, onEvent?: (event: LedgerEvent) => void): Promise<Singletons> {
  const { config, db, log, metrics, network, profile, gateway, wallet, issuer, serviceOrg, sessions } = parts;
  const events = new AgreementEventFeed({ recheckIntervalMs: config.subscriptionRecheckMs });
  const follower = new ChaincodeEventFollower(
    network,
    profile.chaincode,
    new DatabaseCheckpointer(db, 'agreement-event-feed'),
    (event) => {
      events.publish(event);
      onEvent?.(event);
      return Promise.resolve();
    },
    {
      onStreamError: (error, attempt) => {
        log.warn({ err: error, attempt }, 'chaincode event stream failed; reopening');
      },
    },
  );
  await follower.start();

  // The audit index follows every block into the database, from its own height.
  const auditIndex = config.auditIndex
    ? new IndexFollower(network, db, {
        chaincode: profile.chaincode,
        log,
        crash: indexCrashInjection(process.env.GIGLEDGER_INDEX_CRASH_AT),
      })
    : undefined;
  await auditIndex?.start();

  const settlement = await settlementRuntime(parts, crashInjection(process.env.GIGLEDGER_SETTLEMENT_CRASH_AT));
  if (settlement !== undefined) {
    // Reported by the process that runs the service only: the workers' runtimes (for the
    // callback routes) read the same outbox, and several readings would be combined.
    metrics.observeSettlement(() => settlement.service.stats());
    await settlement.service.start();
    log.info({ providers: Object.keys(settlement.config.providers) }, 'settlement service started');
  }

  const anchorSession = gateway.session(
    await enrolledServiceIdentity(wallet, issuer, serviceOrg.name, readLogAnchorIdentityLabel, 'read-log-anchor'),
  );
  sessions.push(anchorSession);
  const anchorer = new ReadLogAnchorer({
    readLog: new ReadLog(db),
    // Instrumented as every caller's client is, so the anchoring shows in the ledger metrics.
    ledger: instrumentedClient(anchorSession.contract, metrics, log),
    log,
    intervalMs: config.readLogAnchorMs,
  });
  anchorer.start();

  const bootstrap = await parts.accounts.ensureBootstrapAdmin(config.dataDir);
  if (bootstrap.created)
    log.info({ file: bootstrap.file }, 'created the first administrator; its password is in the file');

  return {
    events,
    settlement,
    auditIndex,
    anchorer,
    bootstrap,
    async stop() {
      anchorer.stop();
      await settlement?.service.stop();
      await follower.stop();
      await auditIndex?.stop();
    },
  };
}

/** The settlement service over the parts, under the organisation's `settlement` identity, when settlement is configured. */
async function settlementRuntime(
  parts: ServerParts,
  crash?: (point: CrashPoint) => void,
): Promise<SettlementRuntime | undefined> {
  const { config, db, wallet, issuer, gateway } = parts;
  if (config.settlementConfigFile === undefined) return undefined;
  const settlementConfig = readSettlementConfig(config.settlementConfigFile);
  const orgName = settlementConfig.settlementOrg ?? parts.serviceOrg.name;
  const identity = await settlementIdentity(wallet, issuer, orgName);
  const settlementSession = gateway.session(identity);
  parts.sessions.push(settlementSession);
  return createSettlementRuntime({
    config: settlementConfig,
    organisation: identity.mspId,
    db,
    network: parts.network,
    chaincode: parts.profile.chaincode,
    // Instrumented as every caller's client is, so confirmations show in the ledger metrics.
    ledger: instrumentedClient(settlementSession.contract, parts.metrics, parts.log),
    accounts: new PayoutAccountStore(db, wallet.sealer),
    log: parts.log,
    metrics: parts.metrics,
    ...(crash === undefined ? {} : { crash }),
  });
}

/**
 * The HTTP side: the app over the parts, listening on the configured address, or (given
 * the worker's link to its cluster primary) serving the connections the primary hands over.
 */
async function listen(
  parts: ServerParts,
  extra: Pick<
    AppDependencies,
    'events' | 'settlement' | 'auditIndex' | 'readLogAnchoring' | 'rateLimitStore' | 'metricsText'
  >,
  handedBy?: PrimaryLink,
): Promise<{ url: string; deps: AppDependencies; close(): Promise<void> }> {
  const { config, db, log, metrics, ledger, issuer, accounts, tokens, network, profile, serviceSession } = parts;
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
    serviceLedger: instrumentedClient(serviceSession.contract, metrics, log),
    ledgerBlocks: qsccLedgerBlocks(network),
    proofs: qsccProofExporter(network, profile.chaincode, indexedChain(db)),
    statementSigner: parts.serviceIdentity,
    statementAuthorities: organisationCertificateAuthorities(profile.organizations),
    claimSalts: new ClaimSalts(parts.walletSecret),
    ...extra,
  };
  const connections = {
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
  };
  let url: string;
  let server: Server;
  if (handedBy === undefined) {
    server = await listenHttp(createApp(deps), {
      port: config.port,
      host: config.host,
      backlog: config.listenBacklog,
      ...connections,
    });
    url = `http://${config.host}:${String((server.address() as AddressInfo).port)}`;
    log.info({ version: apiVersion, mode: config.mode }, `GigLedger API listening on ${url}`);
  } else {
    server = createHttpServer(createApp(deps), connections);
    handedBy.takeConnections(serveHandedConnections(server));
    // The primary listens, on the configured address, once every worker serves.
    url = `http://${config.host}:${String(config.port)}`;
  }
  return {
    url,
    deps,
    close: () => closeHttpServer(server),
  };
}

/**
 * Builds every dependency from the configuration (database, wallet, CA enrollment,
 * gateway connections, the agreement event follower) and listens: the whole API in one
 * process. Used by main.ts (API_WORKERS=1) and by suites that run the API against a
 * real network.
 *
 * @param walletKey seals private keys in the wallet; generated into the data directory when absent.
 */
export async function startApiServer(config: ApiConfig, walletKey?: string): Promise<RunningServer> {
  const log = createLogger(config.logLevel);
  const parts = await openParts(config, walletKey, log);
  const singletons = await startSingletons(parts);
  const http = await listen(parts, {
    events: singletons.events,
    readLogAnchoring: { anchorer: singletons.anchorer, mspId: parts.serviceOrg.mspId },
    ...(singletons.settlement === undefined ? {} : { settlement: singletons.settlement }),
    ...(singletons.auditIndex === undefined ? {} : { auditIndex: singletons.auditIndex }),
  });
  return {
    url: http.url,
    deps: http.deps,
    bootstrapAdminFile: singletons.bootstrap.created ? singletons.bootstrap.file : undefined,
    async close() {
      await http.close();
      await singletons.stop();
      await parts.close();
    },
  };
}

/** The primary of an API cluster: the singleton work, no HTTP. */
export interface RunningPrimary {
  readonly log: Logger;
  /** The primary's own metrics, which `/metrics` adds to the workers'. */
  readonly metrics: Metrics;
  /** Where the first administrator's password was written, when it was created now. */
  readonly bootstrapAdminFile: string | undefined;
  /** What workers may ask of the primary: anchoring the read log now, waking the settlement service. */
  readonly handlers: Readonly<Record<string, (payload: unknown) => Promise<unknown>>>;
  close(): Promise<void>;
}

/**
 * Starts the singleton work of an API cluster's primary (migrating the database first,
 * so that workers open a current schema, and enrolling the service identities workers
 * then find in the wallet). Every committed chaincode event is passed to `onEvent`.
 */
export async function startApiPrimary(
  config: ApiConfig,
  walletKey: string | undefined,
  onEvent: (event: LedgerEvent) => void,
  requestClaims: RequestClaims,
): Promise<RunningPrimary> {
  const log = createLogger(config.logLevel).child({ process: 'primary' });
  const parts = await openParts(config, walletKey, log);
  parts.gateway.shareRequestIds(requestClaims);
  const singletons = await startSingletons(parts, onEvent);
  return {
    log,
    metrics: parts.metrics,
    bootstrapAdminFile: singletons.bootstrap.created ? singletons.bootstrap.file : undefined,
    handlers: {
      [anchorReadLogRequest]: async (payload) => {
        const { requestId } = payload as AnchorReadLogRequest;
        // null crosses the IPC channel where undefined would vanish: the log is still empty.
        return (await singletons.anchorer.anchorRequested(requestId)) ?? null;
      },
      [wakeSettlementRequest]: () => {
        singletons.settlement?.service.wake();
        return Promise.resolve(null);
      },
    },
    async close() {
      await singletons.stop();
      await parts.close();
    },
  };
}

const anchorReadLogRequest = 'anchor-read-log';
/** What a worker sends the primary to anchor the read log's head on a client's request. */
interface AnchorReadLogRequest {
  readonly requestId: string;
}
const wakeSettlementRequest = 'wake-settlement';

/**
 * An HTTP worker of an API cluster: its own gateway connections and app, serving the
 * connections the primary accepts on the shared port and hands over. What must be one per deployment is the primary's: committed events
 * arrive from the primary's follower, on-demand anchoring runs there, the settlement
 * service sweeps there (a callback or a payout account registered here only wakes it),
 * rate limits count there, failed-credential counts are replayed through it.
 */
export async function startApiWorker(
  config: ApiConfig,
  walletKey: string | undefined,
  link: PrimaryLink,
  workerId: number,
): Promise<RunningServer> {
  // Each request's line names the worker that served it, so operators (and tests) can tell them apart.
  const log = createLogger(config.logLevel).child({ worker: workerId });
  const parts = await openParts(config, walletKey, log);
  parts.gateway.shareRequestIds(primaryRequestClaims(link));
  shareCredentialThrottle(parts.accounts.throttle, link);
  answerMetricsQuestions(link, parts.metrics.registry);
  const events = new AgreementEventFeed({ recheckIntervalMs: config.subscriptionRecheckMs });
  followPrimaryEvents(events, link);
  // The settlement identity was enrolled by the primary before it forked the workers; read from the wallet here.
  const settlement = await settlementRuntime(parts);
  if (settlement !== undefined) {
    // Never started here: one sweeper per outbox. What the routes change in the outbox wakes the primary's.
    settlement.service.wake = () => {
      link.request(wakeSettlementRequest).catch((error: unknown) => {
        log.warn({ err: error }, 'could not wake the settlement service; its next sweep finds the change');
      });
    };
  }
  const http = await listen(
    parts,
    {
      events,
      rateLimitStore: (name) => new PrimaryRateLimitStore(link, name),
      metricsText: async () => String(await link.request(clusterMetricsRequest)),
      readLogAnchoring: {
        anchorer: {
          anchorRequested: async (requestId) =>
            ((await link.request(anchorReadLogRequest, {
              requestId,
            } satisfies AnchorReadLogRequest)) as Submitted<ReadLogAnchor> | null) ?? undefined,
        },
        mspId: parts.serviceOrg.mspId,
      },
      ...(settlement === undefined ? {} : { settlement }),
    },
    link,
  );
  return {
    url: http.url,
    deps: http.deps,
    bootstrapAdminFile: undefined,
    async close() {
      await http.close();
      await parts.close();
    },
  };
}

const settlementIdentityLabel = 'service:settlement-service';
const readLogAnchorIdentityLabel = 'service:read-log-anchor';

/** The organisation's `settlement` identity, enrolled once and kept in the wallet. */
function settlementIdentity(wallet: Wallet, issuer: IdentityIssuer, org: string): Promise<SigningIdentity> {
  return enrolledServiceIdentity(wallet, issuer, org, settlementIdentityLabel, 'settlement-service');
}

/**
 * One of the server's own service identities (role `settlement`, the machines' role),
 * enrolled once and kept in the wallet: the settlement service's, and the read-log
 * anchorer's, which signs nothing but anchors.
 */
async function enrolledServiceIdentity(
  wallet: Wallet,
  issuer: IdentityIssuer,
  org: string,
  label: string,
  name: string,
): Promise<SigningIdentity> {
  const stored = await wallet.get(label);
  if (stored !== undefined) return stored;
  // In the service namespace, under a name no person and no API key may take.
  const enrollmentId = serviceUserId(name);
  const identity = await issuer.issue({ org, enrollmentId, role: 'settlement', userId: enrollmentId });
  await wallet.put({ ...identity, label, enrollmentId });
  return identity;
}

/**
 * `GIGLEDGER_SETTLEMENT_CRASH_AT=<point>:<n>` kills the process (SIGKILL, no clean-up)
 * the n-th time the settlement service reaches that point, so tests can prove that no
 * crash loses or repeats a payment. Never set in operation.
 *
 * @throws Error when the value names no crash point.
 */
function crashInjection(setting: string | undefined): ((point: CrashPoint) => void) | undefined {
  if (setting === undefined || setting === '') return undefined;
  const [point, count] = setting.split(':');
  if (!crashPoints.includes(point as CrashPoint) || !/^[1-9][0-9]*$/.test(count ?? '')) {
    throw new Error(`GIGLEDGER_SETTLEMENT_CRASH_AT must be <${crashPoints.join('|')}>:<n>, got ${setting}`);
  }
  let remaining = Number(count);
  return (reached) => {
    if (reached !== point) return;
    remaining -= 1;
    if (remaining === 0) process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * Each organisation's CA certificate (the first in its operator MSP's `cacerts`, the CA
 * that issued its operator's certificate, which signs statements), by MSP id.
 */
function organisationCertificateAuthorities(
  organizations: readonly { readonly mspId: string; readonly operatorMspDir: string }[],
): Map<string, string> {
  const authorities = new Map<string, string>();
  for (const organization of organizations) {
    const directory = path.join(organization.operatorMspDir, 'cacerts');
    const [first] = readdirSync(directory)
      .filter((name) => name.endsWith('.pem'))
      .sort();
    if (first !== undefined) authorities.set(organization.mspId, readFileSync(path.join(directory, first), 'utf8'));
  }
  return authorities;
}
