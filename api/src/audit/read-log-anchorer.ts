import type { Logger } from 'pino';
import type { ReadLogAnchor } from '@gigledger/chaincode/model';
import type { LedgerClient, Submitted } from '@gigledger/gateway';
import type { ReadLog, ReadLogVerification } from './read-log.js';
import { readEveryLedgerPage } from '../http/ledger-pages.js';

/**
 * Submits the read log's head to the ledger (`audit:anchorReadLog`) under the server's
 * service identity, every `intervalMs` when the log grew, and on demand. Once a head is
 * on the ledger, no row up to it can be edited or deleted without `verify` naming it.
 */
export class ReadLogAnchorer {
  readonly #readLog: ReadLog;
  readonly #ledger: LedgerClient;
  readonly #log: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #lastSequence = -1;
  #running: Promise<ReadLogAnchor | undefined> | undefined;

  /**
   * @param ledger signed by the organisation's service identity.
   * @param intervalMs 0 anchors only on demand.
   */
  constructor(deps: { readLog: ReadLog; ledger: LedgerClient; log: Logger; intervalMs: number }) {
    this.#readLog = deps.readLog;
    this.#ledger = deps.ledger;
    this.#log = deps.log.child({ component: 'read-log-anchorer' });
    this.#intervalMs = deps.intervalMs;
  }

  start(): void {
    if (this.#intervalMs === 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.anchorNow().catch((error: unknown) => {
        this.#log.warn({ err: error }, 'anchoring the read log failed; the next interval tries again');
      });
    }, this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Anchors the current head unless it is already anchored; one anchoring at a time.
   * Answers the committed anchor, or undefined when the log is empty or unchanged (a
   * process that has not anchored yet learns the head was anchored before from the
   * chaincode's answer, which then names the earlier transaction, not its own).
   *
   * @throws LedgerError when the transaction is refused or not committed.
   */
  anchorNow(): Promise<ReadLogAnchor | undefined> {
    this.#running ??= this.#anchor().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Anchors the read log's head on a client's request, as the command `requestId`. The
   * head a request id was first sent with is kept in the database
   * (`ReadLog.headOfAnchorRequest`), so a retry sends the same head even after the log
   * grew, whichever HTTP worker takes it and after a restart, and is answered the stored
   * anchor. Answers undefined while the log is empty.
   *
   * @throws as {@link anchorHead}.
   */
  async anchorRequested(requestId: string): Promise<Submitted<ReadLogAnchor> | undefined> {
    const head = await this.#readLog.headOfAnchorRequest(requestId);
    if (head.sequence === 0) return undefined;
    return this.anchorHead(head, requestId);
  }

  /**
   * Anchors `head` as the command `requestId`: the chaincode answers a repeat of the
   * same id and head with the anchor it stored, and the latest anchor when the head is
   * already anchored.
   *
   * @throws LedgerError when the transaction is refused (REQUEST_ID_REUSED for the same id
   *   with another head, READ_LOG_ANCHOR_CONFLICT for a head behind the latest anchor) or
   *   not committed.
   */
  async anchorHead(
    head: { readonly sequence: number; readonly headHash: string },
    requestId: string,
  ): Promise<Submitted<ReadLogAnchor>> {
    const logId = await this.#readLog.logId();
    const submitted = await this.#ledger.audit.anchorReadLog({
      requestId,
      sequence: head.sequence,
      headHash: head.headHash,
      ...(logId === undefined ? {} : { logId }),
    });
    this.#lastSequence = Math.max(this.#lastSequence, submitted.result.sequence);
    this.#log.info(
      { sequence: submitted.result.sequence, txId: submitted.transactionId, requestId },
      'read log anchored on request',
    );
    return submitted;
  }

  async #anchor(): Promise<ReadLogAnchor | undefined> {
    const head = await this.#readLog.head();
    if (head.sequence === 0 || head.sequence === this.#lastSequence) return undefined;
    const logId = await this.#readLog.logId();
    const { result, transactionId } = await this.#ledger.audit.anchorReadLog({
      sequence: head.sequence,
      headHash: head.headHash,
      ...(logId === undefined ? {} : { logId }),
    });
    this.#lastSequence = result.sequence;
    if (result.txId !== transactionId) return undefined;
    this.#log.info({ sequence: result.sequence, txId: result.txId }, 'read log anchored');
    return result;
  }
}

/**
 * Recomputes the read log's chain against its anchors on the ledger, and names the
 * organisation's other logs anchored there. Anchors made before logs had ids (no
 * `logId`) count as this log's, as they did then.
 *
 * @param ledger any identity: anchors are readable by everyone on the channel.
 */
export async function verifyReadLog(
  readLog: ReadLog,
  ledger: LedgerClient,
  mspId: string,
): Promise<ReadLogVerification> {
  const [anchors, logId] = await Promise.all([
    readEveryLedgerPage((page) => ledger.audit.listReadLogAnchors({ mspId, ...page })),
    readLog.logId(),
  ]);
  const own = anchors.filter((anchor) => anchor.logId === undefined || anchor.logId === logId);
  const latestOfOthers = new Map<string, ReadLogAnchor>();
  for (const anchor of anchors) {
    if (anchor.logId === undefined || anchor.logId === logId) continue;
    const known = latestOfOthers.get(anchor.logId);
    if (known === undefined || known.sequence < anchor.sequence) latestOfOthers.set(anchor.logId, anchor);
  }
  const verification = await readLog.verify(own);
  if (latestOfOthers.size === 0) return verification;
  return {
    ...verification,
    otherLogs: [...latestOfOthers.values()].map((anchor) => ({
      logId: anchor.logId ?? '',
      sequence: anchor.sequence,
      txId: anchor.txId,
    })),
  };
}
