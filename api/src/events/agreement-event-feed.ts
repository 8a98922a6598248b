import { EventEmitter, on } from 'node:events';
import { agreementEventBaseSchema, type AgreementEventBase } from '@gigledger/chaincode/model';
import type { LedgerEvent } from '@gigledger/gateway';

/** An agreement event as subscribers receive it. */
export interface AgreementEventMessage {
  readonly name: string;
  readonly agreementId: string;
  readonly transactionId: string;
  readonly blockNumber: string;
  readonly base: AgreementEventBase;
  readonly payload: unknown;
}

/**
 * Fans committed `agreement.*` chaincode events out to live subscribers (GraphQL
 * subscriptions over SSE). It holds nothing: a subscriber sees what commits while it
 * is connected.
 */
export class AgreementEventFeed {
  readonly #emitter = new EventEmitter();
  /**
   * How often a live subscriber's credential is re-checked while no event arrives (it is
   * re-checked on every event too), so that an idle stream also ends when its token
   * expires, its key is revoked or its account is disabled.
   */
  readonly recheckIntervalMs: number;

  /** @param options.recheckIntervalMs defaults to 30 s. */
  constructor(options: { readonly recheckIntervalMs?: number } = {}) {
    this.recheckIntervalMs = options.recheckIntervalMs ?? 30_000;
    // Every open subscription is a listener; the default warning threshold is far too low.
    this.#emitter.setMaxListeners(0);
  }

  /** Publishes a ledger event if it is an agreement event; others are ignored. */
  publish(event: LedgerEvent): void {
    if (!event.name.startsWith('agreement.')) return;
    const base = agreementEventBaseSchema.safeParse(event.payload);
    if (!base.success) return;
    const message: AgreementEventMessage = {
      name: event.name,
      agreementId: base.data.agreementId,
      transactionId: event.transactionId,
      blockNumber: event.blockNumber.toString(),
      base: base.data,
      payload: event.payload,
    };
    this.#emitter.emit('event', message);
  }

  /** Agreement events from now on, until the signal aborts. */
  async *subscribe(signal: AbortSignal): AsyncGenerator<AgreementEventMessage> {
    try {
      for await (const [message] of on(this.#emitter, 'event', { signal })) {
        yield message as AgreementEventMessage;
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }
}
