import type { Logger } from 'pino';
import { auditGrantedRoles, scopeOf, type AuditScope } from '@gigledger/chaincode/model';
import type { Principal } from '../auth/principal.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';

/**
 * Bumped whenever a grant is given or revoked through this process: a scope kept from an
 * earlier count is asked of the ledger again, so the reads after a grant command name the
 * grant at once. Grants given elsewhere (another deployment, another HTTP worker, a
 * client of the network) reach a kept scope within its `ttlMs`.
 */
let grantChanges = 0;

/** Says that grants changed through this process: every kept scope is asked again. */
export function grantsChanged(): void {
  grantChanges += 1;
}

/**
 * The audit scope of a principal, as the chaincode computes it for their identity
 * (`audit:getAuditScope`): `undefined` for roles whose reads no grant limits, the live
 * grants and their union for auditors. The one function off the chain that says what an
 * auditor may read: the read log records grants from it, and an index query filters by
 * it (organisations, kinds, record time from/to) before the chaincode would refuse.
 *
 * Answers are kept for `ttlMs` per identity, so a revocation made elsewhere reaches
 * off-chain filters within that time ({@link grantsChanged} for those made here); the
 * chaincode's own checks apply it at once. An expiry needs no
 * look-up: a kept answer is narrowed to the grants still live at the time of asking.
 */
export class AuditScopes {
  readonly #ledger: LedgerAccess;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { at: number; grantChanges: number; scope: Promise<AuditScope> }>();

  constructor(ledger: LedgerAccess, ttlMs = 10_000) {
    this.#ledger = ledger;
    this.#ttlMs = ttlMs;
  }

  /**
   * @param options.maxAgeMs asks the ledger when the kept answer is older than this
   *   (within the kept time, default `ttlMs`); 0 asks it always.
   * @throws Error when the ledger cannot be reached.
   */
  async scopeFor(
    principal: Principal,
    log: Logger,
    options: { maxAgeMs?: number; now?: number } = {},
  ): Promise<AuditScope | undefined> {
    if (!auditGrantedRoles.includes(principal.role)) return undefined;
    const now = options.now ?? Date.now();
    const cached = this.#cache.get(principal.identityLabel);
    const maxAgeMs = Math.min(options.maxAgeMs ?? this.#ttlMs, this.#ttlMs);
    if (cached !== undefined && now - cached.at < maxAgeMs && cached.grantChanges === grantChanges) {
      const kept = await cached.scope;
      return scopeOf(kept.auditor, new Date(now).toISOString(), kept.grants);
    }
    const scope = this.#ledger.clientFor(principal, log).then((client) => client.audit.getAuditScope());
    this.#cache.set(principal.identityLabel, { at: now, grantChanges, scope });
    scope.catch(() => this.#cache.delete(principal.identityLabel));
    if (this.#cache.size > 10_000) this.#cache.delete(this.#cache.keys().next().value ?? '');
    return scope;
  }
}
