import type { Context } from 'fabric-contract-api';
import { identityAttributes, roleSchema, type Caller, type Role } from '../model/identity';
import type { Party } from '../model/party';
import { refuse } from './refusal';

/** Reads the caller's MSP id and GigLedger attributes from the transaction creator's certificate. */
export function callerOf(ctx: Context): Caller {
  const identity = ctx.clientIdentity;
  const roleValue = identity.getAttributeValue(identityAttributes.role);
  const userId = identity.getAttributeValue(identityAttributes.userId);
  const role = roleValue === null ? undefined : roleSchema.safeParse(roleValue).data;
  return {
    mspId: identity.getMSPID(),
    id: identity.getID(),
    ...(role === undefined ? {} : { role }),
    ...(userId === null ? {} : { userId }),
  };
}

/**
 * @throws RefusalError FORBIDDEN unless the caller holds one of the roles.
 */
export function requireRole(caller: Caller, allowed: readonly Role[], action: string): Role {
  if (caller.role !== undefined && allowed.includes(caller.role)) return caller.role;
  const held = caller.role === undefined ? 'no role' : `role ${caller.role}`;
  refuse('FORBIDDEN', `only ${allowed.join(' or ')} may ${action}; the caller has ${held}`);
}

/**
 * @throws RefusalError IDENTITY_INCOMPLETE when the certificate carries no userId attribute.
 */
export function requireUserId(caller: Caller, action: string): string {
  if (caller.userId !== undefined && caller.userId !== '') return caller.userId;
  refuse('IDENTITY_INCOMPLETE', `${action} needs a certificate with a userId attribute`);
}

/** The caller in words, for refusals: organisation, user and role. */
export function describeCaller(caller: Caller): string {
  const user = caller.userId === undefined ? 'an identity without userId' : `user ${caller.userId}`;
  const role = caller.role === undefined ? 'no role' : `role ${caller.role}`;
  return `${caller.mspId} ${user} with ${role}`;
}

/** Whether the caller is that person: same organisation and certificate userId. */
export function isParty(caller: Caller, party: Party): boolean {
  return caller.mspId === party.mspId && caller.userId === party.userId;
}
