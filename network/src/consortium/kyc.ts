import { randomBytes, randomUUID } from 'node:crypto';
import { credentialClaimsTransientKey, type Party } from '@gigledger/chaincode/model';
import { certificateCommonName, type LedgerSession } from '@gigledger/gateway';
import { enactByVote } from './governance.js';

/**
 * Clears people for payouts the way a consortium does: unless `issuer` already may issue
 * `KYC` credentials, the governors vote it in as a KYC issuer (see {@link enactByVote});
 * it then issues one to each person. Payouts to anyone without a valid credential of a
 * type in `kycCredentialTypes` are held by the chaincode.
 *
 * @throws RefusedError when a governor or the issuer lacks the role, or a person already
 *   holds a credential with the generated id (never in practice).
 */
export async function grantKyc(
  governors: readonly LedgerSession[],
  issuer: LedgerSession,
  people: readonly Party[],
): Promise<void> {
  const issuerParty = {
    mspId: issuer.identity.mspId,
    userId: certificateCommonName(issuer.identity.certificatePem),
  };
  const current = await issuer.credentials.listIssuers({ status: 'active', credentialType: 'KYC' });
  const accredited = current.some(
    (record) => record.issuer.mspId === issuerParty.mspId && record.issuer.userId === issuerParty.userId,
  );
  if (!accredited) {
    await enactByVote(
      governors,
      [{ type: 'registerIssuer', issuer: issuerParty, displayName: 'KYC office', credentialTypes: ['KYC'] }],
      'Accredit a KYC office',
    );
  }
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
