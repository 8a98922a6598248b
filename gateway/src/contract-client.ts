import { createHash } from 'node:crypto';
import { status as grpcStatus } from '@grpc/grpc-js';
import {
  CommitStatusError,
  EndorseError,
  GatewayError,
  StatusCode,
  type Contract,
  type Network,
  type SubmittedTransaction,
  type Transaction,
} from '@hyperledger/fabric-gateway';
import type { z } from 'zod';
import {
  canonicalJson,
  defaultPageSize,
  pageReadBudget,
  parseRefusal,
  qualifiedName,
  takesArgument,
  type TransactionSpec,
} from '@gigledger/chaincode/model';
import type { CommitSeen, CommitWatch, PeerHeights } from './peer-heights.js';
import { waitedUnsentForSlot, weightedCallOptions } from './gateway-call-limit.js';
import type { LedgerBlocks } from './ledger-blocks.js';
import { replayedTransactionId } from './replayed-request.js';
import {
  CommitLatencies,
  resubmitReason,
  systemClock,
  type BlockProgress,
  type Clock,
  type ResubmitReason,
} from './resubmission.js';
import {
  CommitFailedError,
  CommitStatusUnknownError,
  describeGatewayError,
  organisationsInDetails,
  EndorsementError,
  EvaluationError,
  isNonMemberRefusal,
  LedgerError,
  NotMemberError,
  PeersBusyError,
  RefusedError,
  refusalIn,
  ResultFormatError,
  SubmissionError,
} from './errors.js';
import type { RequestClaims } from './request-claims.js';

type AnySpec = TransactionSpec<z.ZodType, z.ZodType>;

export interface SubmitOptions {
  /** Private inputs (e.g. confidential terms) sent to endorsers only, never ordered. */
  readonly transient?: Readonly<Record<string, unknown>>;
  /** Endorse only with these organisations' peers instead of the gateway's plan. */
  readonly endorsingOrganizations?: readonly string[];
  /**
   * How often to endorse and submit again, with a new transaction id, after an MVCC or
   * phantom read conflict or a key-level policy set in the same block (see `conflictCodes`),
   * or after endorsing peers answered differently because one of them had not yet
   * committed the latest block (4 by default). Safe: an invalidated or
   * unendorsed transaction changed nothing, and the new endorsement reads the current state.
   */
  readonly conflictRetries?: number;
}

/**
 * Validation codes after which the transaction is endorsed again with a new id. Besides
 * read conflicts, ENDORSEMENT_POLICY_FAILURE: a transaction of the same block that created
 * the key and set its key-level policy (the same request sent twice at once, say) leaves the
 * later one endorsed under the policy that applied before; endorsed again, it meets the key
 * as it now is (a replayed request answers its stored result). A policy failure for any
 * other reason fails again the same way, within the same retry budget.
 */
const conflictCodes = new Set(['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT', 'ENDORSEMENT_POLICY_FAILURE']);

/**
 * Refusals a peer a block behind the others gives for state it has not committed yet (a
 * milestone still `funding` that another peer has `funded`, a record not there yet).
 */
const staleStateCodes = new Set(['INVALID_STATE', 'NOT_FOUND']);

/** One call's waits for a refusing peer to catch up (see `#waitedForStaleRefusal`). */
interface StaleRounds {
  waited: number;
  refusingPeerCaughtUp: boolean;
}

/**
 * What a Fabric gateway peer says of an endorser whose response differs from the first
 * endorser's (fabric internal/pkg/gateway/endorsement.go). Under load one peer may
 * commit a block a few hundred milliseconds after another; a command endorsed in that
 * gap reads different keys on each, and the gateway refuses it with this detail.
 */
const responseMismatch = 'ProposalResponsePayloads do not match';

export interface EvaluateOptions extends Pick<SubmitOptions, 'transient'> {
  /**
   * Evaluate on a peer of one of these organisations (the Gateway's target
   * organisations) instead of the gateway's choice, e.g. to check what each member
   * organisation's peer holds of a private data collection.
   */
  readonly organizations?: readonly string[];
}

/** A committed transaction's parsed result and where it landed. */
export interface Submitted<Result> {
  readonly result: Result;
  readonly transactionId: string;
  readonly blockNumber: bigint;
}

const validationCodeNames = new Map<number, string>(
  Object.entries(StatusCode).map(([name, code]) => [code as number, name]),
);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * What typed contract clients call: the real {@link ContractClient}, or an in-process
 * stand-in in tests of the layers above.
 */
export interface TransactionTransport {
  evaluate<Spec extends AnySpec>(
    spec: Spec,
    request: z.input<Spec['request']>,
    options?: EvaluateOptions,
  ): Promise<z.output<Spec['result']>>;
  submit<Spec extends AnySpec>(
    spec: Spec,
    request: z.input<Spec['request']>,
    options?: SubmitOptions,
  ): Promise<Submitted<z.output<Spec['result']>>>;
}

/**
 * A submit that carries a request id, while it is under way: `request` identifies the
 * whole request (see {@link requestKeys}), `settled` is its answer or error.
 */
interface UnderWay {
  readonly request: string;
  readonly settled: Promise<Submitted<unknown>>;
}

/**
 * What identifies a submit that carries a request id, so that the same request sent
 * again while the first is under way (a client retrying a slow answer, or sending at
 * once) waits for the first and shares its answer or error: sent on its own, it would be
 * endorsed before the first commits, ordered, and invalidated as an MVCC read conflict
 * (one more invalid transaction in a block) before being answered from storage anyway.
 *
 * `id` is what the chaincode keeps a request id under for one caller (the transaction's
 * name and the id); `request` adds the whole request, the private inputs' digest and the
 * chosen endorsers. Another request under an id in use waits for the one under way to
 * settle and is then sent, to be refused by the chaincode at endorsement
 * (REQUEST_ID_REUSED), or to act if the first was refused: sent at once, it would be
 * ordered and invalidated too. Requests without an id are never joined nor held: two of
 * them may mean two actions.
 */
function requestKeys(
  spec: AnySpec,
  request: unknown,
  options: SubmitOptions,
): { readonly id: string; readonly request: string } | undefined {
  const requestId = (request as { requestId?: unknown } | null)?.requestId;
  if (typeof requestId !== 'string') return undefined;
  try {
    // Canonical JSON (keys sorted): REST and GraphQL build the same request in different key orders.
    const transient =
      options.transient === undefined
        ? ''
        : createHash('sha256').update(canonicalJson(options.transient)).digest('hex');
    return {
      // The chaincode keeps ids by transaction name, whatever the contract (`runOnce`).
      id: JSON.stringify([spec.name, requestId]),
      request: canonicalJson([qualifiedName(spec), request, transient, options.endorsingOrganizations ?? null]),
    };
  } catch {
    // A request canonical JSON refuses (a bigint, a lone surrogate, too deep) is sent on its own.
    return undefined;
  }
}

/**
 * Calls the transactions of one chaincode with the shared specs: arguments are
 * validated before sending, results parsed on the way back, and failures come back as
 * the library's typed errors.
 */
export class ContractClient implements TransactionTransport {
  readonly #network: Network;
  readonly #chaincode: string;
  readonly #options: ContractClientOptions;
  readonly #clock: Clock;
  readonly #conflictBackoffMs: number;
  readonly #latencies: CommitLatencies;
  /** Submits under way that carry a request id, by the id's key (see {@link requestKeys}). */
  readonly #underWay = new Map<string, UnderWay>();

  constructor(network: Network, chaincode: string, options: ContractClientOptions = {}) {
    this.#network = network;
    this.#chaincode = chaincode;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#conflictBackoffMs = options.conflictBackoffMs ?? 100;
    this.#latencies = options.commitLatencies ?? new CommitLatencies();
  }

  /**
   * Evaluates a query on one peer: the gateway's choice, or one of `options.organizations`.
   * A NOT_FOUND from a peer that may not have this process's newest blocks yet is asked
   * again once it has caught up, as a command's stale refusal is endorsed again (see
   * {@link ContractClientOptions.staleRounds}); one from a peer that has them stands.
   *
   * @throws RefusedError when the chaincode refuses; EvaluationError when no peer answers;
   *   PeersBusyError (an EvaluationError's sibling) when it waited its deadline for a slot, unsent.
   */
  async evaluate<Spec extends AnySpec>(
    spec: Spec,
    request: z.input<Spec['request']>,
    options: EvaluateOptions = {},
  ): Promise<z.output<Spec['result']>> {
    // A record another organisation's command just wrote may not be on this peer yet (it
    // lags after a hang, or trails on a saturated host): its NOT_FOUND is asked again,
    // rather than answered as "no such record".
    const rounds: StaleRounds = { waited: 0, refusingPeerCaughtUp: false };
    for (;;) {
      const behindWhenSent = this.#options.peerHeights?.behind() === true;
      try {
        return await this.#evaluateOnce(spec, request, options);
      } catch (error) {
        if (!(error instanceof RefusedError && error.code === 'NOT_FOUND')) throw error;
        if (!(await this.#waitedForStaleRefusal(error, rounds, behindWhenSent, options.organizations))) throw error;
      }
    }
  }

  /**
   * Whether a refusal may come from a peer without this process's newest blocks, and was
   * waited for: on the first, when any peer was behind as the call went out or is now, or
   * the refusing peer, asked, lacks the newest block a command of this process was
   * answered in; after a wait, while the refusing peer has not caught up (or, asked, still
   * lacks that block). A peer that is down is lagging and refuses nothing, so it is not
   * waited for; each wait ends when the refusing peer has the block that was the newest
   * then, or after `catchUpMs`. At most `staleRounds` waits per call.
   *
   * @param chosen the organisations a caller named to answer, waited for when the refusal names none.
   */
  async #waitedForStaleRefusal(
    error: RefusedError,
    rounds: StaleRounds,
    behindWhenSent: boolean,
    chosen?: readonly string[],
  ): Promise<boolean> {
    const heights = this.#options.peerHeights;
    if (heights === undefined || rounds.waited >= (this.#options.staleRounds ?? 6)) return false;
    const named = refusingOrganizations(error.cause);
    const refusing = named === 'all' && chosen !== undefined ? chosen : named;
    const stale =
      rounds.waited === 0
        ? behindWhenSent || heights.behind() || (await heights.lacksAnsweredBlock(refusing))
        : !rounds.refusingPeerCaughtUp || (await heights.lacksAnsweredBlock(refusing));
    if (!stale) return false;
    rounds.waited += 1;
    rounds.refusingPeerCaughtUp = await heights.waitForEvenHeights(this.#options.catchUpMs ?? 5000, {
      includeLagging: refusing,
    });
    // Asked again whatever the wait saw: heights come from block streams, which a process
    // short of CPU reads seconds late, while the peer itself has caught up.
    return true;
  }

  async #evaluateOnce<Spec extends AnySpec>(
    spec: Spec,
    request: z.input<Spec['request']>,
    options: EvaluateOptions,
  ): Promise<z.output<Spec['result']>> {
    const contract = this.#contract(spec);
    let bytes: Uint8Array;
    try {
      const proposal = contract.newProposal(spec.name, {
        arguments: transactionArguments(spec, request),
        ...transientOption(options.transient),
        ...(options.organizations === undefined ? {} : { endorsingOrganizations: [...options.organizations] }),
      });
      bytes = await proposal.evaluate(weightedCallOptions(evaluationWeight(spec, request)));
    } catch (error) {
      throw mapEndorseError(error, undefined, 'evaluate', this.#options.gatewayMspId);
    }
    return parseResult(spec, bytes, undefined);
  }

  /**
   * Endorses, orders and waits for the commit of a transaction. A lost commit status
   * is asked for again with the same transaction id; the same signed transaction is sent
   * for ordering again only when it may have been lost (see `#commitStatus`), never
   * endorsed again as a new one except after a read conflict.
   *
   * @throws RefusedError when the chaincode refuses (nothing is ordered).
   * @throws EndorsementError (PeersBusyError when shed unsent), SubmissionError, CommitStatusUnknownError,
   *   CommitFailedError by stage.
   */
  async submit<Spec extends AnySpec>(
    spec: Spec,
    request: z.input<Spec['request']>,
    options: SubmitOptions = {},
  ): Promise<Submitted<z.output<Spec['result']>>> {
    const keys = requestKeys(spec, request, options);
    if (keys === undefined) return this.#submitWithRetries(spec, request, options);
    for (;;) {
      const running = this.#underWay.get(keys.id);
      if (running === undefined) break;
      if (running.request === keys.request) return running.settled as Promise<Submitted<z.output<Spec['result']>>>;
      // Another request under this id: whatever it answers, this one is sent after it.
      await running.settled.catch(() => undefined);
    }
    const settled = this.#inTurn(keys.id, () => this.#submitWithRetries(spec, request, options));
    const underWay: UnderWay = { request: keys.request, settled };
    this.#underWay.set(keys.id, underWay);
    try {
      return await settled;
    } finally {
      if (this.#underWay.get(keys.id) === underWay) this.#underWay.delete(keys.id);
    }
  }

  /**
   * Runs `send` in this process's turn with the request id `id` among the processes
   * sharing {@link ContractClientOptions.requestClaims}; without claims, or when the
   * claim fails, at once.
   */
  async #inTurn<T>(id: string, send: () => Promise<T>): Promise<T> {
    const claims = this.#options.requestClaims;
    if (claims === undefined) return send();
    let release: (() => void) | undefined;
    try {
      release = await claims.claim(id);
    } catch {
      // Claims spare invalid copies; acting once is the chaincode's, so the request goes unclaimed.
    }
    try {
      return await send();
    } finally {
      release?.();
    }
  }

  async #submitWithRetries<Spec extends AnySpec>(
    spec: Spec,
    request: z.input<Spec['request']>,
    options: SubmitOptions,
  ): Promise<Submitted<z.output<Spec['result']>>> {
    const retries = options.conflictRetries ?? 4;
    const rounds: StaleRounds = { waited: 0, refusingPeerCaughtUp: false };
    for (let attempt = 0; ;) {
      const behindWhenSent = this.#options.peerHeights?.behind() === true;
      try {
        return await this.#submitOnce(spec, request, options);
      } catch (error) {
        // A refusal from a peer that has not committed the latest block yet: endorsed again
        // once it has (nothing was ordered, so nothing repeats). The peer may have caught up
        // by the time its refusal arrives, or be one the answer to the caller's previous
        // command did not wait for (lagging): what counts is whether any was behind when the
        // proposal went out. A saturated host's peers can trail each other by more than one
        // wait (at 1,024 commands in flight on two cores, 43 commands of one level were
        // refused after the one wait there was), so the refusing peer is waited for again
        // while it has not caught up. A refusal after a wait that saw the refusing peer
        // catch up stands: that peer had the state.
        if (error instanceof RefusedError && staleStateCodes.has(error.code)) {
          if (await this.#waitedForStaleRefusal(error, rounds, behindWhenSent)) continue;
          throw error;
        }
        attempt += 1;
        // A caller who named the endorsers chose them: a policy they do not meet stays unmet.
        const conflict =
          error instanceof CommitFailedError &&
          conflictCodes.has(error.validationCode) &&
          !(error.validationCode === 'ENDORSEMENT_POLICY_FAILURE' && options.endorsingOrganizations !== undefined);
        const mismatch = error instanceof EndorsementError && endorsersDisagreed(error.cause);
        if (!(conflict || mismatch) || attempt > retries) throw error;
        // The lagging peer commits the block it misses within a moment; endorse again once it has.
        if (mismatch) await this.#peersLevel();
        // Commands that conflicted learn it from the same block: endorsed again at once, they
        // would meet in the next block and all but one conflict again (governors voting on
        // one proposal, say). A random wait, longer each time ("full jitter", Brooker,
        // "Exponential Backoff And Jitter", AWS Architecture Blog, 2015), spreads them over blocks.
        if (conflict) await this.#clock.sleep(Math.random() * this.#conflictBackoffMs * 2 ** (attempt - 1));
      }
    }
  }

  async #submitOnce<Spec extends AnySpec>(
    spec: Spec,
    request: z.input<Spec['request']>,
    options: SubmitOptions,
  ): Promise<Submitted<z.output<Spec['result']>>> {
    const endorsingOrganizations = options.endorsingOrganizations ?? this.#privateDataEndorsers(spec, options);
    const proposal = this.#contract(spec).newProposal(spec.name, {
      arguments: transactionArguments(spec, request),
      ...transientOption(options.transient),
      ...(endorsingOrganizations === undefined ? {} : { endorsingOrganizations: [...endorsingOrganizations] }),
    });
    const transactionId = proposal.getTransactionId();
    let transaction;
    try {
      transaction = await proposal.endorse();
    } catch (error) {
      throw mapEndorseError(error, transactionId, 'endorse', this.#options.gatewayMspId);
    }
    const answeredBefore = await this.#answeredBefore(spec, transaction);
    if (answeredBefore !== undefined) return answeredBefore;
    const watch = this.#options.watchCommit?.(transactionId);
    let status: CommitSeen;
    try {
      const submitted = await this.#sendForOrdering(transaction, transactionId);
      status = await this.#commitStatus(transaction, submitted, transactionId, watch);
    } finally {
      watch?.stop();
    }
    if (!status.successful) {
      throw new CommitFailedError(validationCodeNames.get(status.code) ?? `code ${status.code}`, { transactionId });
    }
    // The caller's next command is endorsed by other peers too: let them see this block first.
    this.#options.peerHeights?.noteAnswered(status.blockNumber);
    await this.#options.peerHeights?.waitForBlock(status.blockNumber, this.#options.catchUpMs ?? 5000);
    return {
      result: parseResult(spec, transaction.getResult(), transactionId),
      transactionId,
      blockNumber: status.blockNumber,
    };
  }

  /**
   * A repeated request the chaincode answered from storage (see `replayedTransactionId`)
   * is answered as the transaction that acted, where that one committed, instead of
   * ordering a transaction that writes nothing: the client gets the same answer however
   * often it asks. Where the gateway peer cannot name the acting transaction's block yet,
   * or no block look-up is configured, the repeat is ordered as before and answers with
   * its own id.
   */
  async #answeredBefore<Spec extends AnySpec>(
    spec: Spec,
    transaction: Transaction,
  ): Promise<Submitted<z.output<Spec['result']>> | undefined> {
    const blocks = this.#options.ledgerBlocks;
    if (blocks === undefined) return undefined;
    const actedTransactionId = replayedTransactionId(transaction.getBytes());
    if (actedTransactionId === undefined) return undefined;
    let blockNumber: bigint;
    try {
      blockNumber = await blocks.blockNumberOf(actedTransactionId);
    } catch {
      return undefined;
    }
    this.#options.peerHeights?.noteAnswered(blockNumber);
    await this.#options.peerHeights?.waitForBlock(blockNumber, this.#options.catchUpMs ?? 5000);
    return {
      result: parseResult(spec, transaction.getResult(), actedTransactionId),
      transactionId: actedTransactionId,
      blockNumber,
    };
  }

  /** Waits until every peer has the newest block any of them has, or a short pause without read-your-writes. */
  async #peersLevel(): Promise<void> {
    const heights = this.#options.peerHeights;
    if (heights === undefined) {
      await this.#clock.sleep(200);
      return;
    }
    // The endorsers that disagreed both answered: a lagging one among them is waited for too.
    await heights.waitForEvenHeights(this.#options.catchUpMs ?? 5000, { includeLagging: 'all' });
  }

  /**
   * Private data goes to member peers only: whatever the endorsement plan would pick
   * (a replayed request writes nothing private, so the plan would not know), transient
   * data of a collection is endorsed by its member organisations.
   *
   * @throws Error when the transaction names a collection whose members are unknown.
   */
  #privateDataEndorsers(spec: AnySpec, options: SubmitOptions): readonly string[] | undefined {
    if (options.transient === undefined || spec.privateCollection === undefined) return undefined;
    const members = this.#options.collectionMembers?.[spec.privateCollection];
    if (members === undefined || members.length === 0) {
      throw new Error(
        `cannot send private data of ${spec.name}: no members are known for collection ${spec.privateCollection}`,
      );
    }
    return members;
  }

  #contract(spec: AnySpec): Contract {
    return this.#network.getContract(this.#chaincode, spec.contract);
  }

  /**
   * Hands the endorsed transaction to the ordering service. While no orderer is
   * reachable (a Raft leader just died and the peer tried it first), or the hand-over
   * timed out or its connection to the gateway peer dropped mid-call (an orderer that
   * stopped answering, or a peer that went, may still have passed it on), the same
   * signed transaction is offered again for a while: it carries the same id, so it can
   * be ordered at most once, and the commit status asked for by that id is the first
   * occurrence's, wherever it was ordered.
   *
   * @throws SubmissionError when the orderers refuse it, or stay unreachable.
   * @throws PeersBusyError when every try waited its deadline for a slot, unsent: not ordered.
   * @throws CommitStatusUnknownError when a hand-over timed out or dropped: it may still be ordered.
   */
  async #sendForOrdering(transaction: Transaction, transactionId: string): Promise<SubmittedTransaction> {
    const clock = this.#clock;
    const deadline = clock.now() + (this.#options.orderingRetryMs ?? 20_000);
    let mayBeOrdered = false;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await transaction.submit();
      } catch (error) {
        // fabric-gateway exports SubmitError only as a type; everything submit throws is a GatewayError.
        if (!(error instanceof GatewayError)) throw error;
        // A hand-over that waited its deadline here for a slot never left this process:
        // unlike one an orderer took and did not answer, it cannot be ordered.
        const unsent = waitedUnsentForSlot(error);
        const timedOut = !unsent && handOverTimedOut(error);
        const dropped = !unsent && !timedOut && droppedAfterSending(error);
        mayBeOrdered ||= timedOut || dropped;
        const passing = timedOut || unsent || error.code === (grpcStatus.UNAVAILABLE as number);
        if (!passing || clock.now() >= deadline) {
          const described = describeGatewayError(error);
          if (mayBeOrdered) {
            throw new CommitStatusUnknownError(
              `transaction ${transactionId} was handed to an orderer that did not answer; it may still commit: ${described}`,
              { transactionId, cause: error },
            );
          }
          if (unsent) {
            throw new PeersBusyError(`transaction ${transactionId} was not sent for ordering: ${described}`, {
              transactionId,
              cause: error,
            });
          }
          throw new SubmissionError(`ordering refused transaction ${transactionId}: ${described}`, {
            transactionId,
            cause: error,
          });
        }
        this.#options.onResubmit?.(transactionId, timedOut || dropped ? 'unanswered' : 'unreachable');
        await clock.sleep(Math.min(2000, 250 * attempt));
      }
    }
  }

  /**
   * Waits for the commit status, asking again with the same transaction id every poll
   * interval. The same signed transaction is sent for ordering again only when the wait
   * is out of the ordinary ({@link resubmitReason}): the ordering service has stopped
   * cutting blocks, or the wait is far beyond recent commit latencies. A copy is
   * harmless (the ledger keeps the first occurrence of a transaction id, marks any later
   * one DUPLICATE_TXID, and the status asked for by id is the first occurrence's) but
   * not free, so a commit that is only slow because the peers are busy is waited for.
   *
   * With a `watch`, the first poll interval waits for the transaction on the gateway
   * peer's block stream instead of asking: the stream carries every block anyway, and
   * each commit-status request is one more signature, gRPC call and signature check on
   * that peer. Asking takes over when the stream cannot tell, or after that interval.
   */
  async #commitStatus(
    transaction: Transaction,
    first: SubmittedTransaction,
    transactionId: string,
    watch: CommitWatch | undefined,
  ): Promise<CommitSeen> {
    const clock = this.#clock;
    const pollMs = this.#options.commitStatusPollMs ?? 4000;
    const started = clock.now();
    const deadline = started + (this.#options.commitStatusTotalMs ?? 60_000);
    const limits = {
      stallMs: this.#options.orderingStallMs ?? 4000,
      overdueFloorMs: this.#options.overdueFloorMs ?? 12_000,
      overdueFactor: 3,
      overdueCeilingMs: Math.max(this.#options.overdueFloorMs ?? 12_000, (deadline - started) / 2),
    };
    let submitted = first;
    let sentAt = started;
    /** After a poll interval without a status: sends the transaction again when the wait is out of the ordinary. */
    const resendIfLost = async (): Promise<void> => {
      const reason = resubmitReason(
        {
          now: clock.now(),
          sentAt,
          lastBlockAt: this.#options.blockProgress?.lastBlockAt(),
          recentP99: this.#latencies.p99(),
        },
        limits,
      );
      if (reason === undefined) return;
      try {
        submitted = await transaction.submit();
        sentAt = clock.now();
        this.#options.onResubmit?.(transactionId, reason);
      } catch {
        // No orderer took it this time either (no Raft leader yet): ask for the status, then try again.
        await clock.sleep(500);
      }
    };
    if (watch !== undefined) {
      const seen = await this.#firstSeen(watch, pollMs);
      if (seen !== undefined && seen !== 'unseen') {
        this.#latencies.record(clock.now() - started);
        return seen;
      }
      if (seen === 'unseen') await resendIfLost();
    }
    for (let attempt = 1; ; attempt += 1) {
      try {
        const status = await submitted.getStatus({ deadline: clock.now() + pollMs });
        this.#latencies.record(clock.now() - started);
        return status;
      } catch (error) {
        if (!(error instanceof CommitStatusError) || clock.now() >= deadline) {
          throw new CommitStatusUnknownError(
            `commit status of transaction ${transactionId} is unknown after ${attempt} attempts: ${describeGatewayError(error)}`,
            { transactionId, cause: error },
          );
        }
        if (error.code !== (grpcStatus.DEADLINE_EXCEEDED as number)) {
          // The peer did not answer (restarting, say): ask it again after a pause.
          await clock.sleep(500 * Math.min(attempt, 4));
          continue;
        }
        await resendIfLost();
      }
    }
  }

  /**
   * The commit as the watch saw it within `pollMs`; `'unseen'` when the interval passed
   * without it, undefined when the stream could not tell (see {@link CommitWatch.seen}).
   */
  async #firstSeen(watch: CommitWatch, pollMs: number): Promise<CommitSeen | 'unseen' | undefined> {
    const interval = new AbortController();
    const elapsed = this.#clock.sleep(pollMs, interval.signal).then(() => 'unseen' as const);
    try {
      return await Promise.race([watch.seen, elapsed]);
    } finally {
      interval.abort();
    }
  }
}

/** How a {@link ContractClient} waits for commits. */
export interface ContractClientOptions {
  /**
   * The organisation of the gateway peer the network connects through, named as the one
   * that failed when a call never reached that peer (it was down), whose error names none.
   */
  readonly gatewayMspId?: string;
  /** When set, a submit returns only once every peer has the block (read-your-writes across organisations). */
  readonly peerHeights?: PeerHeights;
  /** Longest wait for the other peers to catch up; then the submit returns anyway. Default 5 000. */
  readonly catchUpMs?: number;
  /**
   * How many times a command refused by a peer that was behind is endorsed again (a read
   * answered NOT_FOUND so, evaluated again), each after waiting up to `catchUpMs` for the
   * refusing peer, while that peer has not caught up. Default 6 (about 30 s at the default `catchUpMs`).
   */
  readonly staleRounds?: number;
  /**
   * How long one commit-status request waits before it is asked again (and whether to
   * send the transaction again is decided). Default 4 000.
   */
  readonly commitStatusPollMs?: number;
  /**
   * When any peer last committed a block (the {@link PeerHeights} of read-your-writes):
   * without it a transaction is sent again only when `overdue`, never as `stalled`.
   */
  readonly blockProgress?: BlockProgress;
  /** No block on any peer for this long while a commit status is awaited: send again. Default 4 000. */
  readonly orderingStallMs?: number;
  /**
   * The shortest wait for a commit status, while blocks keep coming, before the
   * transaction is sent again; longer when recent commits were slow (three times their
   * p99, up to half of `commitStatusTotalMs`). Default 12 000.
   */
  readonly overdueFloorMs?: number;
  /** Recent commit latencies, shared by the clients of one gateway; each client keeps its own when absent. */
  readonly commitLatencies?: CommitLatencies;
  /** The clock of the commit wait (tests pass a fake one). */
  readonly clock?: Clock;
  /**
   * Longest wait, in milliseconds, before a conflicted command is endorsed again the first
   * time; it doubles with each further attempt, and the wait is drawn at random up to it.
   * Default 100 (a block is cut every 250 ms or sooner).
   */
  readonly conflictBackoffMs?: number;
  /** How long to keep offering a transaction while no orderer is reachable. Default 20 000. */
  readonly orderingRetryMs?: number;
  /** Overall limit for a commit status. Default 60 000. */
  readonly commitStatusTotalMs?: number;
  /**
   * Finds the block of a transaction (`qscc`), so that a repeated request is answered as
   * the transaction that acted rather than ordered again; without it every repeat is
   * ordered and answers with its own id.
   */
  readonly ledgerBlocks?: Pick<LedgerBlocks, 'blockNumberOf'>;
  /** Member MSP ids of each private data collection (from the connection profile). */
  readonly collectionMembers?: Readonly<Record<string, readonly string[]>>;
  /** Told each time a transaction is sent for ordering again, and why (for metrics and tests). */
  readonly onResubmit?: (transactionId: string, reason: ResubmitReason) => void;
  /**
   * Opens a wait for a transaction on the block stream of the gateway peer (the
   * session's organisation's), so that its commit is taken from there rather than
   * asked for ({@link PeerHeights.watchCommit}); without it every commit is asked for.
   */
  readonly watchCommit?: (transactionId: string) => CommitWatch;
  /**
   * Turns with request ids among the processes sending as this caller (see
   * {@link RequestClaims}), taken before a submit that carries an id is sent.
   */
  readonly requestClaims?: RequestClaims;
}

/**
 * The gateway call slots an evaluation takes: for a list (a spec whose request takes
 * `pageSize`), one per {@link defaultPageSize} records it may read to fill its page
 * ({@link pageReadBudget}: a page of 100 may read 200, one of 500 a thousand, and a
 * thousand records hold the peer about ten times as long as a hundred); one otherwise.
 */
export function evaluationWeight(spec: AnySpec, request: unknown): number {
  const shape = (spec.request as { shape?: Record<string, unknown> }).shape;
  if (shape === undefined || !('pageSize' in shape)) return 1;
  const pageSize =
    typeof request === 'object' && request !== null ? (request as { pageSize?: unknown }).pageSize : undefined;
  return Math.ceil(pageReadBudget(typeof pageSize === 'number' ? pageSize : undefined) / defaultPageSize);
}

/**
 * The chaincode arguments of a transaction: none, or its request validated against
 * the spec and serialised as JSON.
 *
 * @throws RefusedError VALIDATION_FAILED naming the field, before anything is sent.
 */
export function transactionArguments(spec: AnySpec, request: unknown): string[] {
  if (!takesArgument(spec)) return [];
  const parsed = spec.request.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || 'request';
    throw new RefusedError({
      code: 'VALIDATION_FAILED',
      message: `${field}: ${issue?.message ?? 'is invalid'}`,
      field,
    });
  }
  return [JSON.stringify(parsed.data)];
}

function transientOption(transient: Readonly<Record<string, unknown>> | undefined): {
  transientData?: Record<string, Uint8Array>;
} {
  if (transient === undefined) return {};
  return {
    transientData: Object.fromEntries(
      Object.entries(transient).map(([key, value]) => [
        key,
        encoder.encode(typeof value === 'string' ? value : JSON.stringify(value)),
      ]),
    ),
  };
}

/** The organisations whose peers refused an endorsement (their details parse as a refusal); `all` when none is named. */
function refusingOrganizations(cause: unknown): readonly string[] | 'all' {
  // An endorsement's or an evaluation's: both name each peer's answer with its organisation.
  if (!(cause instanceof GatewayError)) return 'all';
  const named = cause.details.filter((detail) => parseRefusal(detail.message) !== undefined).map((d) => d.mspId);
  return named.length === 0 ? 'all' : named;
}

/** Whether a fabric-gateway endorse failure is the endorsers disagreeing rather than one refusing or failing. */
function endorsersDisagreed(cause: unknown): boolean {
  if (!(cause instanceof EndorseError)) return false;
  return cause.details.some((detail) => detail.message.includes(responseMismatch));
}

/** The gateway peer's own answers when it could hand a transaction to no orderer (Fabric's `internal/pkg/gateway/submit.go`). */
const noOrdererTookIt =
  /no orderers could successfully process transaction|no orderer nodes available|insufficient number of orderers could successfully process/i;
/** grpc-js's answers for a call that never reached the peer. */
const neverReachedPeer = /No connection established|ECONNREFUSED|Waiting for LB pick/i;

/** The texts a fabric-gateway error carries: its message, and its gRPC cause's details and message. */
function gatewayErrorTexts(error: GatewayError): string[] {
  const cause = error.cause as { details?: unknown; message?: unknown } | undefined;
  return [error.message, cause?.details, cause?.message].filter((text): text is string => typeof text === 'string');
}

/** A fabric-gateway call that never reached the gateway peer (UNAVAILABLE, no connection). */
function neverReached(error: unknown): boolean {
  if (!(error instanceof GatewayError) || error.code !== (grpcStatus.UNAVAILABLE as number)) return false;
  return gatewayErrorTexts(error).some((text) => neverReachedPeer.test(text));
}

/**
 * An UNAVAILABLE Submit that the gateway peer did not answer itself and that did reach
 * it: the connection dropped mid-call (the peer killed or restarting, a connection closed
 * after an unanswered ping). The peer may have passed the transaction to an orderer
 * before it went, so the transaction may be ordered.
 */
function droppedAfterSending(error: GatewayError): boolean {
  if (error.code !== (grpcStatus.UNAVAILABLE as number) || neverReached(error)) return false;
  return !gatewayErrorTexts(error).some((text) => noOrdererTookIt.test(text));
}

/**
 * Whether a failed hand-over to ordering may still have reached an orderer: the call
 * timed out, or the gateway peer gave up on an orderer that did not answer in time
 * (UNAVAILABLE "no orderers could successfully process transaction", with a timed-out
 * orderer among its details). An orderer that refused or could not be dialled did not take it.
 */
function handOverTimedOut(error: GatewayError): boolean {
  if (error.code === (grpcStatus.DEADLINE_EXCEEDED as number)) return true;
  return (
    error.code === (grpcStatus.UNAVAILABLE as number) &&
    error.details.some((detail) => /deadline ?exceeded/i.test(detail.message))
  );
}

/**
 * @param gatewayMspId the gateway peer's organisation, named as the failed one when the
 *   call never reached that peer.
 */
function mapEndorseError(
  error: unknown,
  transactionId: string | undefined,
  stage: 'evaluate' | 'endorse',
  gatewayMspId: string | undefined,
): LedgerError {
  const refusal = refusalIn(error);
  if (refusal !== undefined) return new RefusedError(refusal, { transactionId, cause: error });
  const id = transactionId ?? (error instanceof EndorseError ? error.transactionId : undefined);
  if (isNonMemberRefusal(error)) {
    return new NotMemberError(`the peers refused the caller's organisation: ${describeGatewayError(error)}`, {
      transactionId: id,
      cause: error,
    });
  }
  if (waitedUnsentForSlot(error)) {
    return new PeersBusyError(
      `the proposal was not sent, the peers being at capacity: ${describeGatewayError(error)}`,
      {
        transactionId: id,
        cause: error,
      },
    );
  }
  const named = organisationsInDetails(error);
  const organisations =
    named.length === 0 && gatewayMspId !== undefined && neverReached(error) ? [gatewayMspId] : named;
  if (stage === 'evaluate') {
    return new EvaluationError(`evaluation failed: ${describeGatewayError(error)}`, {
      transactionId: id,
      cause: error,
      organisations,
    });
  }
  return new EndorsementError(`endorsement failed: ${describeGatewayError(error)}`, {
    transactionId: id,
    cause: error,
    organisations,
  });
}

function parseResult<Spec extends AnySpec>(
  spec: Spec,
  bytes: Uint8Array,
  transactionId: string | undefined,
): z.output<Spec['result']> {
  const text = decoder.decode(bytes);
  let raw: unknown;
  try {
    raw = text === '' ? undefined : JSON.parse(text);
  } catch {
    raw = text;
  }
  const parsed = spec.result.safeParse(raw);
  if (!parsed.success) {
    throw new ResultFormatError(
      `${qualifiedName(spec)} returned a result that does not match its schema: ${parsed.error.issues[0]?.message ?? ''}`,
      { transactionId },
    );
  }
  return parsed.data as z.output<Spec['result']>;
}
