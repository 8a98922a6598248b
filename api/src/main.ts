import { LedgerGateway, PeerConnections, readConnectionProfile, readMspIdentity } from '@gigledger/gateway';
import { createApp } from './app.js';
import { parseApiConfig } from './config.js';

function log(entry: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}

const config = parseApiConfig(process.env);
const profile = readConnectionProfile(config.connectionProfile);
const [serviceOrg] = profile.organizations;
if (serviceOrg === undefined) throw new Error('the connection profile lists no organisation');
const connections = new PeerConnections(profile);
const ledger = new LedgerGateway(connections);
const serviceSession = ledger.session(readMspIdentity(serviceOrg.operatorMspDir, serviceOrg.mspId));
const app = createApp({ connections, serviceSession, log });
const server = app.listen(config.port, config.host, () => {
  log({ level: 'info', message: `GigLedger API listening on http://${config.host}:${config.port}` });
});

function shutdown(signal: string): void {
  log({ level: 'info', message: `${signal} received; closing` });
  server.close(() => {
    serviceSession.close();
    connections.close();
    process.exit(0);
  });
}
process.once('SIGTERM', () => {
  shutdown('SIGTERM');
});
process.once('SIGINT', () => {
  shutdown('SIGINT');
});
