import { credentialOrganisationReaderRoles, credentialReaderRoles } from '../../model/access-roles';
import type { Context } from 'fabric-contract-api';
import type { Party } from '../../model/party';
import type { Page, PageRequest } from '../../model/page';
import type { IssuerDetails } from '../../model/credential';
import type {
  CredentialRecord,
  CredentialStatus,
  CredentialType,
  IssuerRecord,
  IssuerStatus,
  SaltedClaim,
} from '../../model/credential-records';
import type { Caller, Role } from '../../model/identity';
import { refuse } from '../../ledger/refusal';
import { readFilledPage } from '../../ledger/state';
import { describeCaller, isParty } from '../../ledger/caller';
import {
  describeParty,
  readCredentialsOfIssuerPage,
  readCredentialsOfSubjectPage,
  readIssuer,
  readIssuers,
  readIssuerVersions,
  readSecrets,
  requireReadableCredentialById,
  auditGrantCoversCredential,
  canReadCredential,
} from './store';

const listReaderRoles: readonly Role[] = [...credentialReaderRoles, ...credentialOrganisationReaderRoles];

/**
 * For listings, which are not records: refusing one tells nothing about what it would
 * list, so a plain FORBIDDEN is given.
 */
function requireOwnerOrOverseer(caller: Caller, owners: readonly Party[], action: string): void {
  if (owners.some((owner) => isParty(caller, owner))) return;
  if (caller.role !== undefined && listReaderRoles.includes(caller.role)) return;
  const named = owners.map(describeParty).join(' or ');
  refuse(
    'FORBIDDEN',
    `only ${named}, or ${listReaderRoles.join(', ')}, may ${action}; the caller is ${describeCaller(caller)}`,
  );
}

/**
 * A list keeps only the credentials the caller may read one by one: an auditor's those
 * their grants cover, an admin's those of a subject or issuer of its organisation; the
 * lists of the person listed and of hr are unchanged.
 */
async function readableInList(
  ctx: Context,
  caller: Caller,
  credentials: CredentialRecord[],
): Promise<CredentialRecord[]> {
  const readable: CredentialRecord[] = [];
  for (const credential of credentials) {
    if (canReadCredential(caller, credential) && (await auditGrantCoversCredential(ctx, caller, credential))) {
      readable.push(credential);
    }
  }
  return readable;
}

function matches(
  credential: CredentialRecord,
  filter: { type?: CredentialType | undefined; status?: CredentialStatus | undefined },
): boolean {
  return (
    (filter.type === undefined || credential.type === filter.type) &&
    (filter.status === undefined || credential.status === filter.status)
  );
}

/**
 * One credential's channel record (commitments, never values).
 *
 * @throws RefusalError NOT_FOUND when it does not exist or the caller is neither its
 *   subject nor its issuer, nor hr, an auditor under a grant covering it, nor an admin of
 *   its subject's or issuer's organisation (one answer for both).
 */
export async function getCredential(ctx: Context, caller: Caller, credentialId: string): Promise<CredentialRecord> {
  return requireReadableCredentialById(ctx, caller, credentialId);
}

/**
 * The claims and salts of a credential, for its subject only (MSP id and userId), from
 * a peer of an organisation that holds the `credentialSecrets` collection.
 *
 * @throws RefusalError NOT_FOUND when the credential does not exist or the caller may not
 *   read it (one answer for both), or this peer holds no claims for it; FORBIDDEN when a
 *   reader other than the subject (its issuer, an overseer) calls.
 */
export async function getCredentialSecrets(
  ctx: Context,
  caller: Caller,
  credentialId: string,
): Promise<{ credentialId: string; claims: SaltedClaim[] }> {
  // Whoever may read the credential (an auditor under a grant) is told why the claims are
  // not theirs; anyone else is answered as for a missing credential.
  const credential = await requireReadableCredentialById(ctx, caller, credentialId);
  // Identity alone decides: the claims are the holder's own, whichever role their certificate carries.
  if (!isParty(caller, credential.subject)) {
    refuse(
      'FORBIDDEN',
      `only the subject of credential ${credentialId} may read its claims; the caller is ${describeCaller(caller)}`,
    );
  }
  const secrets = await readSecrets(ctx, credentialId);
  if (secrets === undefined) {
    refuse(
      'NOT_FOUND',
      `this peer holds no claims of credential ${credentialId}; ask a peer of a member organisation`,
      'credentialId',
    );
  }
  return { credentialId, claims: secrets.claims };
}

/**
 * One page of the credentials a person holds, optionally of one type or status, filled
 * past those the filters leave out, or the caller may not read ({@link readableInList};
 * see {@link readFilledPage}): a
 * page may hold fewer than `pageSize` only past many left out in a row, so only an empty
 * bookmark ends the list.
 *
 * @throws RefusalError FORBIDDEN unless the caller is that person, or hr, auditor or
 *   admin; VALIDATION_FAILED `bookmark` for a bookmark this list did not answer with.
 */
export async function listCredentialsBySubject(
  ctx: Context,
  caller: Caller,
  request: CredentialListRequest,
): Promise<Page<CredentialRecord>> {
  const subject = { mspId: request.mspId, userId: request.userId };
  requireOwnerOrOverseer(caller, [subject], `list the credentials of ${describeParty(subject)}`);
  return readFilledPage(request, async (page) => {
    const { credentials, bookmark } = await readCredentialsOfSubjectPage(ctx, subject, page);
    const matching = credentials.filter((credential) => matches(credential, request));
    return { items: await readableInList(ctx, caller, matching), bookmark };
  });
}

/**
 * One page of the credentials an issuer issued, optionally of one type or status, filled
 * as {@link listCredentialsBySubject} fills its pages.
 *
 * @throws RefusalError FORBIDDEN unless the caller is that issuer, or hr, auditor or
 *   admin; VALIDATION_FAILED `bookmark` for a bookmark this list did not answer with.
 */
export async function listCredentialsByIssuer(
  ctx: Context,
  caller: Caller,
  request: CredentialListRequest,
): Promise<Page<CredentialRecord>> {
  const issuer = { mspId: request.mspId, userId: request.userId };
  requireOwnerOrOverseer(caller, [issuer], `list the credentials issued by ${describeParty(issuer)}`);
  return readFilledPage(request, async (page) => {
    const { credentials, bookmark } = await readCredentialsOfIssuerPage(ctx, issuer, request.type, page);
    const matching = credentials.filter((credential) => matches(credential, request));
    return { items: await readableInList(ctx, caller, matching), bookmark };
  });
}

type CredentialListRequest = Party & {
  type?: CredentialType | undefined;
  status?: CredentialStatus | undefined;
} & PageRequest;

/**
 * An issuer record with every version of its grant. Issuer records are public to the channel.
 *
 * @throws RefusalError NOT_FOUND when the identity was never an issuer.
 */
export async function getIssuer(ctx: Context, issuer: Party): Promise<IssuerDetails> {
  const record = await readIssuer(ctx, issuer);
  if (record === undefined) refuse('NOT_FOUND', `${describeParty(issuer)} has no issuer record`, 'userId');
  return { issuer: record, versions: await readIssuerVersions(ctx, issuer) };
}

/** Issuer records in key order (MSP id, userId), optionally by status and by a type their record lists. */
export async function listIssuers(
  ctx: Context,
  filter: { status?: IssuerStatus | undefined; credentialType?: CredentialType | undefined },
): Promise<IssuerRecord[]> {
  return (await readIssuers(ctx)).filter(
    (record) =>
      (filter.status === undefined || record.status === filter.status) &&
      (filter.credentialType === undefined || record.credentialTypes.includes(filter.credentialType)),
  );
}
