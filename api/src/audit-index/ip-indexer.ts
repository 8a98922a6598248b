import { ownershipChangeRecordSchema, samePerson, workRecordSchema, type Party } from '@gigledger/chaincode/model';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/database.js';
import type { DomainIndexer, IndexedWrite } from './domain-indexer.js';

async function indexWork(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void> {
  const work = workRecordSchema.parse(write.value);
  const row = {
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
    updated_block: write.blockNumber,
    record: JSON.stringify(work),
  };
  await db
    .insertInto('ix_works')
    .values(row)
    .onConflict((conflict) => conflict.column('work_id').doUpdateSet(row))
    .execute();
  // The owners now: who reads the work's licences and ownership changes follows them.
  await db.deleteFrom('ix_work_owners').where('work_id', '=', work.workId).execute();
  await db
    .insertInto('ix_work_owners')
    .values(
      work.owners.map((owner) => ({
        work_id: work.workId,
        owner_msp: owner.party.mspId,
        owner_user: owner.party.userId,
        share_bps: owner.shareBps,
      })),
    )
    .execute();
}

async function indexOwnershipChange(db: Kysely<DatabaseSchema>, write: IndexedWrite): Promise<void> {
  const change = ownershipChangeRecordSchema.parse(write.value);
  const row = {
    work_id: change.workId,
    change_id: change.changeId,
    proposer_msp: change.proposer.mspId,
    proposer_user: change.proposer.userId,
    status: change.status,
    proposed_at: change.proposedAt,
    tx_id: change.txId,
    updated_at: change.updatedAt,
    updated_tx_id: change.updatedTxId,
    updated_block: write.blockNumber,
    record: JSON.stringify(change),
  };
  await db
    .insertInto('ix_ownership_changes')
    .values(row)
    .onConflict((conflict) => conflict.columns(['work_id', 'change_id']).doUpdateSet(row))
    .execute();
  const parties: Party[] = [];
  for (const { party } of [...change.currentOwners, ...change.proposedOwners]) {
    if (!parties.some((known) => samePerson(known, party))) parties.push(party);
  }
  await db
    .deleteFrom('ix_ownership_change_parties')
    .where('work_id', '=', change.workId)
    .where('change_id', '=', change.changeId)
    .execute();
  await db
    .insertInto('ix_ownership_change_parties')
    .values(
      parties.map((party) => ({
        work_id: change.workId,
        change_id: change.changeId,
        party_msp: party.mspId,
        party_user: party.userId,
      })),
    )
    .execute();
}

/**
 * Works with their current owners and shares, and proposed ownership changes, from the
 * `ip` contract's keys (see `contracts/ip/store.ts`). The content-hash and owner index
 * keys are the ledger's own look-ups and are not kept: the work record says the same.
 */
export const ipIndexer: DomainIndexer = {
  domain: 'ip',
  objectTypes: ['ipWork', 'ipOwnershipChange'],
  apply(db, write) {
    if (write.value === undefined) return Promise.resolve();
    return write.objectType === 'ipWork' ? indexWork(db, write) : indexOwnershipChange(db, write);
  },
};
