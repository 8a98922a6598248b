import cluster from 'node:cluster';
import type { Socket } from 'node:net';
import {
  CommitFailedError,
  CommitStatusUnknownError,
  EndorsementError,
  EvaluationError,
  LedgerError,
  NotMemberError,
  PeersBusyError,
  RefusedError,
  SubmissionError,
} from '@gigledger/gateway';
import type { RefusalCode } from '@gigledger/chaincode/model';
import { isClusterMessage, type ClusterMessage } from './cluster-messages.js';
import { ApiError } from '../errors/api-error.js';

/**
 * What a request the primary cannot answer is failed with: the primary has gone (killed,
 * restarting) and this worker is closing, so the client is told to send it again (503,
 * `Retry-After`), not that the server failed (500). A request that could not be written
 * never reached the primary; a command the primary had taken when it went away is sent
 * again under the same request id, which acts once.
 */
function primaryGone(why: string): ApiError {
  return new ApiError(503, 'SERVER_RESTARTING', `this server is restarting (${why}); send the request again`);
}

type ClusterMessageKind = ClusterMessage['gigledger'];

/**
 * A worker's end of the IPC channel to its primary: requests that only the primary
 * serves (answered or failed with the primary's error, rebuilt here), and messages the
 * primary sends unasked (ledger events, credential-throttle changes, stop).
 */
export class PrimaryLink {
  #next = 0;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly #handlers = new Map<ClusterMessageKind, ((message: ClusterMessage) => void)[]>();
  #takeConnection: ((socket: Socket) => void) | undefined;

  /** @throws Error when this process is not a cluster worker. */
  constructor() {
    if (!cluster.isWorker || process.send === undefined) throw new Error('a PrimaryLink lives in a cluster worker');
    process.on('message', (message: unknown, handle: unknown) => {
      if (isClusterMessage(message, 'connection')) {
        this.#took(message.id, handle as Socket | undefined);
        return;
      }
      if (isClusterMessage(message, 'answer')) {
        const pending = this.#pending.get(message.id);
        if (pending === undefined) return;
        this.#pending.delete(message.id);
        if (message.ok) pending.resolve(message.value);
        else pending.reject(rebuildError(message.error));
        return;
      }
      const kind = (message as { gigledger?: unknown } | null)?.gigledger;
      if (typeof kind !== 'string') return;
      for (const handler of this.#handlers.get(kind as ClusterMessageKind) ?? []) handler(message as ClusterMessage);
    });
    // No answer comes once the primary is gone; the worker is closing then (see runApiCluster).
    process.once('disconnect', () => {
      for (const [id, pending] of this.#pending) {
        this.#pending.delete(id);
        pending.reject(primaryGone('its cluster primary went away before it answered'));
      }
    });
  }

  /**
   * Sends a message to the primary, without waiting for anything. A message the channel
   * no longer takes (the primary has gone) is dropped: this worker closes on the
   * disconnect that follows (see runApiCluster).
   */
  send(message: ClusterMessage): void {
    if (!process.connected) return;
    // With a callback a failed write is reported here rather than as an 'error' event that would end the worker.
    process.send?.(message, undefined, undefined, () => undefined);
  }

  /**
   * Asks the primary to run its handler of `kind` and resolves with what it answered.
   *
   * @throws the primary's error, rebuilt as a gateway error class when it was one (so the
   *   error handler maps it as it would in the primary), else as an Error of its message;
   *   ApiError 503 SERVER_RESTARTING when the primary is gone or the request cannot be
   *   written to it.
   */
  request(kind: string, payload: unknown = null): Promise<unknown> {
    const id = (this.#next += 1);
    return new Promise((resolve, reject) => {
      if (!process.connected) {
        reject(primaryGone('its cluster primary went away before it answered'));
        return;
      }
      this.#pending.set(id, { resolve, reject });
      process.send?.(
        { gigledger: 'request', id, kind, payload } satisfies ClusterMessage,
        undefined,
        undefined,
        (error) => {
          if (error === null || !this.#pending.delete(id)) return;
          reject(primaryGone(`its cluster primary could not be asked: ${error.message}`));
        },
      );
    });
  }

  /**
   * Answers the primary's questions of `kind` (see `WorkerSupervisor.askWorkers`) with
   * what `answer` resolves to; one that fails is not answered, and the primary goes on
   * without this worker's part once it stops waiting.
   */
  answer(kind: string, answer: () => Promise<unknown>): void {
    this.on('question', (question) => {
      if (question.kind !== kind) return;
      answer().then(
        (value) => {
          this.send({ gigledger: 'reply', id: question.id, value });
        },
        () => undefined,
      );
    });
  }

  /**
   * Serves the connections the primary accepts and hands to this worker with `take` (see
   * `serveHandedConnections`). Each is acknowledged once taken: until then the primary
   * keeps its own copy of the socket, and closes it should this worker die first, so that
   * its client sees the connection reset rather than wait on it.
   */
  takeConnections(take: (socket: Socket) => void): void {
    this.#takeConnection = take;
  }

  #took(id: number, socket: Socket | undefined): void {
    if (socket !== undefined) {
      if (this.#takeConnection === undefined) socket.destroy();
      else this.#takeConnection(socket);
    }
    this.send({ gigledger: 'connection-taken', id });
  }

  /** Calls `handler` with every message of `kind` the primary sends. */
  on<Kind extends ClusterMessageKind>(
    kind: Kind,
    handler: (message: Extract<ClusterMessage, { gigledger: Kind }>) => void,
  ): void {
    const handlers = this.#handlers.get(kind) ?? [];
    handlers.push(handler as (message: ClusterMessage) => void);
    this.#handlers.set(kind, handlers);
  }
}

const ledgerErrors: Readonly<
  Record<
    string,
    new (message: string, options: { transactionId?: string; organisations?: readonly string[] }) => LedgerError
  >
> = {
  LedgerError,
  EndorsementError,
  EvaluationError,
  PeersBusyError,
  NotMemberError,
  SubmissionError,
  CommitStatusUnknownError,
};

/**
 * The primary's error as the worker's error handler expects it: the same class where it
 * matters (a plain Error would answer 500 where the class answers 503 or 504).
 */
export function rebuildError(error: {
  readonly name: string;
  readonly message: string;
  readonly detail?: unknown;
}): Error {
  const detail = (error.detail ?? {}) as Record<string, unknown>;
  const transactionId = typeof detail.transactionId === 'string' ? detail.transactionId : undefined;
  const options = transactionId === undefined ? {} : { transactionId };
  if (error.name === 'RefusedError' && typeof detail.code === 'string' && typeof detail.refusal === 'string') {
    return new RefusedError(
      {
        code: detail.code as RefusalCode,
        message: detail.refusal,
        ...(typeof detail.field === 'string' ? { field: detail.field } : {}),
      },
      options,
    );
  }
  if (error.name === 'CommitFailedError' && typeof detail.validationCode === 'string' && transactionId !== undefined) {
    return new CommitFailedError(detail.validationCode, { transactionId });
  }
  const LedgerClass = ledgerErrors[error.name];
  const { organisations } = detail;
  if (LedgerClass !== undefined) {
    return new LedgerClass(error.message, {
      ...options,
      ...(Array.isArray(organisations)
        ? { organisations: organisations.filter((each) => typeof each === 'string') }
        : {}),
    });
  }
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  return rebuilt;
}
