import { randomBytes, randomUUID } from 'node:crypto';
import { credentialClaimsTransientKey, type Party } from '@gigledger/chaincode/model';
import { certificateCommonName, type LedgerClient, type LedgerSession } from '@gigledger/gateway';

/**
 * Clears people for payouts the way a consortium does: `admin` registers `issuer` as
 * an issuer of `KYC` credentials, which then issues one to each person. Payouts to
 * anyone without a valid credential of a type in `kycCredentialTypes` are held by the
 * chaincode.
 *
 * @throws RefusedError when the admin or issuer lacks the role, or a person already
 *   holds a credential with the generated id (never in practice).
 */
export async function grantKyc(admin: LedgerClient, issuer: LedgerSession, people: readonly Party[]): Promise<void> {
  const issuerParty = {
    mspId: issuer.identity.mspId,
    userId: certificateCommonName(issuer.identity.certificatePem),
  };
  await admin.credentials.registerIssuer({
    requestId: `kyc-issuer-${randomBytes(8).toString('hex')}`,
    issuer: issuerParty,
    displayName: 'KYC office',
    credentialTypes: ['KYC'],
  });
  for (const subject of people) {
    const claims = [{ name: 'level', value: 'verified', salt: randomBytes(32).toString('hex') }];
    await issuer.credentials.issueCredential(
      {
        requestId: `kyc-${randomBytes(8).toString('hex')}`,
        credentialId: `urn:uuid:${randomUUID()}`,
        subject,
        type: 'KYC',
      },
      { transient: { [credentialClaimsTransientKey]: claims } },
    );
  }
}
