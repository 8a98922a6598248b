import {
  ownershipChangeRecordSchema,
  samePerson,
  workRecordSchema,
  type OwnerShare,
  type Party,
} from '@gigledger/chaincode/model';
import { written, type BlockRows, type DomainIndexer, type IndexedWrite } from './domain-indexer.js';

/** The owner columns of a work's owners, also kept for each licence offer of the work. */
export function ownerRows(
  owners: readonly OwnerShare[],
): { owner_msp: string; owner_user: string; share_bps: number }[] {
  return owners.map((owner) => ({
    owner_msp: owner.party.mspId,
    owner_user: owner.party.userId,
    share_bps: owner.shareBps,
  }));
}

function indexWork(write: IndexedWrite, rows: BlockRows): void {
  const work = workRecordSchema.parse(write.value);
  rows.upsert('ix_works', ['work_id'], {
    work_id: work.workId,
    kind: work.kind,
    content_hash: work.contentHash,
    title: work.title,
    registrant_msp: work.registrant.mspId,
    registrant_user: work.registrant.userId ?? null,
    registered_at: work.registeredAt,
    registration_tx_id: work.registrationTxId,
    ownership_version: work.ownershipVersion,
    updated_at: work.updatedAt,
    updated_tx_id: work.updatedTxId,
    ...written(write, work),
  });
  // The owners now: who reads the work's licences and ownership changes follows them.
  rows.replace(
    'ix_work_owners',
    { work_id: work.workId },
    ownerRows(work.owners).map((owner) => ({ work_id: work.workId, ...owner })),
  );
}

function indexOwnershipChange(write: IndexedWrite, rows: BlockRows): void {
  const change = ownershipChangeRecordSchema.parse(write.value);
  rows.upsert('ix_ownership_changes', ['work_id', 'change_id'], {
    work_id: change.workId,
    change_id: change.changeId,
    proposer_msp: change.proposer.mspId,
    proposer_user: change.proposer.userId,
    status: change.status,
    proposed_at: change.proposedAt,
    tx_id: change.txId,
    updated_at: change.updatedAt,
    updated_tx_id: change.updatedTxId,
    ...written(write, change),
  });
  const parties: Party[] = [];
  for (const { party } of [...change.currentOwners, ...change.proposedOwners]) {
    if (!parties.some((known) => samePerson(known, party))) parties.push(party);
  }
  rows.replace(
    'ix_ownership_change_parties',
    { work_id: change.workId, change_id: change.changeId },
    parties.map((party) => ({
      work_id: change.workId,
      change_id: change.changeId,
      party_msp: party.mspId,
      party_user: party.userId,
    })),
  );
}

/**
 * Works with their current owners and shares, and proposed ownership changes, from the
 * `ip` contract's keys (see `contracts/ip/store.ts`). The content-hash and owner index
 * keys are the ledger's own look-ups and are not kept: the work record says the same.
 */
export const ipIndexer: DomainIndexer = {
  domain: 'ip',
  records: [
    ['ipWork', indexWork],
    ['ipOwnershipChange', indexOwnershipChange],
  ],
};
