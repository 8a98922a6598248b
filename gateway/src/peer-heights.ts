import { setTimeout as delay } from 'node:timers/promises';
import { connect, type CloseableAsyncIterable, type Gateway } from '@hyperledger/fabric-gateway';
import { common, peer } from '@hyperledger/fabric-protos';
import type { PeerConnections } from './connections.js';
import { waitedUnsentForSlot } from './gateway-call-limit.js';
import { gatewayCredentials, type SigningIdentity } from './identity.js';
import type { BlockProgress } from './resubmission.js';

/** How long a peer may take to say its height (qscc GetChainInfo answers in milliseconds). */
const heightAskMs = 2000;

/** See {@link PeerHeights.waitForEvenHeights}. */
export interface EvenHeightsOptions {
  /**
   * Lagging organisations whose peers are waited for nonetheless (`all`: every lagging
   * one), if their block stream is open: after a peer refused a command for state it has
   * not committed yet, that peer answers, lagging or not, and endorsing again before it
   * has caught up would meet the same old state.
   */
  readonly includeLagging?: readonly string[] | 'all';
}

/** A transaction's commit as its peer's block stream showed it: what a commit status would answer. */
export interface CommitSeen {
  readonly successful: boolean;
  /** Fabric's TxValidationCode, e.g. 0 VALID, 11 MVCC_READ_CONFLICT. */
  readonly code: number;
  readonly blockNumber: bigint;
}

/**
 * A wait for one transaction's commit on one peer's block stream, opened before the
 * transaction is sent for ordering so that its block cannot pass unseen.
 */
export interface CommitWatch {
  /**
   * The commit once the peer's stream carries it; undefined when the stream cannot
   * tell: it was not open when the wait began, it broke (blocks may be skipped while it
   * reopens), the watch was stopped, or the block showed the id as DUPLICATE_TXID (an
   * earlier occurrence was missed, and only a commit status names the first one).
   */
  readonly seen: Promise<CommitSeen | undefined>;
  /** Ends the wait; `seen` resolves undefined if it had not resolved yet. */
  stop(): void;
}

/**
 * Tracks the block height of every organisation's peer from its own block stream, so
 * that a committed transaction can be waited for on the peers the next command will
 * be endorsed by (and the counterparty will read through).
 *
 * Why: a command is endorsed by the peers of both parties, but its commit status comes
 * from the submitting organisation's peer alone. The other peer may commit the same
 * block a moment later; a command sent in that moment is endorsed against stale state
 * and refused (`INVALID_STATE … submitted, not accepted`). Waiting for the block on
 * every peer closes the gap without sleeping.
 */
export class PeerHeights implements BlockProgress {
  readonly #connections: PeerConnections;
  readonly #identity: SigningIdentity;
  readonly #board: HeightBoard;
  readonly #gateways = new Map<string, Gateway>();
  readonly #streams: CloseableAsyncIterable<peer.FilteredBlock>[] = [];
  /** Per organisation, the transactions awaited on its peer's stream, by id; absent while that stream is not open. */
  readonly #commitWaits = new Map<string, Map<string, (seen: CommitSeen | undefined) => void>>();
  /** The newest block a command of this process was answered in; -1 before the first. */
  #answeredBlock = -1n;
  #closed = false;

  /** @param identity any member of the channel; it only reads filtered blocks (transaction ids and validation codes). */
  constructor(connections: PeerConnections, identity: SigningIdentity) {
    this.#connections = connections;
    this.#identity = identity;
    this.#board = new HeightBoard(connections.profile.organizations.map((organization) => organization.mspId));
  }

  /**
   * Opens one block stream per peer, starting at the next block, and keeps it open until
   * {@link close}. The streams carry filtered blocks (Fabric's `DeliverFiltered`: a
   * block's number and each transaction's id, type and validation code), all a height
   * and a commit need: every process with a gateway follows every peer, and full blocks
   * (every envelope, read-write set and endorsement) would be sent, copied and decoded
   * in each for nothing.
   */
  start(): void {
    const { identity, signer, hash } = gatewayCredentials(this.#identity);
    for (const organization of this.#connections.profile.organizations) {
      const connection = this.#connections.forMsp(organization.mspId);
      const gateway = connect({
        client: connection.client,
        identity,
        signer,
        hash,
        tlsClientCertificateHash: connection.tlsClientCertificateHash,
        // A height asked of a peer that stopped answering must not hold the command asking.
        evaluateOptions: () => ({ deadline: Date.now() + heightAskMs }),
      });
      this.#gateways.set(organization.mspId, gateway);
      void this.#follow(organization.mspId, gateway);
    }
  }

  async #follow(mspId: string, gateway: Gateway): Promise<void> {
    const network = gateway.getNetwork(this.#connections.profile.channel);
    for (let attempt = 0; !this.#isClosed(); attempt += 1) {
      let broken = false;
      try {
        // The peer's current height first, so that a block committed before the stream opened still counts.
        const height = await this.#askHeight(mspId);
        this.#board.record(mspId, height);
        // Any transaction sent from now on lands at this height or above, which the stream delivers.
        const waits = new Map<string, (seen: CommitSeen | undefined) => void>();
        this.#commitWaits.set(mspId, waits);
        const stream = await network.getFilteredBlockEvents({ startBlock: height });
        this.#streams.push(stream);
        for await (const block of stream) {
          this.#board.record(mspId, BigInt(block.getNumber()) + 1n);
          if (waits.size > 0) settleCommits(block, waits);
          attempt = 0;
        }
      } catch {
        // A restarting peer: reopen after a short pause; waiters time out meanwhile.
        broken = true;
      }
      // Blocks committed until the stream reopens are never delivered: nobody may wait for them here.
      this.#endCommitWaits(mspId);
      if (broken && !this.#isClosed()) await delay(Math.min(5000, 200 * 2 ** Math.min(attempt, 5)));
    }
  }

  /**
   * Waits for transaction `transactionId` on the block stream of `mspId`'s peer, the
   * peer whose commit status the transaction's submitter would ask: its stream reports a
   * block once the block's state is committed, as the commit status does. Call it before
   * the transaction is sent for ordering.
   */
  watchCommit(mspId: string, transactionId: string): CommitWatch {
    const waits = this.#commitWaits.get(mspId);
    if (waits === undefined || waits.has(transactionId))
      return { seen: Promise.resolve(undefined), stop: () => undefined };
    let settle: (seen: CommitSeen | undefined) => void = () => undefined;
    const seen = new Promise<CommitSeen | undefined>((resolve) => {
      settle = (outcome) => {
        waits.delete(transactionId);
        resolve(outcome);
      };
    });
    waits.set(transactionId, settle);
    return {
      seen,
      stop: () => {
        if (waits.get(transactionId) === settle) settle(undefined);
      },
    };
  }

  #endCommitWaits(mspId: string): void {
    const waits = this.#commitWaits.get(mspId);
    this.#commitWaits.delete(mspId);
    for (const settle of [...(waits?.values() ?? [])]) settle(undefined);
  }

  /** The peer's own answer to how many blocks it has committed (qscc GetChainInfo). */
  async #askHeight(mspId: string): Promise<bigint> {
    const gateway = this.#gateways.get(mspId);
    if (gateway === undefined) throw new Error(`no peer of ${mspId} is followed`);
    const network = gateway.getNetwork(this.#connections.profile.channel);
    const info = common.BlockchainInfo.deserializeBinary(
      await network.getContract('qscc').evaluateTransaction('GetChainInfo', network.getName()),
    );
    return BigInt(info.getHeight());
  }

  /**
   * The organisations whose peer did not say its height within 2 s: stopped, frozen
   * (a process stopped by a signal keeps its connections open, so a gRPC channel stays
   * READY), or too slow to serve. A question that waited unsent for one of this process's
   * call slots names nobody: the peer is busy answering this process, not silent.
   *
   * @returns MSP ids, in the connection profile's order; empty before {@link start}.
   */
  async silentPeers(): Promise<string[]> {
    const silent = await Promise.all(
      [...this.#gateways.keys()].map(async (mspId) => {
        try {
          await this.#askHeight(mspId);
          return undefined;
        } catch (error) {
          return waitedUnsentForSlot(error) ? undefined : mspId;
        }
      }),
    );
    return silent.filter((mspId): mspId is string => mspId !== undefined);
  }

  // A method rather than the field, so the compiler does not treat the flag as unchanged across awaits.
  #isClosed(): boolean {
    return this.#closed;
  }

  /**
   * When any peer's height last rose (Date.now() milliseconds); undefined before the
   * first height is known. A channel whose peers all stop rising while transactions
   * wait has stopped ordering.
   */
  lastBlockAt(): number | undefined {
    return this.#board.lastBlockAt();
  }

  /** The height of one organisation's peer as last seen; 0 before its first block. */
  heightOf(mspId: string): bigint {
    return this.#board.heightOf(mspId);
  }

  /**
   * Notes that a command of this process was answered as committed in `blockNumber`
   * (or as the repeat of one committed there), which every later command and read of the
   * process may depend on.
   */
  noteAnswered(blockNumber: bigint): void {
    if (blockNumber > this.#answeredBlock) this.#answeredBlock = blockNumber;
  }

  /**
   * Whether the peer of any of `mspIds` (every followed peer for `'all'`) has not
   * committed the newest block a command of this process was answered in, as the peers
   * themselves say (qscc GetChainInfo): the block streams of a process short of CPU report
   * heights seconds late, and may show every peer level while one has not the block a
   * refusal read past. A peer that does not answer counts as not behind.
   */
  async lacksAnsweredBlock(mspIds: readonly string[] | 'all'): Promise<boolean> {
    if (this.#answeredBlock < 0n) return false;
    const named = mspIds === 'all' ? [...this.#gateways.keys()] : mspIds.filter((mspId) => this.#gateways.has(mspId));
    // A stream reports a block after its peer has it, never before: a peer it shows with the
    // block has it, and only the others are asked.
    const asked = named.filter((mspId) => this.#board.heightOf(mspId) <= this.#answeredBlock);
    const heights = await Promise.allSettled(asked.map((mspId) => this.#askHeight(mspId)));
    return heights.some((height) => height.status === 'fulfilled' && height.value <= this.#answeredBlock);
  }

  /** See {@link HeightBoard.waitForBlock}. */
  waitForBlock(blockNumber: bigint, timeoutMs = 5000): Promise<boolean> {
    return this.#board.waitForBlock(blockNumber, timeoutMs);
  }

  /**
   * Resolves once every organisation's peer has the highest block any of them has now,
   * or when `timeoutMs` passes; returns whether they got there. Two peers that disagree
   * about a key because one is a block behind agree again once that one has the block.
   *
   * The target is asked of the peers themselves (qscc GetChainInfo), since a block stream
   * reports a block a little after its peer has it; the wait is on the block streams,
   * whose reports come once a block's state is committed, which is what an endorsement reads.
   */
  async waitForEvenHeights(timeoutMs = 5000, options: EvenHeightsOptions = {}): Promise<boolean> {
    // A lagging peer is not waited for, so neither is its answer, unless the caller knows it answers.
    const included = options.includeLagging ?? [];
    const alsoLagging = new Set(
      this.#board
        .lagging()
        .filter((mspId) => (included === 'all' || included.includes(mspId)) && this.#commitWaits.has(mspId)),
    );
    const lagging = new Set(this.#board.lagging().filter((mspId) => !alsoLagging.has(mspId)));
    const asked = await Promise.allSettled(
      [...this.#gateways.keys()].filter((mspId) => !lagging.has(mspId)).map((mspId) => this.#askHeight(mspId)),
    );
    let highest = this.#board.highest();
    for (const answer of asked) if (answer.status === 'fulfilled' && answer.value > highest) highest = answer.value;
    if (highest === 0n) return true;
    return this.#board.waitForBlock(highest - 1n, timeoutMs, alsoLagging);
  }

  /**
   * Whether a command endorsed now may read old state on some peer: the peers' heights
   * differ, or a peer is lagging (commands are answered without waiting for it).
   */
  behind(): boolean {
    return this.#board.uneven() || this.#board.lagging().length > 0;
  }

  close(): void {
    this.#closed = true;
    for (const mspId of [...this.#commitWaits.keys()]) this.#endCommitWaits(mspId);
    for (const stream of this.#streams) stream.close();
    for (const gateway of this.#gateways.values()) gateway.close();
    this.#board.close();
  }
}

/**
 * Settles the waits for the transactions of `block` (each is removed as it settles). A
 * DUPLICATE_TXID is settled undefined: that id was committed before, in a block the wait
 * did not see.
 */
export function settleCommits(
  block: peer.FilteredBlock,
  waits: ReadonlyMap<string, (seen: CommitSeen | undefined) => void>,
): void {
  const blockNumber = BigInt(block.getNumber());
  for (const transaction of block.getFilteredTransactionsList()) {
    const settle = waits.get(transaction.getTxid());
    if (settle === undefined) continue;
    const validationCode = transaction.getTxValidationCode();
    settle(
      validationCode === peer.TxValidationCode.DUPLICATE_TXID
        ? undefined
        : { successful: validationCode === peer.TxValidationCode.VALID, code: validationCode, blockNumber },
    );
  }
}

/**
 * The peers' heights as their block streams report them, and the waits for a block on
 * all of them.
 *
 * A peer that let a wait time out (stopped, frozen, cut off) is lagging: later waits
 * leave it out, so one unresponsive peer costs the commands of the moment one timeout
 * rather than every command one timeout each for as long as it stays down. It is waited
 * for again once it has the block that was the highest when it fell behind. Meanwhile a
 * read through it may be a few blocks old, and a command it endorses against old state
 * is refused and endorsed once more after the peers are level (see `ContractClient`).
 */
export class HeightBoard {
  readonly #mspIds: readonly string[];
  readonly #heights = new Map<string, bigint>();
  /** Lagging peers, each with the height it must reach to be waited for again. */
  readonly #lagging = new Map<string, bigint>();
  readonly #waiters = new Set<() => void>();
  #closed = false;
  #lastBlockAt: number | undefined;

  constructor(mspIds: readonly string[]) {
    this.#mspIds = mspIds;
  }

  record(mspId: string, height: bigint): void {
    if ((this.#heights.get(mspId) ?? 0n) >= height) return;
    this.#heights.set(mspId, height);
    this.#lastBlockAt = Date.now();
    const rejoinAt = this.#lagging.get(mspId);
    if (rejoinAt !== undefined && height >= rejoinAt) this.#lagging.delete(mspId);
    for (const wake of [...this.#waiters]) wake();
  }

  lastBlockAt(): number | undefined {
    return this.#lastBlockAt;
  }

  uneven(): boolean {
    const heights = this.#mspIds.map((mspId) => this.heightOf(mspId));
    return heights.some((height) => height !== heights[0]);
  }

  heightOf(mspId: string): bigint {
    return this.#heights.get(mspId) ?? 0n;
  }

  /** The highest height any peer has reported; 0 before the first. */
  highest(): bigint {
    let highest = 0n;
    for (const height of this.#heights.values()) if (height > highest) highest = height;
    return highest;
  }

  /** The organisations whose peers are lagging (see the class comment). */
  lagging(): string[] {
    return [...this.#lagging.keys()];
  }

  /**
   * Resolves once every organisation's peer that is not lagging (and each lagging one of
   * `alsoLagging`) has committed block `blockNumber`, or when `timeoutMs` passes (a peer
   * that is down must not stall commands; the endorsement will then tell the truth):
   * those that have not got there by then are lagging from then on. Returns whether
   * every peer waited for got there.
   */
  async waitForBlock(
    blockNumber: bigint,
    timeoutMs = 5000,
    alsoLagging: ReadonlySet<string> = new Set(),
  ): Promise<boolean> {
    const waitedFor = (mspId: string) => !this.#lagging.has(mspId) || alsoLagging.has(mspId);
    const reached = () => this.#mspIds.every((mspId) => !waitedFor(mspId) || this.heightOf(mspId) > blockNumber);
    if (reached() || this.#closed) return reached();
    return new Promise<boolean>((resolve) => {
      const finish = (outcome: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(outcome);
      };
      const check = () => {
        if (reached() || this.#closed) finish(reached());
      };
      const timer = setTimeout(() => {
        const target = blockNumber + 1n > this.highest() ? blockNumber + 1n : this.highest();
        for (const mspId of this.#mspIds) {
          if (waitedFor(mspId) && this.heightOf(mspId) <= blockNumber) this.#lagging.set(mspId, target);
        }
        finish(false);
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  /** Ends every wait with what it has. */
  close(): void {
    this.#closed = true;
    for (const wake of [...this.#waiters]) wake();
  }
}
