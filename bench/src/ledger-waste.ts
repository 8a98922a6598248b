import { decodeBlockContents, type LedgerGateway, type Network } from '@gigledger/gateway';

type Block = Parameters<typeof decodeBlockContents>[0];

/**
 * What the command path spent on transactions that changed nothing, counted while a
 * benchmark runs:
 *
 * - every invalid transaction in the channel's blocks, by Fabric's validation code
 *   (DUPLICATE_TXID: a copy of a transaction already ordered; MVCC_READ_CONFLICT and
 *   PHANTOM_READ_CONFLICT: endorsed against state that changed before it committed),
 *   whoever sent it: the gateway package retries conflicts itself, so a level can show
 *   no failure yet have paid for them;
 * - every transaction sent for ordering again, and why, by the load generator's own
 *   sessions and by each API process (its `gigledger_ledger_resubmissions_total`).
 */
export interface WasteCounts {
  readonly invalid: ReadonlyMap<string, number>;
  readonly resubmitted: ReadonlyMap<string, number>;
}

export class LedgerWaste {
  readonly #invalid = new Map<string, number>();
  readonly #resubmitted = new Map<string, number>();
  readonly #apis: readonly { name: string; url: string }[];
  #stop: (() => void) | undefined;

  /** @param apis the API processes whose re-sends count too: a name for reports and the base URL. */
  constructor(apis: readonly { name: string; url: string }[]) {
    this.#apis = apis;
  }

  /**
   * Follows the channel's blocks from the next one on, and the re-sends of `ledger`'s
   * sessions, until {@link close}.
   */
  async start(network: Network, ledger: LedgerGateway): Promise<void> {
    const blocks = await network.getBlockEvents();
    const stopListening = ledger.onResubmit((_transactionId, reason) => {
      add(this.#resubmitted, `${reason} (gateway)`, 1);
    });
    this.#stop = () => {
      stopListening();
      blocks.close();
    };
    void (async () => {
      try {
        for await (const block of blocks) this.#count(block);
      } catch {
        // Closed at the end of the run.
      }
    })();
  }

  #count(block: Block): void {
    for (const transaction of decodeBlockContents(block).transactions) {
      if (transaction.validationName !== 'VALID') add(this.#invalid, transaction.validationName, 1);
    }
  }

  /** The counts so far, with each API process's re-sends asked now. */
  async counts(): Promise<WasteCounts> {
    const resubmitted = new Map(this.#resubmitted);
    for (const api of this.#apis) {
      for (const [reason, count] of await apiResubmissions(api.url)) add(resubmitted, `${reason} (${api.name})`, count);
    }
    return { invalid: new Map(this.#invalid), resubmitted };
  }

  close(): void {
    this.#stop?.();
  }
}

function add(counts: Map<string, number>, kind: string, count: number): void {
  if (count !== 0) counts.set(kind, (counts.get(kind) ?? 0) + count);
}

/** The API's re-sends so far by reason, from its Prometheus text; empty when it does not answer. */
async function apiResubmissions(url: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  try {
    const answer = await fetch(`${url}/metrics`);
    if (!answer.ok) return counts;
    for (const match of (await answer.text()).matchAll(
      /^gigledger_ledger_resubmissions_total\{reason="([a-z]+)"\} (\d+)/gm,
    )) {
      counts.set(match[1] ?? '', Number(match[2]));
    }
  } catch {
    // The API is gone; its count is unknown rather than zero, and the line says nothing of it.
  }
  return counts;
}

/** What happened between two counts, e.g. `invalid: 3× DUPLICATE_TXID; re-sent: 1× stalled (api)`. */
export function formatWaste(before: WasteCounts, after: WasteCounts): string {
  const difference = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>) =>
    [...b]
      .map(([kind, count]) => [kind, count - (a.get(kind) ?? 0)] as const)
      .filter(([, count]) => count > 0)
      .map(([kind, count]) => `${count}× ${kind}`)
      .join(', ');
  const invalid = difference(before.invalid, after.invalid);
  const resubmitted = difference(before.resubmitted, after.resubmitted);
  return `invalid transactions: ${invalid === '' ? 'none' : invalid}; re-sent: ${resubmitted === '' ? 'none' : resubmitted}`;
}

/** Adds `later`'s counts beyond `earlier` into `totals` (a layer's sum over its levels). */
export function accumulate(totals: Map<string, number>, earlier: WasteCounts, later: WasteCounts): void {
  for (const [kind, count] of later.invalid) add(totals, kind, count - (earlier.invalid.get(kind) ?? 0));
  for (const [kind, count] of later.resubmitted) {
    add(totals, `re-sent ${kind}`, count - (earlier.resubmitted.get(kind) ?? 0));
  }
}
