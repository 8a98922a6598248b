import type { Party, Role } from '@gigledger/chaincode/model';
import { invalidInput } from '../errors/api-error.js';
import type { AccountService } from './account-service.js';

/** A party a command names, the request field it came in, and the roles it may hold there (any when left out). */
export interface NamedParty {
  readonly party: Party;
  /** The field named in a refusal, e.g. `body.freelancer` (its `.userId` is what is refused). */
  readonly field: string;
  readonly roles?: readonly Role[];
}

/**
 * Refuses a command naming, in an organisation this server enrols, someone who is no
 * active person or API key there, or who holds a role the command cannot give them (a
 * client-role person named as freelancer). The ledger cannot tell: it knows identities
 * only by the certificates that sign, and an identity's role is an attribute of its own
 * certificate. A party of an organisation enrolled by another deployment is taken as
 * named. Checked in order; the first refusal is thrown. A refusal says only what the
 * caller needs to know to name someone else (that the identity is no active holder of
 * the roles the part needs), never which role it holds.
 *
 * @throws ApiError 422 VALIDATION_FAILED naming `<field>.userId`: "<msp> has no active
 *   identity <user> on this server", or, when the part needs roles, "<msp>/<user> is no
 *   active <role> or <role> on this server".
 */
export async function requireKnownParties(
  accounts: Pick<AccountService, 'roleOfIdentity'>,
  named: readonly NamedParty[],
): Promise<void> {
  for (const { party, field, roles } of named) {
    const known = await accounts.roleOfIdentity(party.mspId, party.userId);
    if (!known.served) continue;
    if (roles !== undefined) {
      if (known.role === undefined || !roles.includes(known.role)) {
        throw invalidInput(
          `${field}.userId`,
          `${party.mspId}/${party.userId} is no active ${roles.join(' or ')} on this server`,
        );
      }
    } else if (known.role === undefined) {
      throw invalidInput(`${field}.userId`, `${party.mspId} has no active identity ${party.userId} on this server`);
    }
  }
}
