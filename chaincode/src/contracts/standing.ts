import type { Context } from 'fabric-contract-api';
import type { Caller } from '../model/identity';
import { readArbitrator } from './governance/store';
import { readParameterRecord } from './parameter/store';

/**
 * Whether a governance decision stands behind the caller's role (`governedRoles`): an
 * arbitrator the consortium added and has not removed, or a settlement identity of an
 * organisation in `settlementOrganisations`. Any organisation's admin can give either
 * role to anyone, so the role alone opens nothing beyond the caller's organisation.
 * Callers of other roles are returned as they are, with no state read.
 */
export async function withStanding(ctx: Context, caller: Caller): Promise<Caller> {
  if (caller.role === 'arbitrator') {
    const record =
      caller.userId === undefined
        ? undefined
        : await readArbitrator(ctx, { mspId: caller.mspId, userId: caller.userId });
    return { ...caller, governed: record?.status === 'active' };
  }
  if (caller.role === 'settlement') {
    const listed = (await readParameterRecord(ctx, 'settlementOrganisations'))?.value;
    return { ...caller, governed: Array.isArray(listed) && listed.includes(caller.mspId) };
  }
  return caller;
}
