import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChaincodeEvent, Checkpointer, CloseableAsyncIterable, Network } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import { decodeBlockContents, type BlockContents } from './block-contents.js';
import {
  BlockContentsFollower,
  BlockEventFollower,
  ChaincodeEventFollower,
  FileCheckpointer,
  StoredCheckpointer,
  type FollowOptions,
  type LedgerBlock,
  type LedgerEvent,
} from './event-follower.js';

/*
 * The followers against a stand-in for the two fabric-gateway streams they open. The
 * stand-in resumes from a checkpoint the way the gateway does (from the checkpoint's
 * block, past its last transaction), records every opening, and can break a stream once,
 * so that checkpoint, resume and retry can be checked without a network; the end-to-end
 * event suite proves the same against the real peers.
 */

interface OpenRequest {
  readonly blockNumber: bigint | undefined;
  readonly transactionId: string | undefined;
  readonly startBlock: bigint | undefined;
}

/** A stream that yields its items, then stays open until closed, like a live event stream. */
function liveStream<Item>(items: readonly Item[], breakAfter: number | undefined): CloseableAsyncIterable<Item> {
  let close = (): void => undefined;
  const closed = new Promise<void>((resolve) => {
    close = resolve;
  });
  let isClosed = false;
  const stream = {
    async *[Symbol.asyncIterator]() {
      for (const [index, item] of items.entries()) {
        if (isClosed) return;
        if (index === breakAfter) throw new Error('stream broken');
        yield item;
      }
      await closed;
    },
    close() {
      isClosed = true;
      close();
    },
    [Symbol.dispose]() {
      stream.close();
    },
  };
  return stream;
}

class ScriptedChannel {
  readonly events: ChaincodeEvent[] = [];

  /** @param events block number and transaction id of each committed event, in commit order. */
  constructor(events: readonly (readonly [bigint, string])[] = []) {
    for (const [blockNumber, transactionId] of events) this.addEvent(blockNumber, transactionId);
  }

  readonly blocks: bigint[] = [];
  readonly opened: OpenRequest[] = [];
  /** The next stream opened breaks after this many items, once. */
  breakNextAfter: number | undefined;

  addEvent(blockNumber: bigint, transactionId: string): void {
    this.events.push({
      blockNumber,
      transactionId,
      chaincodeName: 'gigledger',
      eventName: 'agreement.Test',
      payload: new TextEncoder().encode(JSON.stringify({ transactionId })),
    });
  }

  asNetwork(): Network {
    const open = <Item>(options: { checkpoint?: Checkpointer; startBlock?: bigint }, items: Item[]) => {
      this.opened.push({
        blockNumber: options.checkpoint?.getBlockNumber(),
        transactionId: options.checkpoint?.getTransactionId(),
        startBlock: options.startBlock,
      });
      const breakAfter = this.breakNextAfter;
      this.breakNextAfter = undefined;
      return Promise.resolve(liveStream(items, breakAfter));
    };
    const network = {
      getChaincodeEvents: (_chaincode: string, options: { checkpoint?: Checkpointer; startBlock?: bigint }) => {
        const from = options.checkpoint?.getBlockNumber() ?? options.startBlock ?? 0n;
        const after = options.checkpoint?.getTransactionId();
        const inOrder = this.events.filter((event) => event.blockNumber >= from);
        // Within the checkpoint's block, resume after the last transaction handled.
        const skip = after === undefined ? 0 : inOrder.findIndex((event) => event.transactionId === after) + 1;
        return open(options, inOrder.slice(skip));
      },
      getBlockEvents: (options: { checkpoint?: Checkpointer; startBlock?: bigint }) => {
        const from = options.checkpoint?.getBlockNumber() ?? options.startBlock ?? 0n;
        return open(
          options,
          this.blocks.filter((number) => number >= from).map((number) => block(number)),
        );
      },
    };
    return network as unknown as Network;
  }
}

function block(number: bigint): common.Block {
  const header = new common.BlockHeader();
  header.setNumber(Number(number));
  const built = new common.Block();
  built.setHeader(header);
  built.setData(new common.BlockData());
  return built;
}

/**
 * A durable store that outlives a follower, as a database outlives a killed process: the
 * effects handled, and the position the follower resumes from. Once `dead`, nothing more
 * reaches it.
 */
class PositionStore {
  readonly effects: string[] = [];
  /** Every checkpoint the follower wrote, as `block/transaction`. */
  readonly writes: string[] = [];
  position: { blockNumber: bigint; transactionId: string | undefined } | undefined;
  dead = false;

  /** An effect stored together with its position, in one write. */
  commit(transactionId: string, blockNumber: bigint): void {
    this.effects.push(transactionId);
    this.position = { blockNumber, transactionId };
  }

  checkpointer(): StoredCheckpointer {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the checkpointer reads and writes this store
    const store = this;
    return new (class extends StoredCheckpointer {
      protected read() {
        return Promise.resolve(store.position);
      }

      protected write(blockNumber: bigint, transactionId: string | undefined): Promise<void> {
        if (store.dead) return Promise.reject(new Error('killed'));
        store.writes.push(`${blockNumber.toString()}/${transactionId ?? ''}`);
        store.position = { blockNumber, transactionId };
        return Promise.resolve();
      }
    })();
  }
}

/** A chaincode event follower on the channel, checkpointing to the file. */
function followEvents(
  channel: ScriptedChannel,
  file: string,
  handle: (event: LedgerEvent) => Promise<void>,
  options: FollowOptions = {},
): ChaincodeEventFollower {
  return new ChaincodeEventFollower(channel.asNetwork(), 'gigledger', new FileCheckpointer(file), handle, options);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('ChaincodeEventFollower', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gl-follower-'));
    file = path.join(dir, 'checkpoint.json');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('checkpoints each event after handling it and, after a restart, resumes just past the last one', async () => {
    const channel = new ScriptedChannel([
      [3n, 'tx-a'],
      [3n, 'tx-b'],
      [4n, 'tx-c'],
    ]);
    const handled: LedgerEvent[] = [];
    const first = followEvents(channel, file, (event) => {
      handled.push(event);
      return Promise.resolve();
    });
    await first.start();
    await until(() => handled.length === 3, 'three events are handled');
    await first.stop();
    expect(handled.map((event) => [event.transactionId, event.blockNumber])).toEqual([
      ['tx-a', 3n],
      ['tx-b', 3n],
      ['tx-c', 4n],
    ]);
    expect(handled[0]?.payload).toEqual({ transactionId: 'tx-a' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ blockNumber: '4', transactionId: 'tx-c' });

    // Committed while nothing was following: one more event in the checkpoint's block, one after it.
    channel.addEvent(4n, 'tx-d');
    channel.addEvent(5n, 'tx-e');
    const afterRestart: string[] = [];
    const second = followEvents(channel, file, (event) => {
      afterRestart.push(event.transactionId);
      return Promise.resolve();
    });
    await second.start();
    await until(() => afterRestart.length === 2, 'the two new events are handled');
    await second.stop();
    expect(afterRestart).toEqual(['tx-d', 'tx-e']);
    expect(channel.opened.at(-1)).toEqual({ blockNumber: 4n, transactionId: 'tx-c', startBlock: undefined });
  });

  it('writes one checkpoint per block, naming its last event, without waiting for the next block', async () => {
    const channel = new ScriptedChannel([
      [1n, 'tx-1'],
      [1n, 'tx-2'],
      [1n, 'tx-3'],
      [2n, 'tx-4'],
      [3n, 'tx-5'],
      [3n, 'tx-6'],
    ]);
    const store = new PositionStore();
    const handled: string[] = [];
    const follower = new ChaincodeEventFollower(channel.asNetwork(), 'gigledger', store.checkpointer(), (event) => {
      handled.push(event.transactionId);
      return Promise.resolve();
    });
    await follower.start();
    await until(() => store.writes.length === 3, 'three checkpoints are written');
    expect(handled).toEqual(['tx-1', 'tx-2', 'tx-3', 'tx-4', 'tx-5', 'tx-6']);
    // Block 3's checkpoint was written while the stream stayed open with nothing more to read.
    expect(store.writes).toEqual(['1/tx-3', '2/tx-4', '3/tx-6']);
    await follower.stop();
    expect(store.writes).toEqual(['1/tx-3', '2/tx-4', '3/tx-6']);
  });

  it('after the process dies between two events of one block, a handler that stores its position with its effects sees each event once', async () => {
    const channel = new ScriptedChannel([
      [1n, 'tx-1'],
      [2n, 'tx-2'],
      [2n, 'tx-3'],
      [2n, 'tx-4'],
      [3n, 'tx-5'],
    ]);
    const store = new PositionStore();
    // Like the settlement outbox: the effect and the position in one write.
    const handler = (event: LedgerEvent): Promise<void> => {
      if (store.dead) return Promise.reject(new Error('killed'));
      store.commit(event.transactionId, event.blockNumber);
      if (event.transactionId === 'tx-3') store.dead = true;
      return Promise.resolve();
    };
    const dying = new ChaincodeEventFollower(channel.asNetwork(), 'gigledger', store.checkpointer(), handler, {
      maxBackoffMs: 5,
      onStreamError: () => undefined,
    });
    await dying.start();
    await until(() => store.dead, 'the process dies after tx-3');
    await dying.stop();
    // Only block 1's checkpoint reached the store: block 2 was cut short by the death.
    expect(store.writes).toEqual(['1/tx-1']);
    expect(store.effects).toEqual(['tx-1', 'tx-2', 'tx-3']);

    store.dead = false;
    const restarted = new ChaincodeEventFollower(channel.asNetwork(), 'gigledger', store.checkpointer(), handler);
    await restarted.start();
    await until(() => store.effects.length === 5, 'the rest is handled');
    await restarted.stop();
    expect(store.effects).toEqual(['tx-1', 'tx-2', 'tx-3', 'tx-4', 'tx-5']);
    expect(channel.opened.at(-1)).toEqual({ blockNumber: 2n, transactionId: 'tx-3', startBlock: undefined });
  });

  it('starts at startBlock only while the checkpoint is empty', async () => {
    const channel = new ScriptedChannel([
      [2n, 'tx-old'],
      [7n, 'tx-new'],
    ]);
    const handled: string[] = [];
    const follow = () =>
      followEvents(
        channel,
        file,
        (event) => {
          handled.push(event.transactionId);
          return Promise.resolve();
        },
        { startBlock: 5n },
      );
    const first = follow();
    await first.start();
    await until(() => handled.length === 1, 'the event from block 5 on is handled');
    await first.stop();
    const second = follow();
    await second.start();
    await until(() => channel.opened.length === 2, 'the stream is opened again');
    await second.stop();
    expect(handled).toEqual(['tx-new']);
    expect(channel.opened).toEqual([
      { blockNumber: undefined, transactionId: undefined, startBlock: 5n },
      { blockNumber: 7n, transactionId: 'tx-new', startBlock: undefined },
    ]);
  });

  it('hands an event whose handler failed over again, and never checkpoints it before it succeeds', async () => {
    let failures = 1;
    const attempts: string[] = [];
    const errors: unknown[] = [];
    const channel = new ScriptedChannel([
      [1n, 'tx-1'],
      [1n, 'tx-2'],
      [2n, 'tx-3'],
    ]);
    const follower = followEvents(
      channel,
      file,
      (event) => {
        attempts.push(event.transactionId);
        if (event.transactionId === 'tx-2' && failures > 0) {
          failures -= 1;
          // tx-1 of the same block is handled but waits for its block's checkpoint.
          expect(existsSync(file)).toBe(false);
          return Promise.reject(new Error('database unavailable'));
        }
        return Promise.resolve();
      },
      { onStreamError: (error) => errors.push(error), maxBackoffMs: 5 },
    );
    await follower.start();
    await until(() => attempts.includes('tx-3'), 'the last event is handled');
    await follower.stop();
    expect(attempts).toEqual(['tx-1', 'tx-2', 'tx-2', 'tx-3']);
    expect(errors).toEqual([new Error('database unavailable')]);
    // The event handled before the failure is checkpointed before the stream reopens, so it is not repeated.
    expect(channel.opened[1]).toEqual({ blockNumber: 1n, transactionId: 'tx-1', startBlock: undefined });
  });

  it('reopens a broken stream from the checkpoint, losing and repeating nothing', async () => {
    const channel = new ScriptedChannel([
      [1n, 'tx-1'],
      [2n, 'tx-2'],
      [2n, 'tx-3'],
    ]);
    channel.breakNextAfter = 2;
    const handled: string[] = [];
    const errors: unknown[] = [];
    const follower = followEvents(
      channel,
      file,
      (event) => {
        handled.push(event.transactionId);
        return Promise.resolve();
      },
      { onStreamError: (error, attempt) => errors.push([error, attempt]), maxBackoffMs: 5 },
    );
    await follower.start();
    await until(() => handled.length === 3, 'every event is handled');
    await follower.stop();
    expect(handled).toEqual(['tx-1', 'tx-2', 'tx-3']);
    expect(errors).toEqual([[new Error('stream broken'), 0]]);
    expect(channel.opened).toHaveLength(2);
    expect(channel.opened[1]).toEqual({ blockNumber: 2n, transactionId: 'tx-2', startBlock: undefined });
  });
});

describe('BlockContentsFollower', () => {
  it('hands over each block decoded once, whole, and checkpoints the next block', async () => {
    const channel = new ScriptedChannel();
    channel.blocks.push(0n, 1n);
    const store = new PositionStore();
    const handled: BlockContents[] = [];
    const follower = new BlockContentsFollower(channel.asNetwork(), store.checkpointer(), (contents) => {
      handled.push(contents);
      return Promise.resolve();
    });
    await follower.start();
    await until(() => store.writes.length === 2, 'both blocks are checkpointed');
    await follower.stop();
    expect(handled).toEqual([decodeBlockContents(block(0n)), decodeBlockContents(block(1n))]);
    expect(store.writes).toEqual(['1/', '2/']);
  });
});

describe('BlockEventFollower', () => {
  it('checkpoints the block after the one handled, so a restart resumes at the next block', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gl-follower-'));
    const file = path.join(dir, 'blocks.json');
    try {
      const channel = new ScriptedChannel();
      channel.blocks.push(0n, 1n, 2n);
      const handled: LedgerBlock[] = [];
      const follow = () =>
        new BlockEventFollower(channel.asNetwork(), new FileCheckpointer(file), (handledBlock) => {
          handled.push(handledBlock);
          return Promise.resolve();
        });
      const first = follow();
      await first.start();
      await until(() => handled.length === 3, 'three blocks are handled');
      await first.stop();
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ blockNumber: '3' });

      channel.blocks.push(3n);
      const second = follow();
      await second.start();
      await until(() => handled.length === 4, 'the new block is handled');
      await second.stop();
      expect(handled.map((entry) => [entry.blockNumber, entry.transactions])).toEqual([
        [0n, []],
        [1n, []],
        [2n, []],
        [3n, []],
      ]);
      expect(channel.opened.at(-1)).toEqual({ blockNumber: 3n, transactionId: undefined, startBlock: undefined });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
