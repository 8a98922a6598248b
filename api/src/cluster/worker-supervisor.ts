import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { rateLimitCounts, rateLimitRequest } from './primary-rate-limit-store.js';
import {
  isClusterMessage,
  type ClusterMessage,
  type LedgerEventMessage,
  type PrimaryAnswer,
} from './cluster-messages.js';
import { ConnectionHandoff, type HandoffListenOptions } from './connection-handoff.js';

/**
 * What a worker may ask of the primary, by request kind, given the request's payload and
 * the asking worker's id: the answer is sent back as it is.
 */
export type PrimaryHandlers = Readonly<Record<string, (payload: unknown, worker: number) => Promise<unknown>>>;

/** A field an error carries across the IPC channel: text, a number, a flag, or a list of texts. */
function isPlainField(value: unknown): boolean {
  if (Array.isArray(value)) return value.every((each) => typeof each === 'string');
  return ['string', 'number', 'boolean'].includes(typeof value);
}

/** How the primary runs its HTTP workers. */
export interface WorkerSupervisorOptions {
  readonly workers: number;
  /** Where the primary listens once every worker serves; it hands each connection to a worker in turn. */
  readonly listen: HandoffListenOptions;
  readonly log: Logger;
  /** Requests workers may make of the primary (anchoring the read log, waking the settlement service). */
  readonly handlers?: PrimaryHandlers;
  /** Worker exits (other than on stop) within `crashWindowMs` that make a crash loop (default 5 in 60 s). */
  readonly maxCrashes?: number;
  readonly crashWindowMs?: number;
  /** How long a stopping worker may take to finish its requests before it is killed (default 30 s). */
  readonly stopTimeoutMs?: number;
  /** Told of every worker that exits, asked or not, with its id (e.g. to end its request-id turns). */
  readonly onWorkerExit?: (worker: number) => void;
  /**
   * Called once when the workers crash in a loop or the address cannot be bound; the
   * caller stops the singletons and exits nonzero.
   */
  readonly onFatal: (error: Error) => void;
}

/** The primary's handle on its workers. */
export interface WorkerSupervisor {
  /**
   * The URL the cluster serves on, once every worker serves and the primary listens;
   * rejects on a crash loop before that or when the address cannot be bound.
   */
  readonly ready: Promise<string>;
  /** Sends `message` to every live worker. */
  broadcast(message: ClusterMessage): void;
  /** Sends a committed ledger event to the live workers that last said they have subscribers for it. */
  publishLedgerEvent(message: LedgerEventMessage): void;
  /** Process ids of the live workers. */
  pids(): number[];
  /**
   * Asks every live worker the question `kind` (answered by `PrimaryLink.answer`) and
   * resolves with the answers that came within `timeoutMs`, in no particular order: a
   * worker starting, stopping or stuck is left out rather than holding the caller.
   */
  askWorkers(kind: string, timeoutMs: number): Promise<unknown[]>;
  /**
   * Stops accepting connections, tells every worker to finish its requests and exit, and
   * resolves once all have exited; a worker still running after the stop timeout is killed.
   */
  stop(): Promise<void>;
}

/**
 * Forks `workers` HTTP workers (the same entry script, `cluster.isWorker` true there),
 * listens once they all serve and hands them the connections in turn (see
 * `ConnectionHandoff`), restarts one that exits unasked, and gives up (`onFatal`) when
 * they keep exiting.
 * It also carries what the workers share through the primary: the rate-limit counts
 * (kept here, see `PrimaryRateLimitStore`), failed-credential changes
 * (relayed from the worker that saw them to the others) and requests only the primary
 * may serve (`handlers`).
 *
 * @throws Error when called outside a cluster primary.
 */
export function superviseWorkers(options: WorkerSupervisorOptions): WorkerSupervisor {
  if (!cluster.isPrimary) throw new Error('superviseWorkers runs in the cluster primary only');
  const log = options.log.child({ component: 'cluster' });
  const maxCrashes = options.maxCrashes ?? 5;
  const crashWindowMs = options.crashWindowMs ?? 60_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  // Structured clone: ledger events carry bigints and rate-limit counts carry dates.
  cluster.setupPrimary({ serialization: 'advanced' });
  const handlers: PrimaryHandlers = { [rateLimitRequest]: rateLimitCounts(), ...options.handlers };

  const live = new Set<Worker>();
  /** Live workers with subscribers for committed events: the only ones sent them. */
  const wantingLedgerEvents = new Set<Worker>();
  const crashes: number[] = [];
  let stopping = false;
  let gaveUp = false;
  let resolveReady: (url: string) => void = () => undefined;
  let rejectReady: (error: Error) => void = () => undefined;
  const ready = new Promise<string>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // A failed start is reported through onFatal as well; nobody need await `ready` to learn of it.
  ready.catch(() => undefined);
  const handoff = new ConnectionHandoff(log);
  const firstServing = new Set<number>();
  const giveUp = (error: Error): void => {
    if (gaveUp) return;
    gaveUp = true;
    rejectReady(error);
    options.onFatal(error);
  };
  const listenOnceAllServe = (worker: Worker): void => {
    if (firstServing.size === options.workers) return;
    firstServing.add(worker.id);
    if (firstServing.size < options.workers) return;
    handoff.listen(options.listen).then(
      (address) => {
        resolveReady(`http://${options.listen.host}:${String(address.port)}`);
      },
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        log.error({ err: failure }, 'the API cluster cannot listen');
        giveUp(failure);
      },
    );
  };

  let questions = 0;
  /** Questions to the workers awaiting replies: what each has gathered, and who has still to answer. */
  const asked = new Map<number, { readonly replies: unknown[]; readonly waiting: Set<Worker>; done(): void }>();

  const send = (worker: Worker, message: ClusterMessage): void => {
    if (!worker.isConnected()) return;
    // A worker killed a moment ago still reads as connected until its channel's close is
    // seen, and the write fails (EPIPE). Without a callback Node raises that failure as an
    // 'error' event, which nothing handles and which ends the primary with every worker.
    // The worker's exit is handled on 'exit'; what it was sent is lost with it.
    worker.send(message, undefined, (error) => {
      if (error !== null) log.debug({ worker: worker.id, err: error }, 'message to a worker not sent');
    });
  };

  const answer = async (worker: Worker, id: number, kind: string, payload: unknown): Promise<void> => {
    const handler = handlers[kind];
    let reply: PrimaryAnswer;
    try {
      if (handler === undefined) throw new Error(`the primary serves no request ${kind}`);
      reply = { gigledger: 'answer', id, ok: true, value: await handler(payload, worker.id) };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      reply = {
        gigledger: 'answer',
        id,
        ok: false,
        // Only the error's own plain fields (code, field, transaction id, organisations): they rebuild its class in the worker.
        error: {
          name: failure.name,
          message: failure.message,
          detail: Object.fromEntries(Object.entries(failure).filter(([, value]) => isPlainField(value))),
        },
      };
    }
    send(worker, reply);
  };

  const fork = (): void => {
    const worker = cluster.fork();
    live.add(worker);
    // Any other failure of the channel is the worker's end; it must not end the primary too.
    worker.on('error', (error) => {
      log.warn({ worker: worker.id, err: error }, 'worker channel failed');
    });
    worker.on('message', (message: unknown) => {
      if (isClusterMessage(message, 'request')) {
        void answer(worker, message.id, message.kind, message.payload);
      } else if (isClusterMessage(message, 'reply')) {
        const question = asked.get(message.id);
        if (question?.waiting.delete(worker) !== true) return;
        question.replies.push(message.value);
        if (question.waiting.size === 0) question.done();
      } else if (isClusterMessage(message, 'throttle')) {
        for (const other of live) if (other !== worker) send(other, message);
      } else if (isClusterMessage(message, 'ledger-events-wanted')) {
        if (message.wanted) wantingLedgerEvents.add(worker);
        else wantingLedgerEvents.delete(worker);
      } else if (isClusterMessage(message, 'connection-taken')) {
        handoff.taken(worker, message.id);
      } else if (isClusterMessage(message, 'serving')) {
        log.info({ worker: worker.id, pid: worker.process.pid }, 'worker serving');
        if (stopping) return;
        handoff.serve(worker);
        listenOnceAllServe(worker);
      }
    });
    worker.on('exit', (code, signal) => {
      live.delete(worker);
      wantingLedgerEvents.delete(worker);
      handoff.lost(worker);
      options.onWorkerExit?.(worker.id);
      for (const question of asked.values()) {
        if (question.waiting.delete(worker) && question.waiting.size === 0) question.done();
      }
      if (stopping || gaveUp) return;
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && (crashes[0] ?? 0) <= now - crashWindowMs) crashes.shift();
      if (crashes.length >= maxCrashes) {
        const error = new Error(
          `HTTP workers exited ${String(crashes.length)} times within ${String(crashWindowMs / 1000)} s; giving up`,
        );
        log.error({ worker: worker.id, code, signal }, error.message);
        giveUp(error);
        return;
      }
      log.error({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker exited; starting another');
      fork();
    });
  };
  for (let n = 0; n < options.workers; n += 1) fork();

  return {
    ready,
    broadcast(message) {
      for (const worker of live) send(worker, message);
    },
    publishLedgerEvent(message) {
      for (const worker of wantingLedgerEvents) send(worker, message);
    },
    pids() {
      return [...live].flatMap((worker) => (worker.process.pid === undefined ? [] : [worker.process.pid]));
    },
    askWorkers(kind, timeoutMs) {
      const id = (questions += 1);
      const waiting = new Set([...live].filter((worker) => worker.isConnected()));
      return new Promise((resolve) => {
        const replies: unknown[] = [];
        const timer = setTimeout(() => {
          done();
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          asked.delete(id);
          resolve(replies);
        };
        if (waiting.size === 0) {
          done();
          return;
        }
        asked.set(id, { replies, waiting, done });
        for (const worker of waiting) send(worker, { gigledger: 'question', id, kind });
      });
    },
    async stop() {
      stopping = true;
      handoff.close();
      for (const worker of live) handoff.withdraw(worker);
      await Promise.all(
        [...live].map(
          (worker) =>
            new Promise<void>((resolve) => {
              if (worker.isDead()) {
                resolve();
                return;
              }
              const timer = setTimeout(() => {
                log.warn({ worker: worker.id }, 'worker did not stop in time; killing it');
                worker.process.kill('SIGKILL');
              }, stopTimeoutMs);
              worker.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              send(worker, { gigledger: 'stop' });
            }),
        ),
      );
    },
  };
}
