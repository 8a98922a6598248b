import { z } from 'zod';
import type { Role } from '@gigledger/chaincode/model';

/** What a caller may do through the API, beyond what its role allows in chaincode. */
export const scopes = [
  'agreements:read',
  'agreements:write',
  'settlements:write',
  'credentials:read',
  'credentials:write',
  'reputation:read',
  'reputation:write',
  'governance:read',
  'governance:write',
  'licensing:read',
  'licensing:write',
  'ip:read',
  'ip:write',
  'provenance:read',
  'provenance:write',
  // The audit index's block explorer: blocks, transactions and the keys they touched.
  'ledger:read',
  'proofs:read',
  'audit:read',
  'audit:write',
  'admin',
] as const;
export type Scope = (typeof scopes)[number];

/**
 * Who may call an operation (a REST route, a GraphQL root field): anyone (`public`; its
 * handler may still look at a caller), every signed-in caller whatever their scopes
 * (`signed-in`: who they are, signing out), or a caller holding the scope. Refusals: 401
 * without credentials, 403 without the scope.
 */
export type Access = 'public' | 'signed-in' | Scope;
export const scopeSchema = z.enum(scopes);

/** Both sides of an agreement do the same kinds of things; the chaincode tells their commands apart. */
const partyScopes: readonly Scope[] = [
  'agreements:read',
  'agreements:write',
  'credentials:read',
  'reputation:read',
  'reputation:write',
  'governance:read',
  'licensing:read',
  'licensing:write',
  'ip:read',
  'ip:write',
  'provenance:read',
  'provenance:write',
];

/**
 * Scopes a person of each role has; an API key carries a subset of its role's scopes.
 * Everyone may read the consortium's rules and how they were decided, and execute a
 * passed proposal (execution is open to anyone); governance:write proposes, votes and vetoes.
 * Clients and freelancers register works and change their owners (ip:write); the IP
 * registry is readable to anyone who checks priority or ownership (ip:read).
 * Auditors and admins export proof bundles (proofs:read; see `proofReaderRoles`).
 */
export const scopesByRole: Record<Role, readonly Scope[]> = {
  client: partyScopes,
  freelancer: partyScopes,
  // provenance:write for logging the use of a dataset access grant.
  evaluator: ['agreements:read', 'agreements:write', 'governance:read', 'provenance:read', 'provenance:write'],
  arbitrator: ['agreements:read', 'agreements:write', 'governance:read'],
  // agreements:write for acting on held and failed payouts; the role gates keep every other command out of reach.
  // licensing:write for closing ended royalty periods, as the auditor may too.
  settlement: [
    'agreements:read',
    'agreements:write',
    'settlements:write',
    'governance:read',
    'licensing:read',
    'licensing:write',
  ],
  // governance:write for the veto an auditing member organisation may hold.
  auditor: [
    'agreements:read',
    'credentials:read',
    'reputation:read',
    'governance:read',
    'governance:write',
    'licensing:read',
    'licensing:write',
    'ip:read',
    'provenance:read',
    'ledger:read',
    'proofs:read',
    'audit:read',
  ],
  hr: ['agreements:read', 'credentials:read', 'reputation:read', 'governance:read', 'ip:read', 'provenance:read'],
  issuer: ['credentials:read', 'credentials:write', 'reputation:read', 'governance:read'],
  governor: ['governance:read', 'governance:write', 'credentials:read', 'reputation:read'],
  admin: [
    'agreements:read',
    'credentials:read',
    'credentials:write',
    'reputation:read',
    'governance:read',
    'licensing:read',
    'ip:read',
    'provenance:read',
    'ledger:read',
    'proofs:read',
    // audit:write grants and revokes auditors' access to the organisation's records.
    'audit:read',
    'audit:write',
    'admin',
  ],
};

/**
 * Whether the credential a principal was resolved from still holds: `undefined` when it
 * does, otherwise the reason it no longer does.
 */
export type StandingCheck = () => Promise<string | undefined>;

/**
 * Key of a principal's {@link StandingCheck}. A symbol, so that the check travels with
 * copies of the principal but never reaches a response body or a log line.
 */
export const standingCheck: unique symbol = Symbol('gigledger.principal.standing');

/** An authenticated caller: a person (JWT) or a service (API key), bound to one Fabric identity. */
export interface Principal {
  readonly kind: 'person' | 'service';
  /** The person's userId, or the API key's id. */
  readonly id: string;
  /** The `userId` attribute of the Fabric identity the principal acts with. */
  readonly userId: string;
  readonly org: string;
  readonly mspId: string;
  readonly role: Role;
  readonly scopes: readonly Scope[];
  /** Wallet label of the principal's Fabric identity. */
  readonly identityLabel: string;
  /** When the credential stops being valid (epoch milliseconds); bearer tokens only. */
  readonly expiresAt?: number;
  /** Asks whether the account or key behind the principal is still active (long-lived requests). */
  readonly [standingCheck]?: StandingCheck;
}

/**
 * Why a principal may no longer act, or undefined while it may: its token has expired,
 * or its account was disabled or its key revoked.
 */
export async function principalStanding(principal: Principal, now = Date.now()): Promise<string | undefined> {
  if (principal.expiresAt !== undefined && now >= principal.expiresAt) return 'the bearer token has expired';
  return principal[standingCheck]?.();
}

/**
 * The `userId` attribute of every service identity starts with this. People's user ids
 * cannot (see {@link isServiceUserId}), so no API key can ever act as a person.
 */
export const serviceUserIdPrefix = 'svc.';

/** Names of the server's own service identities; no API key may take one. */
export const reservedServiceNames: readonly string[] = ['settlement-service', 'audit-index-check', 'read-log-anchor'];

/** The `userId` attribute of the Fabric identity of the API key named `name`. */
export function serviceUserId(name: string): string {
  return `${serviceUserIdPrefix}${name}`;
}

/** Whether a user id lies in the namespace reserved for service identities. */
export function isServiceUserId(userId: string): boolean {
  return userId.startsWith(serviceUserIdPrefix);
}

export function personIdentityLabel(userId: string): string {
  return `person:${userId}`;
}

/**
 * Wallet label of an API key's identity. Keys created before service user ids had their
 * own namespace are labelled `service:<id>` and carry the bare key name; they are
 * re-enrolled under this label on first use.
 */
export function serviceIdentityLabel(keyId: string): string {
  return `service-account:${keyId}`;
}

/** The wallet label of an API key's identity enrolled before the service namespace existed. */
export function legacyServiceIdentityLabel(keyId: string): string {
  return `service:${keyId}`;
}
