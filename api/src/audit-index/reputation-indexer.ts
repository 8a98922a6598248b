import { attestationRecordSchema, completionRecordSchema, type Party } from '@gigledger/chaincode/model';
import { storedKey, type BlockRows, type DomainIndexer, type IndexedWrite } from './domain-indexer.js';

/** What a completion and an attestation both say: who is rated, by whom, on which agreement, when. */
interface ReputationEvent {
  readonly subject: Party;
  readonly agreementId: string;
  readonly recordedAt: string;
}

function upsertEvent(
  write: IndexedWrite,
  rows: BlockRows,
  record: ReputationEvent,
  by: Party,
  own: { kind: string; milestone_id: string | null; rating: number | null; skill: string | null; level: number | null },
): void {
  rows.upsert('ix_reputation', ['record_key'], {
    record_key: storedKey(write.key),
    tx_id: write.transactionId,
    subject_msp: record.subject.mspId,
    subject_user: record.subject.userId,
    by_msp: by.mspId,
    by_user: by.userId,
    agreement_id: record.agreementId,
    recorded_at: record.recordedAt,
    ...own,
    record: JSON.stringify(record),
  });
}

/** Rated completions and skill attestations, each written once under its own key. */
export const reputationIndexer: DomainIndexer = {
  domain: 'reputation',
  records: [
    [
      'completion',
      (write, rows) => {
        const record = completionRecordSchema.parse(write.value);
        const own = { kind: 'completion', milestone_id: record.milestoneId, rating: record.rating };
        upsertEvent(write, rows, record, record.client, { ...own, skill: null, level: null });
      },
    ],
    [
      'attestation',
      (write, rows) => {
        const record = attestationRecordSchema.parse(write.value);
        const own = { kind: 'attestation', milestone_id: null, rating: null };
        upsertEvent(write, rows, record, record.attester, { ...own, skill: record.skill, level: record.level });
      },
    ],
  ],
};
