import type { Context } from 'fabric-contract-api';
import {
  arbitratorRecordSchema,
  genesisRecordSchema,
  memberRecordSchema,
  proposalRecordSchema,
  voteRecordSchema,
  type ArbitratorRecord,
  type GenesisState,
  type MemberRecord,
  type ProposalRecord,
  type VoteRecord,
} from '../../model/governance';
import type { Party } from '../../model/party';
import { readByPartialKey, readRecord, readValuePage, writeRecord } from '../../ledger/state';
import type { Page, PageRequest } from '../../model/page';
import { recordObjectTypes } from '../../model/record-keys';

// One key per member, arbitrator, proposal and (proposal, organisation) vote: no key
// is written by every vote or every proposal, so concurrent votes never conflict.
const keys = {
  genesis: 'governanceGenesis',
  member: 'governanceMember',
  arbitrator: 'arbitrator',
  proposal: recordObjectTypes.proposal,
  vote: 'proposalVote',
} as const;

export async function readGenesis(ctx: Context): Promise<GenesisState> {
  const seal = await readRecord(ctx, genesisRecordSchema, ctx.stub.createCompositeKey(keys.genesis, []));
  return seal === undefined ? { sealed: false } : { sealed: true, seal };
}

export async function writeGenesisSeal(ctx: Context, seal: NonNullable<GenesisState['seal']>): Promise<void> {
  await writeRecord(ctx, ctx.stub.createCompositeKey(keys.genesis, []), seal);
}

export function readMember(ctx: Context, mspId: string): Promise<MemberRecord | undefined> {
  return readRecord(ctx, memberRecordSchema, ctx.stub.createCompositeKey(keys.member, [mspId]));
}

export async function readMembers(ctx: Context): Promise<MemberRecord[]> {
  return (await readByPartialKey(ctx, memberRecordSchema, keys.member, [])).map((entry) => entry.value);
}

export async function writeMember(ctx: Context, member: MemberRecord): Promise<void> {
  await writeRecord(ctx, ctx.stub.createCompositeKey(keys.member, [member.mspId]), member);
}

export function readArbitrator(ctx: Context, arbitrator: Party): Promise<ArbitratorRecord | undefined> {
  return readRecord(
    ctx,
    arbitratorRecordSchema,
    ctx.stub.createCompositeKey(keys.arbitrator, [arbitrator.mspId, arbitrator.userId]),
  );
}

/** Every arbitrator ever added, active or removed, in key order (MSP id, then user id). */
export async function readArbitrators(ctx: Context): Promise<ArbitratorRecord[]> {
  return (await readByPartialKey(ctx, arbitratorRecordSchema, keys.arbitrator, [])).map((entry) => entry.value);
}

export async function writeArbitrator(ctx: Context, record: ArbitratorRecord): Promise<void> {
  await writeRecord(
    ctx,
    ctx.stub.createCompositeKey(keys.arbitrator, [record.arbitrator.mspId, record.arbitrator.userId]),
    record,
  );
}

export function readProposal(ctx: Context, proposalId: string): Promise<ProposalRecord | undefined> {
  return readRecord(ctx, proposalRecordSchema, ctx.stub.createCompositeKey(keys.proposal, [proposalId]));
}

/**
 * One page of the proposals, in proposal id order, and the bookmark of the next.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export function readProposalsPage(ctx: Context, page: PageRequest): Promise<Page<ProposalRecord>> {
  return readValuePage(ctx, proposalRecordSchema, keys.proposal, [], page);
}

export async function writeProposal(ctx: Context, proposal: ProposalRecord): Promise<void> {
  await writeRecord(ctx, ctx.stub.createCompositeKey(keys.proposal, [proposal.proposalId]), proposal);
}

export async function readVotes(ctx: Context, proposalId: string): Promise<VoteRecord[]> {
  return (await readByPartialKey(ctx, voteRecordSchema, keys.vote, [proposalId])).map((entry) => entry.value);
}

export function readVote(ctx: Context, proposalId: string, mspId: string): Promise<VoteRecord | undefined> {
  return readRecord(ctx, voteRecordSchema, ctx.stub.createCompositeKey(keys.vote, [proposalId, mspId]));
}

export async function writeVote(ctx: Context, vote: VoteRecord): Promise<void> {
  await writeRecord(ctx, ctx.stub.createCompositeKey(keys.vote, [vote.proposalId, vote.mspId]), vote);
}
