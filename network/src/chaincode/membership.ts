/**
 * What the chaincode definition says about the channel's organisations: which of them
 * each private data collection holds, and the endorsement policy that lets a
 * transaction writing private data be endorsed by that collection's members alone.
 */

/** A private data collection as Fabric's `--collections-config` JSON describes it. */
export interface CollectionDefinition {
  readonly name: string;
  /** Fabric signature policy naming the members, `OR('ClientOrgMSP.member', …)`. */
  readonly policy: string;
  readonly [field: string]: unknown;
}

/** MSP ids a collection's member policy names, in the order written. */
export function membersOf(definition: Pick<CollectionDefinition, 'name' | 'policy'>): string[] {
  const members = [...definition.policy.matchAll(/'([A-Za-z0-9.-]+)\.member'/g)].map((match) => match[1] ?? '');
  if (members.length === 0) throw new Error(`collection ${definition.name} names no member organisation`);
  return members;
}

function memberPolicy(members: readonly string[]): string {
  return `OR(${members.map((mspId) => `'${mspId}.member'`).join(',')})`;
}

/**
 * The collections as they apply to the channel's organisations now. A collection that
 * names every founding organisation (`credentialSecrets`) is consortium-wide: every
 * organisation on the channel is a member, the ones that joined later included. Every
 * other collection keeps the parties it names (an agreement's terms stay with the
 * client's and the talent's organisations), less any that left the channel.
 *
 * @param definitions the repository's `chaincode/collections.json`
 * @param founders MSP ids of the organisations in `network.config.json`
 * @param channelMembers MSP ids of the organisations on the channel, in channel order
 * @throws Error when a collection would be left without a member.
 */
export function collectionsForMembers(
  definitions: readonly CollectionDefinition[],
  founders: readonly string[],
  channelMembers: readonly string[],
): CollectionDefinition[] {
  return definitions.map((definition) => {
    const named = membersOf(definition);
    const consortiumWide = founders.every((mspId) => named.includes(mspId));
    const members = consortiumWide ? [...channelMembers] : named.filter((mspId) => channelMembers.includes(mspId));
    if (members.length === 0) {
      throw new Error(`collection ${definition.name} would have no member left on the channel`);
    }
    return { ...definition, policy: memberPolicy(members) };
  });
}

/**
 * The chaincode endorsement policy for these collections and channel members: always an
 * explicit signature policy, never a reference to the channel's `MAJORITY Endorsement`.
 *
 * A channel policy reference is evaluated against the organisations on the channel at
 * validation time, so it changes the moment a configuration update adds or removes an
 * organisation, about a minute before `network:add-org` or `network:remove-org` commits
 * the next chaincode definition. In that window a transaction endorsed by ClientOrg and
 * TalentOrg alone (2 of 3 before, 2 of 4 after) failed with ENDORSEMENT_POLICY_FAILURE.
 * A signature policy names its organisations and holds unchanged until the new definition
 * is committed, which leaves no such window.
 *
 * The gateway gives a transaction's private data (transient data) to the collection's
 * member peers only, so only they can endorse it; the public keys it writes without a
 * key-level policy (a new agreement) fall under the chaincode policy. The policy is "a
 * majority of the organisations' peers, or the peers of every member of a collection
 * that is no majority" (2 parties of 4 organisations):
 * `OR(OutOf(3,'A.peer',…,'D.peer'),AND('ClientOrgMSP.peer','TalentOrgMSP.peer'))`; while
 * every collection's members are a majority it is the majority alone,
 * `OutOf(2,'A.peer','B.peer','C.peer')`. Key-level policies on existing agreement keys
 * (both parties) apply as before.
 *
 * Source: Fabric "Private data" (endorsement of private data writes), "Endorsement
 * policies" (signature policy syntax, `OutOf`) and "Channel configuration" (implicit meta
 * policies are evaluated against the current organisations).
 *
 * @param channelMembers MSP ids of the organisations on the channel, in channel order (at least one)
 */
export function endorsementPolicyFor(
  collections: readonly CollectionDefinition[],
  channelMembers: readonly string[],
): string {
  const majority = Math.floor(channelMembers.length / 2) + 1;
  const minorities = new Map<string, string[]>();
  for (const collection of collections) {
    const members = membersOf(collection).filter((mspId) => channelMembers.includes(mspId));
    if (members.length >= majority) continue;
    const sorted = [...members].sort();
    minorities.set(sorted.join(','), sorted);
  }
  const peers = (members: readonly string[]) => members.map((mspId) => `'${mspId}.peer'`).join(',');
  const majorityPolicy = `OutOf(${majority},${peers(channelMembers)})`;
  if (minorities.size === 0) return majorityPolicy;
  const alternatives = [...minorities.values()].map((members) =>
    members.length === 1 ? peers(members) : `AND(${peers(members)})`,
  );
  return `OR(${majorityPolicy},${alternatives.join(',')})`;
}
