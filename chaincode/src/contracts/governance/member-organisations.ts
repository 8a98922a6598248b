import type { Party } from '../../model/party';
import { refuse } from '../../ledger/refusal';
import type { Tx } from '../../ledger/tx';
import { readMembers } from './store';

/**
 * A party a request names, with the request field it came in (`evaluator`,
 * `owners.1.party`; empty when the request is the party itself).
 */
export interface NamedParty {
  readonly field: string;
  readonly party: Pick<Party, 'mspId'>;
}

/**
 * Refuses a request that names a party (an evaluator, a licensee, a grantee, a credential
 * subject…) of an organisation the consortium does not count among its members: nobody
 * of that organisation could ever act on the record, so it would wait for ever. Members
 * are the organisations holding voting or veto rights; one only invited does not count
 * yet. Before governance's genesis records any member (a channel being bootstrapped),
 * the chaincode knows no membership to check against and lets the request through.
 *
 * @throws RefusalError VALIDATION_FAILED (field `<field>.mspId` of the first such party)
 *   naming the members.
 */
export async function requireMemberOrganisations(tx: Tx, parties: readonly NamedParty[]): Promise<void> {
  if (parties.length === 0) return;
  const members = (await readMembers(tx.ctx)).filter((member) => member.voting || member.veto).map((m) => m.mspId);
  if (members.length === 0) return;
  const outsider = parties.find(({ party }) => !members.includes(party.mspId));
  if (outsider === undefined) return;
  const field = outsider.field === '' ? 'mspId' : `${outsider.field}.mspId`;
  refuse(
    'VALIDATION_FAILED',
    `${field}: ${outsider.party.mspId} is no member organisation of the consortium; members are ${members.join(', ')}`,
    field,
  );
}

/** The parties of a list, each under its index (`owners.0.party`). */
export function listedParties<Item>(
  field: string,
  items: readonly Item[] | undefined,
  partyOf: (item: Item) => Pick<Party, 'mspId'>,
  under = '',
): NamedParty[] {
  return (items ?? []).map((item, index) => ({ field: `${field}.${index}${under}`, party: partyOf(item) }));
}
