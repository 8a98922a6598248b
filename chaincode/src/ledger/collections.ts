import type { Context } from 'fabric-contract-api';
import { refuse } from './refusal';

interface CollectionDefinition {
  readonly name: string;
  /** A Fabric signature policy such as `OR('ClientOrgMSP.member','TalentOrgMSP.member')`. */
  readonly policy: string;
}

// The collection definitions are deployed with this package (`peer lifecycle … --collections-config`),
// so the chaincode reads the same file it is approved with.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const definitions = require('../../collections.json') as CollectionDefinition[];

/** MSP ids a collection's member policy names. */
export function collectionMembers(collection: string): string[] {
  const definition = definitions.find((candidate) => candidate.name === collection);
  if (definition === undefined) throw new Error(`no private data collection ${collection} is defined`);
  return [...definition.policy.matchAll(/'([^'.]+)\.member'/g)].map((match) => match[1] ?? '');
}

/**
 * Private data collections are `memberOnlyRead` and `memberOnlyWrite`: Fabric itself
 * refuses a caller of another organisation, but as an endorsement failure that names no
 * rule. Checking first turns it into a refusal that says which collection and why.
 *
 * @throws RefusalError FORBIDDEN when the caller's organisation is not a member of `collection`.
 */
export function requireCollectionMember(ctx: Context, collection: string, action: string): void {
  const mspId = ctx.clientIdentity.getMSPID();
  const members = collectionMembers(collection);
  if (!members.includes(mspId)) {
    refuse(
      'FORBIDDEN',
      `${mspId} may not ${action}: that data is kept in private data collection ${collection}, whose members are ${members.join(', ')}`,
    );
  }
}
