import { readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChaincodeEvent, Checkpointer, CloseableAsyncIterable, Network } from '@hyperledger/fabric-gateway';

/** A chaincode event with its payload decoded from JSON. */
export interface LedgerEvent {
  readonly name: string;
  readonly payload: unknown;
  readonly transactionId: string;
  readonly blockNumber: bigint;
}

/**
 * A checkpoint that lives somewhere durable (a file, a database row). `load` runs once
 * before events are read; the `checkpoint*` methods persist before they resolve.
 */
export interface DurableCheckpointer extends Checkpointer {
  load(): Promise<void>;
}

export interface FollowOptions {
  /** Where to start when the checkpoint is empty; the next block by default. */
  readonly startBlock?: bigint;
  /** Called for a failed stream before it is reopened; the follower retries with backoff. */
  readonly onStreamError?: (error: unknown, attempt: number) => void;
  readonly maxBackoffMs?: number;
}

/**
 * Follows a chaincode's events from a durable checkpoint: each event is handled, then
 * checkpointed, in commit order. After a restart (or a broken stream) reading resumes
 * just after the last checkpointed event, so nothing is lost and, as long as the
 * handler finished before its checkpoint, nothing is handled twice.
 */
export class ChaincodeEventFollower {
  readonly #network: Network;
  readonly #chaincode: string;
  readonly #checkpointer: DurableCheckpointer;
  readonly #handle: (event: LedgerEvent) => Promise<void>;
  readonly #options: FollowOptions;
  #stream: CloseableAsyncIterable<ChaincodeEvent> | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;

  constructor(
    network: Network,
    chaincode: string,
    checkpointer: DurableCheckpointer,
    handle: (event: LedgerEvent) => Promise<void>,
    options: FollowOptions = {},
  ) {
    this.#network = network;
    this.#chaincode = chaincode;
    this.#checkpointer = checkpointer;
    this.#handle = handle;
    this.#options = options;
  }

  /** Starts following in the background; resolves once the checkpoint is loaded. */
  async start(): Promise<void> {
    await this.#checkpointer.load();
    this.#running = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stream?.close();
    await this.#running;
  }

  // A method rather than the field, so the compiler does not treat the flag as
  // unchanged across the awaits in #run.
  #isStopped(): boolean {
    return this.#stopped;
  }

  async #run(): Promise<void> {
    for (let attempt = 0; !this.#isStopped(); attempt += 1) {
      try {
        const resumable = this.#checkpointer.getBlockNumber() !== undefined;
        this.#stream = await this.#network.getChaincodeEvents(this.#chaincode, {
          checkpoint: this.#checkpointer,
          ...(!resumable && this.#options.startBlock !== undefined ? { startBlock: this.#options.startBlock } : {}),
        });
        for await (const event of this.#stream) {
          await this.#handle(decode(event));
          await this.#checkpointer.checkpointChaincodeEvent(event);
          attempt = 0;
        }
      } catch (error) {
        if (this.#isStopped()) return;
        this.#options.onStreamError?.(error, attempt);
        await delay(Math.min(this.#options.maxBackoffMs ?? 10_000, 250 * 2 ** Math.min(attempt, 8)));
      } finally {
        this.#stream?.close();
      }
    }
  }
}

function decode(event: ChaincodeEvent): LedgerEvent {
  const text = new TextDecoder().decode(event.payload);
  let payload: unknown = text;
  try {
    payload = JSON.parse(text);
  } catch {
    // A payload that is not JSON is handed over as text.
  }
  return { name: event.eventName, payload, transactionId: event.transactionId, blockNumber: event.blockNumber };
}

/**
 * The bookkeeping every stored checkpoint shares; subclasses only read and write the
 * position (block number, and the last transaction handled within that block).
 */
export abstract class StoredCheckpointer implements DurableCheckpointer {
  #blockNumber: bigint | undefined;
  #transactionId: string | undefined;

  protected abstract read(): Promise<{ blockNumber: bigint; transactionId: string | undefined } | undefined>;
  protected abstract write(blockNumber: bigint, transactionId: string | undefined): Promise<void>;

  async load(): Promise<void> {
    const saved = await this.read();
    this.#blockNumber = saved?.blockNumber;
    this.#transactionId = saved?.transactionId;
  }

  getBlockNumber(): bigint | undefined {
    return this.#blockNumber;
  }

  getTransactionId(): string | undefined {
    return this.#transactionId;
  }

  async checkpointBlock(blockNumber: bigint): Promise<void> {
    await this.#save(blockNumber + 1n, undefined);
  }

  async checkpointTransaction(blockNumber: bigint, transactionId: string): Promise<void> {
    await this.#save(blockNumber, transactionId);
  }

  async checkpointChaincodeEvent(event: ChaincodeEvent): Promise<void> {
    await this.#save(event.blockNumber, event.transactionId);
  }

  async #save(blockNumber: bigint, transactionId: string | undefined): Promise<void> {
    await this.write(blockNumber, transactionId);
    this.#blockNumber = blockNumber;
    this.#transactionId = transactionId;
  }
}

/**
 * A checkpoint in a JSON file, replaced atomically on every update, for consumers
 * without a database.
 */
export class FileCheckpointer extends StoredCheckpointer {
  readonly #file: string;

  constructor(file: string) {
    super();
    this.#file = file;
  }

  protected async read(): Promise<{ blockNumber: bigint; transactionId: string | undefined } | undefined> {
    try {
      const saved = JSON.parse(await readFile(this.#file, 'utf8')) as { blockNumber: string; transactionId?: string };
      return { blockNumber: BigInt(saved.blockNumber), transactionId: saved.transactionId };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  protected async write(blockNumber: bigint, transactionId: string | undefined): Promise<void> {
    const temporary = `${this.#file}.${process.pid}.tmp`;
    await writeFile(
      temporary,
      JSON.stringify({
        blockNumber: blockNumber.toString(),
        ...(transactionId === undefined ? {} : { transactionId }),
      }),
    );
    await rename(temporary, this.#file);
  }
}
