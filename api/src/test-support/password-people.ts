import type { Role } from '@gigledger/chaincode/model';
import type { AccountService } from '../auth/account-service.js';

/**
 * Creates a local person who logs in with `password` (at least 12 characters, as the account rules ask),
 * for the tests of password login itself; other tests take a bearer token from `TestServer.person`.
 *
 * @throws what `AccountService.createPerson` throws (an unknown organisation, a taken user id).
 */
export async function createPasswordPerson(
  accounts: Pick<AccountService, 'createPerson'>,
  userId: string,
  org: string,
  role: Role,
  password: string,
): Promise<void> {
  await accounts.createPerson({ userId, org, role, password });
}
