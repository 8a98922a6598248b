import path from 'node:path';
import {
  ChaincodeEventFollower,
  LedgerGateway,
  ledgerClient,
  PeerConnections,
  readConnectionProfile,
  readMspIdentity,
} from '@gigledger/gateway';
import { apiVersion, createApp } from './app.js';
import { AccountService } from './auth/account-service.js';
import { createPassport } from './auth/passport-strategies.js';
import { TokenService } from './auth/tokens.js';
import { parseApiConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { FabricCaIssuer } from './identity/identity-issuer.js';
import { loadOrCreateSecret } from './identity/secrets.js';
import { Wallet } from './identity/wallet.js';
import { AgreementEventFeed } from './events/agreement-event-feed.js';
import { DatabaseCheckpointer } from './events/database-checkpointer.js';
import { GatewayLedgerAccess } from './ledger/ledger-access.js';
import { createLogger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';

const config = parseApiConfig(process.env);
const log = createLogger(config.logLevel);
const db = await openDatabase(config.database);
const profile = readConnectionProfile(config.connectionProfile);
const connections = new PeerConnections(profile);
const gateway = new LedgerGateway(connections);
const metrics = new Metrics();
const wallet = new Wallet(
  db,
  process.env.GIGLEDGER_WALLET_KEY ?? loadOrCreateSecret(path.join(config.dataDir, 'wallet.key'), 32),
);
const issuer = new FabricCaIssuer(profile);
const accounts = new AccountService(db, wallet, issuer);
const tokens = new TokenService(
  config.jwt,
  config.jwt.secret ?? loadOrCreateSecret(path.join(config.dataDir, 'jwt.secret'), 48),
);
const ledger = new GatewayLedgerAccess(gateway, connections, wallet, metrics);
const [serviceOrg] = profile.organizations;
if (serviceOrg === undefined) throw new Error('the connection profile lists no organisation');
const serviceSession = gateway.session(readMspIdentity(serviceOrg.operatorMspDir, serviceOrg.mspId));

const events = new AgreementEventFeed();
const follower = new ChaincodeEventFollower(
  serviceSession.gateway.getNetwork(profile.channel),
  profile.chaincode,
  new DatabaseCheckpointer(db, 'agreement-event-feed'),
  (event) => {
    events.publish(event);
    return Promise.resolve();
  },
  {
    onStreamError: (error, attempt) => {
      log.warn({ err: error, attempt }, 'chaincode event stream failed; reopening');
    },
  },
);
await follower.start();

const bootstrap = await accounts.ensureBootstrapAdmin(config.dataDir);
if (bootstrap.created)
  log.info({ file: bootstrap.file }, 'created the first administrator; its password is in the file');

const app = createApp({
  config,
  db,
  log,
  metrics,
  ledger,
  issuer,
  accounts,
  tokens,
  passport: createPassport(accounts, tokens),
  serviceLedger: ledgerClient(serviceSession.contract),
  events,
});
const server = app.listen(config.port, config.host, () => {
  log.info(
    { version: apiVersion, mode: config.mode },
    `GigLedger API listening on http://${config.host}:${config.port}`,
  );
});

function shutdown(signal: string): void {
  log.info(`${signal} received; closing`);
  server.close(() => {
    void follower.stop();
    ledger.close();
    serviceSession.close();
    connections.close();
    void db.destroy().finally(() => process.exit(0));
  });
  // Subscriptions hold connections open; close them rather than wait.
  server.closeAllConnections();
}
process.once('SIGTERM', () => {
  shutdown('SIGTERM');
});
process.once('SIGINT', () => {
  shutdown('SIGINT');
});
