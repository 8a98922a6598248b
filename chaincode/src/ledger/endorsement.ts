import type { Context } from 'fabric-contract-api';
import { KeyEndorsementPolicy } from 'fabric-shim';

// A peer is a member of its organisation whether or not the MSP classifies node
// identities (NodeOUs), so MEMBER works on every network layout a consortium runs.
const endorserRole = 'MEMBER';

/**
 * Key-level endorsement policy bytes requiring one endorsement from each of the
 * organisations (all of them, not a majority). The list is de-duplicated and sorted so
 * that every peer builds the same bytes and one organisation is named once when both
 * parties belong to it.
 *
 * @throws Error when no MSP id is given: a key nobody can endorse could never change again.
 */
export function everyOrganisationPolicy(mspIds: readonly string[]): Uint8Array {
  const organisations = [...new Set(mspIds)].sort();
  if (organisations.length === 0) throw new Error('a key-level endorsement policy needs at least one organisation');
  const policy = new KeyEndorsementPolicy();
  policy.addOrgs(endorserRole, ...organisations);
  return policy.getPolicy();
}

/** MSP ids a key-level policy names, for queries and tests. */
export function policyOrganisations(policy: Uint8Array): string[] {
  return new KeyEndorsementPolicy(policy).listOrgs();
}

/**
 * Makes every later change to `key` need an endorsement from each organisation. Applies
 * from the next transaction on; the transaction that sets it is validated under the
 * policy the key had before (the chaincode's own, for a new key).
 */
export async function requireEndorsementByEvery(ctx: Context, key: string, mspIds: readonly string[]): Promise<void> {
  await ctx.stub.setStateValidationParameter(key, everyOrganisationPolicy(mspIds));
}
