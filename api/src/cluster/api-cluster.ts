import cluster from 'node:cluster';
import { untilStopSignal } from '@gigledger/gateway';
import type { ApiConfig } from '../config.js';
import { startApiPrimary, startApiWorker } from '../server.js';
import type { LedgerEventMessage } from './cluster-messages.js';
import { clusterMetricsRequest, clusterMetricsText } from './cluster-metrics.js';
import { PrimaryLink } from './primary-link.js';
import { RequestIdTurns, requestIdTurnHandlers } from './request-id-turns.js';
import { superviseWorkers, type WorkerSupervisor } from './worker-supervisor.js';

/**
 * Runs the API as a `node:cluster` of `config.workers` HTTP workers (API_WORKERS > 1):
 * called in every process of it, it takes the primary's part or a worker's.
 *
 * The primary does the singleton work (see `startApiPrimary`), forks the workers once it
 * has migrated the database and enrolled its service identities, listens once they serve
 * and hands each connection to one of them in turn, restarts a worker that exits, and on
 * SIGTERM (or SIGINT, SIGHUP) drains the workers first and then stops the singletons,
 * exiting 0. It exits 1 when the workers crash in a loop (5 exits within a minute), cannot
 * start, or the address cannot be bound.
 *
 * A worker serves REST and GraphQL on the connections handed to it; it stops when the
 * primary tells it to or goes away, not on a signal of its own, so that a terminal's
 * Ctrl-C (sent to the whole process group) still stops the cluster in order.
 */
export async function runApiCluster(config: ApiConfig, walletKey: string | undefined): Promise<void> {
  if (cluster.isPrimary) await runPrimary(config, walletKey);
  else await runWorker(config, walletKey);
}

async function runPrimary(config: ApiConfig, walletKey: string | undefined): Promise<void> {
  // Events committed before the workers exist have no subscriber to miss them.
  let toWorkers: (message: LedgerEventMessage) => void = () => undefined;
  // Every process sends as the same people: one queue of turns with their request ids.
  const requestIdTurns = new RequestIdTurns();
  const primary = await startApiPrimary(
    config,
    walletKey,
    (event) => {
      toWorkers({ gigledger: 'ledger-event', event });
    },
    requestIdTurns.forPrimary(),
  );
  const log = primary.log;
  let exiting: Promise<void> | undefined;
  const shutdown = (code: number): Promise<void> =>
    (exiting ??= (async () => {
      try {
        await supervisor.stop();
        await primary.close();
      } catch (error) {
        log.error({ err: error }, 'shutdown failed');
        code = 1;
      }
      process.exit(code);
    })());
  const supervisor: WorkerSupervisor = superviseWorkers({
    workers: config.workers,
    listen: { port: config.port, host: config.host, backlog: config.listenBacklog },
    log,
    handlers: {
      ...primary.handlers,
      ...requestIdTurnHandlers(requestIdTurns),
      [clusterMetricsRequest]: () => clusterMetricsText(primary.metrics.registry, supervisor),
    },
    onWorkerExit: (worker) => {
      requestIdTurns.forget(worker);
    },
    onFatal: () => {
      void shutdown(1);
    },
  });
  toWorkers = (message) => {
    supervisor.publishLedgerEvent(message);
  };
  supervisor.ready.then(
    (url) => {
      log.info({ workers: config.workers, url }, 'API cluster serving');
    },
    () => undefined,
  );
  const signal = await untilStopSignal((repeated) => {
    log.info(`${repeated} received; already closing`);
  });
  log.info(`${signal} received; draining the workers, then stopping`);
  await shutdown(0);
}

async function runWorker(config: ApiConfig, walletKey: string | undefined): Promise<void> {
  const link = new PrimaryLink();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
  // Told to stop while still starting (the cluster stopping as it replaces a worker): close
  // as soon as started, rather than sit out the primary's stop timeout.
  const stop = { asked: false };
  const askStop = (): void => {
    stop.asked = true;
  };
  link.on('stop', askStop);
  process.once('disconnect', askStop);
  const running = await startApiWorker(config, walletKey, link, cluster.worker?.id ?? 0).catch((error: unknown) => {
    process.stderr.write(
      `HTTP worker could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        running.deps.log.error({ err: error }, 'worker shutdown failed');
        process.exit(1);
      },
    );
  };
  link.on('stop', close);
  process.once('disconnect', close);
  if (stop.asked) close();
  else link.send({ gigledger: 'serving' });
}
