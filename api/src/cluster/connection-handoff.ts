import { once } from 'node:events';
import type { Worker } from 'node:cluster';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ClusterMessage } from './cluster-messages.js';

/** Where the cluster's one listening socket is bound. */
export interface HandoffListenOptions {
  readonly port: number;
  readonly host: string;
  /** listen(2)'s backlog, as `listenHttp` takes it. */
  readonly backlog: number;
}

/**
 * The primary's listening socket, handing each accepted connection to the serving workers
 * in turn (round robin) as `node:cluster`'s own scheduling does, but so that a connection
 * is never left open with nobody to answer it.
 *
 * With `node:cluster`'s scheduling the primary keeps its copy of a handed socket until the
 * worker acknowledges it, and forgets to close it when the worker dies first: the client
 * then waits on an open connection until its own timeout (minutes, or for ever). Here the
 * primary keeps each handed socket until the worker says it took it (`connection-taken`)
 * and destroys the ones a worker that exits never took, so their clients see a reset, as
 * do the clients whose connections the dead worker had taken. Connections are accepted
 * paused, so the primary never reads a byte of them.
 */
export class ConnectionHandoff {
  readonly #log: Logger;
  readonly #server: net.Server;
  readonly #serving: Worker[] = [];
  #turn = 0;
  #ids = 0;
  #backlog = 511;
  /** Sockets handed to each worker and not yet taken, by id. */
  readonly #handed = new Map<Worker, Map<number, Socket>>();
  /** Accepted while no worker serves (at start, or between a crash and the replacement). */
  readonly #waiting: Socket[] = [];

  constructor(log: Logger) {
    this.#log = log;
    // Node's HTTP server sets TCP_NODELAY on the sockets it accepts itself; these it never
    // accepts, so the option is set here, on the socket every copy shares.
    this.#server = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
      // A client that resets before a worker takes its socket must not end the primary.
      socket.on('error', () => undefined);
      this.#hand(socket);
    });
  }

  /**
   * Binds the listening socket and resolves with its address.
   *
   * @throws the listen error (EADDRINUSE, EACCES) when the address cannot be bound.
   */
  async listen(options: HandoffListenOptions): Promise<AddressInfo> {
    this.#backlog = options.backlog;
    this.#server.listen({ port: options.port, host: options.host, backlog: options.backlog });
    await Promise.race([
      once(this.#server, 'listening'),
      once(this.#server, 'error').then(([error]) => {
        throw error as Error;
      }),
    ]);
    return this.#server.address() as AddressInfo;
  }

  /** Puts `worker` in the turn: it has said it serves. Connections waiting for a worker go to it. */
  serve(worker: Worker): void {
    if (this.#serving.includes(worker)) return;
    this.#serving.push(worker);
    for (const socket of this.#waiting.splice(0)) this.#hand(socket);
  }

  /** Takes `worker` out of the turn (it is stopping); the connections handed to it stay its own. */
  withdraw(worker: Worker): void {
    const index = this.#serving.indexOf(worker);
    if (index !== -1) this.#serving.splice(index, 1);
  }

  /** `worker` took the connection `id`: the primary's copy is closed, the worker's stays open. */
  taken(worker: Worker, id: number): void {
    const handed = this.#handed.get(worker);
    handed?.get(id)?.destroy();
    handed?.delete(id);
  }

  /** `worker` exited: out of the turn, and the connections it never took are closed. */
  lost(worker: Worker): void {
    this.withdraw(worker);
    const handed = this.#handed.get(worker);
    this.#handed.delete(worker);
    if (handed === undefined || handed.size === 0) return;
    this.#log.warn({ worker: worker.id, connections: handed.size }, 'connections the exited worker never took: closed');
    for (const socket of handed.values()) socket.destroy();
    // A send to the dead worker may still report its failure: nothing is left to hand again.
    handed.clear();
  }

  /**
   * Stops accepting at once; connections still waiting for a worker are closed, those
   * handed already are the workers' to finish.
   */
  close(): void {
    for (const socket of this.#waiting.splice(0)) socket.destroy();
    if (this.#server.listening) this.#server.close();
  }

  #hand(socket: Socket): void {
    const worker = this.#nextWorker();
    if (worker === undefined) {
      // As a listen backlog would, up to its size; past it the client is refused at once.
      if (this.#waiting.length >= this.#backlog) socket.destroy();
      else this.#waiting.push(socket);
      return;
    }
    const id = (this.#ids += 1);
    const handed = this.#handed.get(worker) ?? new Map<number, Socket>();
    this.#handed.set(worker, handed);
    handed.set(id, socket);
    // keepOpen: the primary's copy stays open until the worker says it took the socket.
    worker.send({ gigledger: 'connection', id } satisfies ClusterMessage, socket, { keepOpen: true }, (error) => {
      if (error === null || !handed.delete(id) || socket.destroyed) return;
      // The worker's channel is closing: it is dying. Another worker (or the wait) takes the socket.
      this.withdraw(worker);
      this.#hand(socket);
    });
  }

  #nextWorker(): Worker | undefined {
    while (this.#serving.length > 0) {
      this.#turn = (this.#turn + 1) % this.#serving.length;
      const worker = this.#serving[this.#turn];
      if (worker?.isConnected() === true) return worker;
      if (worker !== undefined) this.withdraw(worker);
    }
    return undefined;
  }
}
