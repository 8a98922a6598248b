import type { Logger } from 'pino';
import { auditGrantedRoles, scopeOf, type AuditScope } from '@gigledger/chaincode/model';
import type { Principal } from '../auth/principal.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';

/**
 * The audit scope of a principal, as the chaincode computes it for their identity
 * (`audit:getAuditScope`): `undefined` for roles whose reads no grant limits, the live
 * grants and their union for auditors. The one function off the chain that says what an
 * auditor may read: the read log records grants from it, and an index query filters by
 * it (organisations, kinds, record time from/to) before the chaincode would refuse.
 *
 * Answers are kept for `ttlMs` per identity, so a revocation reaches off-chain filters
 * within that time; the chaincode's own checks apply it at once. An expiry needs no
 * look-up: a kept answer is narrowed to the grants still live at the time of asking.
 */
export class AuditScopes {
  readonly #ledger: LedgerAccess;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { at: number; scope: Promise<AuditScope> }>();

  constructor(ledger: LedgerAccess, ttlMs = 10_000) {
    this.#ledger = ledger;
    this.#ttlMs = ttlMs;
  }

  /**
   * @param options.fresh asks the ledger even when a kept answer is recent.
   * @throws Error when the ledger cannot be reached.
   */
  async scopeFor(
    principal: Principal,
    log: Logger,
    options: { fresh?: boolean; now?: number } = {},
  ): Promise<AuditScope | undefined> {
    if (!auditGrantedRoles.includes(principal.role)) return undefined;
    const now = options.now ?? Date.now();
    const cached = this.#cache.get(principal.identityLabel);
    if (options.fresh !== true && cached !== undefined && now - cached.at < this.#ttlMs) {
      const kept = await cached.scope;
      return scopeOf(kept.auditor, new Date(now).toISOString(), kept.grants);
    }
    const scope = this.#ledger.clientFor(principal, log).then((client) => client.audit.getAuditScope());
    this.#cache.set(principal.identityLabel, { at: now, scope });
    scope.catch(() => this.#cache.delete(principal.identityLabel));
    if (this.#cache.size > 10_000) this.#cache.delete(this.#cache.keys().next().value ?? '');
    return scope;
  }
}
