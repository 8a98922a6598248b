import { attestationRecordSchema, completionRecordSchema } from '@gigledger/chaincode/model';
import { storedKey, type DomainIndexer } from './domain-indexer.js';

/** Rated completions and skill attestations, each written once under its own key. */
export const reputationIndexer: DomainIndexer = {
  domain: 'reputation',
  objectTypes: ['completion', 'attestation'],
  async apply(db, write) {
    if (write.value === undefined) return;
    const common = { record_key: storedKey(write.key), tx_id: write.transactionId };
    const row =
      write.objectType === 'completion'
        ? ((record) => ({
            ...common,
            kind: 'completion',
            subject_msp: record.subject.mspId,
            subject_user: record.subject.userId,
            by_msp: record.client.mspId,
            by_user: record.client.userId,
            agreement_id: record.agreementId,
            milestone_id: record.milestoneId,
            rating: record.rating,
            skill: null,
            level: null,
            recorded_at: record.recordedAt,
            record: JSON.stringify(record),
          }))(completionRecordSchema.parse(write.value))
        : ((record) => ({
            ...common,
            kind: 'attestation',
            subject_msp: record.subject.mspId,
            subject_user: record.subject.userId,
            by_msp: record.attester.mspId,
            by_user: record.attester.userId,
            agreement_id: record.agreementId,
            milestone_id: null,
            rating: null,
            skill: record.skill,
            level: record.level,
            recorded_at: record.recordedAt,
            record: JSON.stringify(record),
          }))(attestationRecordSchema.parse(write.value));
    await db
      .insertInto('ix_reputation')
      .values(row)
      .onConflict((conflict) => conflict.column('record_key').doUpdateSet(row))
      .execute();
  },
};
