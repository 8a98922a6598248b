import type { Context } from 'fabric-contract-api';
import { z } from 'zod';
import {
  ownershipChangeRecordSchema,
  samePerson,
  workRecordSchema,
  type OwnershipChangeRecord,
  type WorkRecord,
} from '../../model/ip';
import type { Party } from '../../model/party';
import { requireEndorsementByEvery } from '../../ledger/endorsement';
import { refuse } from '../../ledger/refusal';
import { readPageByPartialKey, readRecord, readValuePage, writeRecord } from '../../ledger/state';
import type { Page, PageRequest } from '../../model/page';
import type { Tx } from '../../ledger/tx';
import { recordObjectTypes } from '../../model/record-keys';

/*
 * Key layout. The work key is the only one whose change needs its owners' organisations
 * (a key-level endorsement policy); the indexes are written when a work is registered
 * or changes owners, never by reads.
 *
 *   ipWork            [workId]                    the work record
 *   ipWorkHash        [contentHash]               index: which work holds a content hash (first registrant)
 *   ipWorkOwner       [mspId, userId, workId]     index: works by current owner
 *   ipOwnershipChange [workId, changeId]          one proposed change of owners and its approvals
 */
const keys = {
  work: recordObjectTypes.work,
  hash: 'ipWorkHash',
  owner: 'ipWorkOwner',
  change: 'ipOwnershipChange',
} as const;

const workRefSchema = z.object({ workId: z.string() });

export function workKey(ctx: Context, workId: string): string {
  return ctx.stub.createCompositeKey(keys.work, [workId]);
}

function ownerKey(ctx: Context, owner: Party, workId: string): string {
  return ctx.stub.createCompositeKey(keys.owner, [owner.mspId, owner.userId, workId]);
}

/** The organisations whose endorsement a change of the work needs: every current owner's. */
export function ownerOrganisations(work: Pick<WorkRecord, 'owners'>): string[] {
  return [...new Set(work.owners.map((owner) => owner.party.mspId))].sort();
}

export function findWork(ctx: Context, workId: string): Promise<WorkRecord | undefined> {
  return readRecord(ctx, workRecordSchema, workKey(ctx, workId));
}

/**
 * The committed record of a work.
 *
 * @throws RefusalError NOT_FOUND when no work has the id.
 */
export async function readWork(tx: Tx, workId: string): Promise<WorkRecord> {
  const work = await findWork(tx.ctx, workId);
  if (work === undefined) refuse('NOT_FOUND', `work ${workId} is not registered`, 'workId');
  return work;
}

/**
 * Writes a work record and keeps its indexes: the content-hash index when the work is
 * new, the owner index when its owners change. The key's endorsement policy becomes one
 * endorsement from every owner's organisation; Fabric applies it from the next
 * transaction on, so this transaction is judged by the owners it replaces.
 */
export async function writeWork(tx: Tx, work: WorkRecord): Promise<void> {
  const { ctx } = tx;
  const key = workKey(ctx, work.workId);
  const previous = await findWork(ctx, work.workId);
  if (previous === undefined) {
    await writeRecord(ctx, ctx.stub.createCompositeKey(keys.hash, [work.contentHash]), { workId: work.workId });
  }
  const before = previous?.owners ?? [];
  for (const gone of before.filter((old) => !work.owners.some((now) => samePerson(now.party, old.party)))) {
    await ctx.stub.deleteState(ownerKey(ctx, gone.party, work.workId));
  }
  for (const added of work.owners.filter((now) => !before.some((old) => samePerson(old.party, now.party)))) {
    await writeRecord(ctx, ownerKey(ctx, added.party, work.workId), { workId: work.workId });
  }
  await writeRecord(ctx, key, work);
  const organisations = ownerOrganisations(work);
  if (previous === undefined || ownerOrganisations(previous).join() !== organisations.join()) {
    await requireEndorsementByEvery(ctx, key, organisations);
  }
}

/** The work registered with this content hash, if any: the first registrant's. */
export async function findWorkByHash(ctx: Context, contentHash: string): Promise<WorkRecord | undefined> {
  const ref = await readRecord(ctx, workRefSchema, ctx.stub.createCompositeKey(keys.hash, [contentHash]));
  return ref === undefined ? undefined : findWork(ctx, ref.workId);
}

/**
 * One page of the works the person owns a share of now, in work id order, and the
 * bookmark of the next.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export async function readWorksByOwnerPage(ctx: Context, owner: Party, page: PageRequest): Promise<Page<WorkRecord>> {
  const refs = await readPageByPartialKey(ctx, workRefSchema, keys.owner, [owner.mspId, owner.userId], page);
  const items: WorkRecord[] = [];
  for (const { value } of refs.records) {
    const work = await findWork(ctx, value.workId);
    if (work !== undefined) items.push(work);
  }
  return { items, bookmark: refs.bookmark };
}

function changeKey(ctx: Context, workId: string, changeId: string): string {
  return ctx.stub.createCompositeKey(keys.change, [workId, changeId]);
}

export function findOwnershipChange(
  ctx: Context,
  workId: string,
  changeId: string,
): Promise<OwnershipChangeRecord | undefined> {
  return readRecord(ctx, ownershipChangeRecordSchema, changeKey(ctx, workId, changeId));
}

/** @throws RefusalError NOT_FOUND when the work has no change with the id. */
export async function readOwnershipChange(tx: Tx, workId: string, changeId: string): Promise<OwnershipChangeRecord> {
  const change = await findOwnershipChange(tx.ctx, workId, changeId);
  if (change === undefined) refuseChangeAsMissing(workId, changeId);
  return change;
}

/**
 * Refuses exactly as for a change id naming no change of the work.
 *
 * @throws RefusalError NOT_FOUND, always.
 */
export function refuseChangeAsMissing(workId: string, changeId: string): never {
  refuse('NOT_FOUND', `work ${workId} has no ownership change ${changeId}`, 'changeId');
}

/**
 * One page of a work's ownership changes, in change id order, and the bookmark of the next.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export function readOwnershipChangesPage(
  ctx: Context,
  workId: string,
  page: PageRequest,
): Promise<Page<OwnershipChangeRecord>> {
  return readValuePage(ctx, ownershipChangeRecordSchema, keys.change, [workId], page);
}

export async function writeOwnershipChange(tx: Tx, change: OwnershipChangeRecord): Promise<void> {
  await writeRecord(tx.ctx, changeKey(tx.ctx, change.workId, change.changeId), change);
}
