import { setTimeout as delay } from 'node:timers/promises';
import { BlockContentsFollower, StoredCheckpointer, type Network } from '@gigledger/gateway';
import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import { BlockIndexer, indexedHeight, type BlockIndexerOptions } from './block-indexer.js';

/**
 * The block stream's position is the index's height, which {@link BlockIndexer} stores
 * in the same database transaction as the block's rows; so there is nothing left to
 * persist once a block is handled, and reading resumes exactly after the last whole block.
 */
class IndexHeightCheckpointer extends StoredCheckpointer {
  readonly #db: Db;

  constructor(db: Db) {
    super();
    this.#db = db;
  }

  protected async read(): Promise<{ blockNumber: bigint; transactionId: undefined }> {
    return { blockNumber: await indexedHeight(this.#db), transactionId: undefined };
  }

  protected write(): Promise<void> {
    return Promise.resolve();
  }
}

export interface IndexFollowerOptions extends BlockIndexerOptions {
  readonly log?: Logger;
}

/** Follows the channel's blocks into the audit index, from its height (block 0 when empty). */
export class IndexFollower {
  readonly indexer: BlockIndexer;
  readonly #follower: BlockContentsFollower;

  constructor(network: Network, db: Db, options: IndexFollowerOptions = {}) {
    this.indexer = new BlockIndexer(db, options);
    const log = options.log;
    this.#follower = new BlockContentsFollower(
      network,
      new IndexHeightCheckpointer(db),
      async (block) => {
        await this.indexer.index(block);
      },
      {
        startBlock: 0n,
        onStreamError: (error, attempt) => {
          log?.warn({ err: error, attempt }, 'audit index: block stream failed; reopening');
        },
      },
    );
  }

  start(): Promise<void> {
    return this.#follower.start();
  }

  stop(): Promise<void> {
    return this.#follower.stop();
  }

  /**
   * Follows until the index holds `height` blocks, then stops.
   *
   * @throws Error when the height is not reached within `timeoutMs`.
   */
  async catchUp(height: bigint, timeoutMs = 600_000): Promise<void> {
    await this.start();
    const deadline = Date.now() + timeoutMs;
    try {
      while ((await this.indexer.height()) < height) {
        if (Date.now() > deadline) throw new Error(`the index did not reach height ${height.toString()} in time`);
        await delay(100);
      }
    } finally {
      await this.stop();
    }
  }
}
