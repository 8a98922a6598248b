import { credentialRecordSchema } from '@gigledger/chaincode/model';
import { oneRow, written, type DomainIndexer } from './domain-indexer.js';

/**
 * Credentials as the channel holds them: issuer, subject, type, dates, status and claim
 * commitments. Claim values and salts live in a private collection and never reach a block.
 */
export const credentialIndexer: DomainIndexer = {
  domain: 'credential',
  records: [
    [
      'credential',
      oneRow(credentialRecordSchema, 'ix_credentials', ['credential_id'], (credential, write) => ({
        credential_id: credential.credentialId,
        type: credential.type,
        issuer_msp: credential.issuer.mspId,
        issuer_user: credential.issuer.userId,
        subject_msp: credential.subject.mspId,
        subject_user: credential.subject.userId,
        status: credential.status,
        issuance_date: credential.issuanceDate,
        expiration_date: credential.expirationDate ?? null,
        issued_at: credential.issuedAt,
        issued_tx_id: credential.issuedTxId,
        updated_at: credential.updatedAt,
        updated_tx_id: credential.updatedTxId,
        ...written(write, credential),
      })),
    ],
  ],
};
