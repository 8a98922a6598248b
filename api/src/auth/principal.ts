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
  'admin',
] as const;
export type Scope = (typeof scopes)[number];
export const scopeSchema = z.enum(scopes);

/** Scopes a person of each role has; an API key carries a subset of its role's scopes. */
export const scopesByRole: Record<Role, readonly Scope[]> = {
  client: ['agreements:read', 'agreements:write', 'credentials:read', 'reputation:read', 'reputation:write'],
  freelancer: ['agreements:read', 'agreements:write', 'credentials:read', 'reputation:read', 'reputation:write'],
  evaluator: ['agreements:read', 'agreements:write'],
  arbitrator: ['agreements:read', 'agreements:write'],
  // agreements:write for acting on held and failed payouts; the role gates keep every other command out of reach.
  settlement: ['agreements:read', 'agreements:write', 'settlements:write'],
  auditor: ['agreements:read', 'credentials:read', 'reputation:read'],
  hr: ['agreements:read', 'credentials:read', 'reputation:read'],
  issuer: ['credentials:read', 'credentials:write', 'reputation:read'],
  admin: ['agreements:read', 'credentials:read', 'credentials:write', 'reputation:read', 'admin'],
};

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
}

export function personIdentityLabel(userId: string): string {
  return `person:${userId}`;
}

export function serviceIdentityLabel(keyId: string): string {
  return `service:${keyId}`;
}
