import type { Logger } from 'pino';
import { type LedgerClient, type LedgerGateway, type LedgerSession, type PeerConnections } from '@gigledger/gateway';
import type { Principal } from '../auth/principal.js';
import type { Wallet } from '../identity/wallet.js';
import type { Metrics } from '../observability/metrics.js';
import { instrumentedClient } from './instrumented-transport.js';

/** How the service layer reaches the ledger on behalf of a principal. */
export interface LedgerAccess {
  /** Typed contracts signed with the principal's own Fabric identity; calls are timed and logged. */
  clientFor(principal: Principal, log: Logger): Promise<LedgerClient>;
  /** Whether every organisation's peer is reachable and answers. */
  ready(): Promise<boolean>;
}

/**
 * The real ledger: each principal's identity comes from the wallet and signs through a
 * session over its organisation's shared gRPC connection. Sessions are kept, up to a
 * bound, because building one parses a key.
 */
export class GatewayLedgerAccess implements LedgerAccess {
  readonly #gateway: LedgerGateway;
  readonly #connections: PeerConnections;
  readonly #wallet: Wallet;
  readonly #sessions = new Map<string, LedgerSession>();
  readonly #metrics: Metrics;
  readonly #maxSessions: number;

  constructor(
    gateway: LedgerGateway,
    connections: PeerConnections,
    wallet: Wallet,
    metrics: Metrics,
    maxSessions = 1000,
  ) {
    this.#gateway = gateway;
    this.#connections = connections;
    this.#wallet = wallet;
    this.#metrics = metrics;
    this.#maxSessions = maxSessions;
  }

  async clientFor(principal: Principal, log: Logger): Promise<LedgerClient> {
    const session = await this.sessionFor(principal);
    return instrumentedClient(session.contract, this.#metrics, log);
  }

  /** @throws Error when the wallet holds no identity for the principal. */
  async sessionFor(principal: Principal): Promise<LedgerSession> {
    const cached = this.#sessions.get(principal.identityLabel);
    if (cached !== undefined) {
      // Re-inserting keeps the map in least-recently-used order.
      this.#sessions.delete(principal.identityLabel);
      this.#sessions.set(principal.identityLabel, cached);
      return cached;
    }
    const identity = await this.#wallet.get(principal.identityLabel);
    if (identity === undefined) throw new Error(`the wallet holds no identity ${principal.identityLabel}`);
    const session = this.#gateway.session(identity);
    this.#sessions.set(principal.identityLabel, session);
    if (this.#sessions.size > this.#maxSessions) {
      const [oldestLabel, oldest] = this.#sessions.entries().next().value ?? [];
      if (oldestLabel !== undefined) this.#sessions.delete(oldestLabel);
      oldest?.close();
    }
    return session;
  }

  async ready(): Promise<boolean> {
    try {
      await this.#connections.waitForReady(3000);
    } catch {
      return false;
    }
    // A connected channel is not an answering peer: a peer stopped by a signal keeps its
    // connections open while every call to it waits out its deadline.
    return (await this.#gateway.silentPeers()).length === 0;
  }

  close(): void {
    for (const session of this.#sessions.values()) session.close();
    this.#sessions.clear();
  }
}
