/**
 * An API cluster of test servers, for the cluster's real-socket tests: `node
 * cluster-test-server.js <workers> <data dir> [fail]`. The primary runs the real
 * supervisor (rate-limit counts, credential-throttle relay, restarts, crash-loop exit,
 * drain on SIGTERM) over workers that are test servers (real HTTP, authentication, SQLite
 * shared through `<data dir>`, the in-memory ledger with the same audit grants in each).
 * `/metrics` on any worker answers the whole cluster's through the primary. Workers log every request as JSON on stdout, naming the worker; the tests read those
 * lines to see which worker served what. Once all workers listen the primary tells its
 * parent `{ url, auditorToken, pids }`; with `fail`, workers exit at start instead; with
 * `busy`, the primary and the workers keep their event loops busy and send to each other
 * between; with `die-on-connection`, a worker is killed as a connection is handed to it.
 */
import cluster from 'node:cluster';
import { pino } from 'pino';
import { answerMetricsQuestions, clusterMetricsRequest, clusterMetricsText } from '../cluster/cluster-metrics.js';
import { PrimaryLink } from '../cluster/primary-link.js';
import { PrimaryRateLimitStore } from '../cluster/primary-rate-limit-store.js';
import { shareCredentialThrottle } from '../cluster/worker-sharing.js';
import { superviseWorkers } from '../cluster/worker-supervisor.js';
import { grantAuditEverywhere } from './audit-grants.js';
import { startTestServer, type Person } from './test-server.js';

const [workersText, dataDir, mode] = process.argv.slice(2);
const environment = {
  GIGLEDGER_DATA_DIR: dataDir ?? '',
  RATE_LIMIT_PER_MINUTE: process.env.RATE_LIMIT_PER_MINUTE ?? '600',
};
const credentialThrottle = { failuresPerAddress: Number(process.env.AUTH_FAILURES_PER_ADDRESS ?? '20') };
const auditor = { party: { mspId: 'AuditOrgMSP', userId: 'cluster-auditor' } } as Person;

if (cluster.isPrimary) {
  const log = pino({ base: { process: 'primary' } });
  // The primary's own test server migrates the shared database and creates the auditor before any worker starts.
  const primary = await startTestServer(environment, { credentialThrottle });
  const person = await primary.person(auditor.party.userId, 'AuditOrg', 'auditor');
  const supervisor = superviseWorkers({
    workers: Number(workersText),
    // CLUSTER_PORT: a port of the test's choosing (one already taken, to see the cluster give up).
    listen: { port: Number(process.env.CLUSTER_PORT ?? '0'), host: '127.0.0.1', backlog: 511 },
    log,
    handlers: { [clusterMetricsRequest]: () => clusterMetricsText(primary.metrics.registry, supervisor) },
    maxCrashes: 3,
    stopTimeoutMs: 10_000,
    onFatal: () => {
      void primary.close().then(() => process.exit(1));
    },
  });
  const url = await supervisor.ready;
  if (mode === 'busy') {
    // A primary whose event loop is busy (50 ms at a time) and that then sends to every
    // worker: a worker killed meanwhile still reads as connected, and the send meets its closed channel.
    setInterval(() => {
      const until = Date.now() + 50;
      while (Date.now() < until);
      supervisor.broadcast({ gigledger: 'question', id: 0, kind: 'nothing' });
    }, 1).unref();
  }
  process.send?.({ url, auditorToken: person.token, pids: supervisor.pids() });
  process.on('message', (message) => {
    if (message === 'pids') process.send?.({ pids: supervisor.pids() });
  });
  process.once('SIGTERM', () => {
    log.info('SIGTERM received; draining the workers');
    void supervisor
      .stop()
      .then(() => primary.close())
      .then(() => {
        log.info('stopped');
        process.exit(0);
      });
  });
} else {
  if (mode === 'fail') process.exit(3);
  const link = new PrimaryLink();
  const log = pino({ base: { worker: cluster.worker?.id } });
  const server = await startTestServer(environment, {
    log,
    credentialThrottle,
    rateLimitStore: (name) => new PrimaryRateLimitStore(link, name),
    metricsText: async () => String(await link.request(clusterMetricsRequest)),
    takeConnections: (take) => {
      // A worker killed between the primary handing it a connection and its taking it.
      link.takeConnections(mode === 'die-on-connection' ? () => process.kill(process.pid, 'SIGKILL') : take);
    },
  });
  shareCredentialThrottle(server.accounts.throttle, link);
  answerMetricsQuestions(link, server.metrics.registry);
  await grantAuditEverywhere(server, auditor);
  let closing = false;
  const close = () => {
    if (closing) return;
    closing = true;
    void server.close().then(() => process.exit(0));
  };
  link.on('stop', close);
  // As the API's workers do: a primary gone is the end of its workers.
  process.once('disconnect', close);
  if (mode === 'busy') {
    // The same from the worker's side: busy, then asking the primary, which may have been killed meanwhile.
    setInterval(() => {
      const until = Date.now() + 50;
      while (Date.now() < until);
      link.request('nothing').catch(() => undefined);
    }, 1).unref();
  }
  link.send({ gigledger: 'serving' });
}
