import { commitClaims, type IssueCredentialRequest } from '../../model/credential';
import { credentialEvents } from '../../model/credential-events';
import type { CredentialRecord, SaltedClaim } from '../../model/credential-records';
import { isParty, requireRole, requireUserId } from '../../ledger/caller';
import { refuse, refuseIdTaken } from '../../ledger/refusal';
import type { Tx } from '../../ledger/tx';
import { emitCredentialEvent } from './events';
import { credentialExists, describeParty, indexCredential, readIssuer, writeCredential, writeSecrets } from './store';
import { requireMemberOrganisations } from '../governance/member-organisations';

/**
 * Checks of an issuance that need the caller and the transaction time but no state, so
 * an issuance that fails them reads nothing. Returns the issuance date.
 *
 * @throws RefusalError IDENTITY_INCOMPLETE without a userId attribute; FORBIDDEN unless
 *   the caller holds role issuer and is not the subject; VALIDATION_FAILED when the
 *   issuance date is after the transaction time or the expiration date is not.
 */
export function checkIssue(tx: Tx, request: IssueCredentialRequest): string {
  const action = `issue credential ${request.credentialId}`;
  requireUserId(tx.caller, action);
  requireRole(tx.caller, ['issuer'], action);
  if (isParty(tx.caller, request.subject)) {
    refuse('FORBIDDEN', `an issuer may not issue a credential to themselves (${describeParty(request.subject)})`);
  }
  const issuanceDate = request.issuanceDate ?? tx.at;
  if (Date.parse(issuanceDate) > Date.parse(tx.at)) {
    refuse('VALIDATION_FAILED', `issuanceDate: must not be after the transaction time ${tx.at}`, 'issuanceDate');
  }
  if (request.expirationDate !== undefined && Date.parse(request.expirationDate) <= Date.parse(tx.at)) {
    refuse('VALIDATION_FAILED', `expirationDate: must be after the transaction time ${tx.at}`, 'expirationDate');
  }
  return issuanceDate;
}

/**
 * Issues a credential: the channel record with one salted commitment per claim, the
 * two index entries, and the claims with their salts in the `credentialSecrets`
 * collection. The caller must be an active issuer whose grant includes the type; the
 * credential records the grant version it was issued under.
 *
 * @throws RefusalError FORBIDDEN when the caller has no active issuer record or its grant
 *   lacks the type; ALREADY_EXISTS for a taken credential id, worded the same whether
 *   or not the caller may read the credential holding it.
 *   VALIDATION_FAILED (`subject.mspId`) for a party of an organisation outside the consortium.
 */
export async function issueCredential(
  tx: Tx,
  request: IssueCredentialRequest,
  claims: readonly SaltedClaim[],
  issuanceDate: string,
): Promise<CredentialRecord> {
  const { ctx } = tx;
  const issuerParty = { mspId: tx.caller.mspId, userId: requireUserId(tx.caller, 'issue a credential') };
  const issuer = await readIssuer(ctx, issuerParty);
  if (issuer === undefined) {
    refuse('FORBIDDEN', `${describeParty(issuerParty)} has no issuer record, so it may not issue credentials`);
  }
  if (issuer.status !== 'active') {
    refuse(
      'FORBIDDEN',
      `the issuer record of ${describeParty(issuerParty)} was removed at ${issuer.updatedAt}, so it may not issue credentials`,
    );
  }
  if (!issuer.credentialTypes.includes(request.type)) {
    refuse(
      'FORBIDDEN',
      `issuer ${describeParty(issuerParty)} may issue ${issuer.credentialTypes.join(', ')} credentials, not ${request.type}`,
      'type',
    );
  }
  if (await credentialExists(ctx, request.credentialId)) {
    refuseIdTaken('credential', request.credentialId, 'credentialId');
  }
  await requireMemberOrganisations(tx, [{ field: 'subject', party: request.subject }]);

  const credential: CredentialRecord = {
    credentialId: request.credentialId,
    type: request.type,
    issuer: issuerParty,
    issuerVersion: issuer.version,
    issuerVersionTxId: issuer.updatedTxId,
    subject: request.subject,
    issuanceDate,
    ...(request.expirationDate === undefined ? {} : { expirationDate: request.expirationDate }),
    claims: commitClaims(claims),
    status: 'active',
    statusHistory: [],
    issuedAt: tx.at,
    issuedTxId: tx.txId,
    updatedAt: tx.at,
    updatedTxId: tx.txId,
  };
  await writeCredential(ctx, credential);
  await indexCredential(ctx, credential);
  await writeSecrets(ctx, { credentialId: credential.credentialId, subject: credential.subject, claims: [...claims] });
  emitCredentialEvent(tx, credentialEvents.credentialIssued, { credentialId: credential.credentialId, credential });
  return credential;
}
