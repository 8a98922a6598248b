import { readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as delay, setImmediate } from 'node:timers/promises';
import type { ChaincodeEvent, Checkpointer, CloseableAsyncIterable, Network } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import { decodeBlockContents, type BlockContents } from './block-contents.js';

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

/** Where a follower's stream starts: after the checkpoint, or at `startBlock` while it is empty. */
interface StreamOptions {
  readonly checkpoint: Checkpointer;
  readonly startBlock?: bigint;
}

/** What a stream's next item is while it has not arrived. */
const notReady = Symbol('not ready');

/**
 * Reads a stream from a durable checkpoint: items are handled one at a time in commit
 * order, and the checkpoint is written once per block, naming the last item handled:
 * when the next item is of a later block, when none has arrived yet (so a quiet stream
 * is never behind), when the stream fails or a handler fails (after the items before
 * it), and on `stop()`. A checkpoint is a database write; the events of one block
 * arrive together, so one write serves them all.
 *
 * After a restart (or a broken stream) reading resumes just after the last checkpointed
 * item, so nothing is lost. Nothing is handled twice as long as a handler's lasting
 * effects are in place by the checkpoint that covers them: an item whose handler failed
 * is never checkpointed; and if the process dies between two items of one block, the
 * block's items handled so far are handed over again, so a handler whose effects outlive
 * the process writes its own position with them in one transaction (as the settlement
 * outbox does) or applies them idempotently. Subclasses say what they stream.
 */
abstract class CheckpointedFollower<Item, Handled> {
  readonly #checkpointer: DurableCheckpointer;
  readonly #handle: (item: Handled) => Promise<void>;
  readonly #options: FollowOptions;
  #stream: CloseableAsyncIterable<Item> | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;

  constructor(checkpointer: DurableCheckpointer, handle: (item: Handled) => Promise<void>, options: FollowOptions) {
    this.#checkpointer = checkpointer;
    this.#handle = handle;
    this.#options = options;
  }

  protected abstract open(options: StreamOptions): Promise<CloseableAsyncIterable<Item>>;
  protected abstract decode(item: Item): Handled;
  protected abstract checkpoint(checkpointer: DurableCheckpointer, item: Item): Promise<void>;
  /** The number of the block the item belongs to. */
  protected abstract blockOf(item: Item): bigint;

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
      // Handled, and not yet checkpointed: the checkpoint is written once per block.
      let pending: Item | undefined;
      const flush = async (): Promise<void> => {
        if (pending === undefined) return;
        const item = pending;
        pending = undefined;
        await this.checkpoint(this.#checkpointer, item);
      };
      try {
        const resumable = this.#checkpointer.getBlockNumber() !== undefined;
        this.#stream = await this.open({
          checkpoint: this.#checkpointer,
          ...(!resumable && this.#options.startBlock !== undefined ? { startBlock: this.#options.startBlock } : {}),
        });
        const items = this.#stream[Symbol.asyncIterator]();
        for (;;) {
          const next = items.next();
          if (pending !== undefined) {
            // Kept from rejecting unobserved while the checkpoint is written; awaited below.
            next.catch(() => undefined);
            const ready = await Promise.race([next, setImmediate().then((): typeof notReady => notReady)]);
            if (ready === notReady || ready.done === true || this.blockOf(ready.value) !== this.blockOf(pending)) {
              await flush();
            }
          }
          const step = await next;
          if (step.done === true) break;
          await this.#handle(this.decode(step.value));
          pending = step.value;
          attempt = 0;
        }
        await flush();
      } catch (error) {
        // What was handled before the failure is not handed over again when the stream reopens.
        try {
          await flush();
        } catch (checkpointError) {
          this.#options.onStreamError?.(checkpointError, attempt);
        }
        if (this.#isStopped()) return;
        this.#options.onStreamError?.(error, attempt);
        await delay(Math.min(this.#options.maxBackoffMs ?? 10_000, 250 * 2 ** Math.min(attempt, 8)));
      } finally {
        this.#stream?.close();
      }
    }
  }
}

/** Follows a chaincode's events (see {@link CheckpointedFollower} for the guarantees). */
export class ChaincodeEventFollower extends CheckpointedFollower<ChaincodeEvent, LedgerEvent> {
  readonly #network: Network;
  readonly #chaincode: string;

  constructor(
    network: Network,
    chaincode: string,
    checkpointer: DurableCheckpointer,
    handle: (event: LedgerEvent) => Promise<void>,
    options: FollowOptions = {},
  ) {
    super(checkpointer, handle, options);
    this.#network = network;
    this.#chaincode = chaincode;
  }

  protected open(options: StreamOptions): Promise<CloseableAsyncIterable<ChaincodeEvent>> {
    return this.#network.getChaincodeEvents(this.#chaincode, options);
  }

  protected decode(event: ChaincodeEvent): LedgerEvent {
    return decode(event);
  }

  protected checkpoint(checkpointer: DurableCheckpointer, event: ChaincodeEvent): Promise<void> {
    return checkpointer.checkpointChaincodeEvent(event);
  }

  protected blockOf(event: ChaincodeEvent): bigint {
    return event.blockNumber;
  }
}

/** A committed block as an index or audit consumer needs it. */
export interface LedgerBlock {
  readonly blockNumber: bigint;
  readonly transactions: readonly { readonly transactionId: string; readonly validationCode: number }[];
  /** The block as the orderer cut it, for consumers that read more. */
  readonly block: common.Block;
}

/** A follower of the channel's blocks; subclasses say how a block is decoded for the handler. */
abstract class BlockStreamFollower<Handled> extends CheckpointedFollower<common.Block, Handled> {
  readonly #network: Network;

  constructor(
    network: Network,
    checkpointer: DurableCheckpointer,
    handle: (block: Handled) => Promise<void>,
    options: FollowOptions = {},
  ) {
    super(checkpointer, handle, options);
    this.#network = network;
  }

  protected open(options: StreamOptions): Promise<CloseableAsyncIterable<common.Block>> {
    return this.#network.getBlockEvents(options);
  }

  protected checkpoint(checkpointer: DurableCheckpointer, block: common.Block): Promise<void> {
    return checkpointer.checkpointBlock(this.blockOf(block));
  }

  protected blockOf(block: common.Block): bigint {
    return BigInt(block.getHeader()?.getNumber() ?? 0);
  }
}

/**
 * Follows every committed block of the channel, handing over its transactions' ids and
 * validation codes (see {@link CheckpointedFollower} for the guarantees).
 */
export class BlockEventFollower extends BlockStreamFollower<LedgerBlock> {
  protected decode(block: common.Block): LedgerBlock {
    return decodeBlock(block);
  }
}

/**
 * Follows every committed block of the channel, handing over its whole contents
 * ({@link decodeBlockContents}): each block is decoded once, for consumers that index
 * what transactions did (see {@link CheckpointedFollower} for the guarantees).
 */
export class BlockContentsFollower extends BlockStreamFollower<BlockContents> {
  protected decode(block: common.Block): BlockContents {
    return decodeBlockContents(block);
  }
}

/** The block number and each transaction's id and validation code (from the block metadata). */
export function decodeBlock(block: common.Block): LedgerBlock {
  const header = block.getHeader();
  if (header === undefined) throw new Error('a block without a header');
  const validationCodes =
    block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array();
  const transactions = (block.getData()?.getDataList_asU8() ?? []).map((envelopeBytes, index) => {
    const payload = common.Payload.deserializeBinary(
      common.Envelope.deserializeBinary(envelopeBytes).getPayload_asU8(),
    );
    const channelHeader = common.ChannelHeader.deserializeBinary(
      payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
    );
    return { transactionId: channelHeader.getTxId(), validationCode: validationCodes[index] ?? 254 };
  });
  return { blockNumber: BigInt(header.getNumber()), transactions, block };
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
