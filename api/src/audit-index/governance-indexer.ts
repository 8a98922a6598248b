import { proposalRecordSchema, voteRecordSchema } from '@gigledger/chaincode/model';
import { oneRow, written, type DomainIndexer } from './domain-indexer.js';

/**
 * Governance proposals and their votes, from the governance contract's keys (see
 * `contracts/governance/store.ts`): one key per proposal, one per (proposal,
 * organisation) vote, a new vote replacing the organisation's earlier one.
 */
export const governanceIndexer: DomainIndexer = {
  domain: 'governance',
  records: [
    [
      'proposal',
      oneRow(proposalRecordSchema, 'ix_proposals', ['proposal_id'], (proposal, write) => ({
        proposal_id: proposal.proposalId,
        title: proposal.title,
        status: proposal.status,
        proposer_msp: proposal.proposer.mspId,
        proposer_user: proposal.proposer.userId ?? null,
        action_types: [...new Set(proposal.actions.map((action) => action.type))].join(' '),
        proposed_at: proposal.proposedAt,
        voting_ends_at: proposal.votingEndsAt,
        executable_at: proposal.executableAt,
        expires_at: proposal.expiresAt,
        tx_id: proposal.txId,
        updated_at: proposal.updatedAt,
        updated_tx_id: proposal.updatedTxId,
        ...written(write, proposal),
      })),
    ],
    [
      'proposalVote',
      oneRow(voteRecordSchema, 'ix_proposal_votes', ['proposal_id', 'msp_id'], (vote, write) => ({
        proposal_id: vote.proposalId,
        msp_id: vote.mspId,
        choice: vote.choice,
        voter_user: vote.voter.userId ?? null,
        at: vote.at,
        tx_id: vote.txId,
        ...written(write, vote),
      })),
    ],
  ],
};
