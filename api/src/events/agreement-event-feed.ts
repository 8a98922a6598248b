import { EventEmitter, on } from 'node:events';
import { z } from 'zod';
import { actorSchema, agreementEventBaseSchema, type Actor, type AgreementEventBase } from '@gigledger/chaincode/model';
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

/** A governance event as subscribers receive it. */
export interface GovernanceEventMessage {
  readonly name: string;
  /** Absent on genesis events. */
  readonly proposalId?: string;
  readonly transactionId: string;
  readonly blockNumber: string;
  readonly at: string;
  readonly actor: Actor;
  readonly payload: unknown;
}

const governanceEventBaseSchema = z.object({ at: z.string(), actor: actorSchema, proposalId: z.string().optional() });

/** One stream of messages that subscribers join and leave. */
export interface EventTopic<Message> {
  readonly recheckIntervalMs: number;
  subscribe(signal: AbortSignal): AsyncGenerator<Message>;
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

  readonly #demandListeners = new Set<(wanted: boolean) => void>();
  #subscribers = 0;

  /** @param options.recheckIntervalMs defaults to 30 s. */
  constructor(options: { readonly recheckIntervalMs?: number } = {}) {
    this.recheckIntervalMs = options.recheckIntervalMs ?? 30_000;
    this.governance = {
      recheckIntervalMs: this.recheckIntervalMs,
      subscribe: (signal) => this.#messages<GovernanceEventMessage>('governance', signal),
    };
    // Every open subscription is a listener; the default warning threshold is far too low.
    this.#emitter.setMaxListeners(0);
  }

  /**
   * Tells `listener` each time the feed gains its first subscriber of either topic
   * (`true`) or loses its last (`false`): an HTTP worker asks its primary for committed
   * events only while someone here would receive them.
   *
   * @returns a function that stops telling.
   */
  onDemandChange(listener: (wanted: boolean) => void): () => void {
    this.#demandListeners.add(listener);
    return () => {
      this.#demandListeners.delete(listener);
    };
  }

  async *#messages<Message>(name: 'event' | 'governance', signal: AbortSignal): AsyncGenerator<Message> {
    this.#countSubscriber(1);
    try {
      for await (const [message] of on(this.#emitter, name, { signal })) {
        yield message as Message;
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      this.#countSubscriber(-1);
    }
  }

  #countSubscriber(change: 1 | -1): void {
    const hadSubscribers = this.#subscribers > 0;
    this.#subscribers += change;
    if (hadSubscribers === this.#subscribers > 0) return;
    for (const listener of this.#demandListeners) listener(this.#subscribers > 0);
  }

  /** Committed `governance.*` events: proposals, votes, vetoes, executions and genesis. */
  readonly governance: EventTopic<GovernanceEventMessage>;

  /**
   * Publishes a ledger event to the topic its contract belongs to; events of other
   * contracts, and of a topic nobody is subscribed to, are dropped before their payload
   * is read (every committed transaction's event comes through here).
   */
  publish(event: LedgerEvent): void {
    if (event.name.startsWith('governance.')) {
      if (this.#emitter.listenerCount('governance') > 0) this.#publishGovernance(event);
      return;
    }
    if (!event.name.startsWith('agreement.') || this.#emitter.listenerCount('event') === 0) return;
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

  #publishGovernance(event: LedgerEvent): void {
    const base = governanceEventBaseSchema.safeParse(event.payload);
    if (!base.success) return;
    const message: GovernanceEventMessage = {
      name: event.name,
      ...(base.data.proposalId === undefined ? {} : { proposalId: base.data.proposalId }),
      transactionId: event.transactionId,
      blockNumber: event.blockNumber.toString(),
      at: base.data.at,
      actor: base.data.actor,
      payload: event.payload,
    };
    this.#emitter.emit('governance', message);
  }

  /** Agreement events from now on, until the signal aborts. */
  subscribe(signal: AbortSignal): AsyncGenerator<AgreementEventMessage> {
    return this.#messages<AgreementEventMessage>('event', signal);
  }
}
