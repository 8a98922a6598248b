import type {
  MemberRecord,
  ProposalPhase,
  ProposalRecord,
  ProposalView,
  ProposeRequest,
  Tally,
  VoteChoice,
  VoteRecord,
} from '../../model/governance';
import type { Role } from '../../model/identity';
import { describeCaller, requireRole, requireUserId } from '../../ledger/caller';
import { refuse, refuseIdTaken } from '../../ledger/refusal';
import { actorOf, addSeconds, reached, touched, type Tx } from '../../ledger/tx';
import { readParameter } from '../parameter/store';
import { applyActions, checkActions } from './actions';
import {
  readGenesis,
  readMember,
  readMembers,
  readProposal,
  readVotes,
  writeMember,
  writeProposal,
  writeVote,
} from './store';

/**
 * Tallies from one key per organisation's vote, counting the electorate fixed when the
 * proposal was made with the quorum and threshold of that moment: once voting closes
 * nothing that happens later can change the outcome.
 */
function tallyOf(proposal: ProposalRecord, votes: readonly VoteRecord[]): { tally: Tally; counted: VoteRecord[] } {
  const electorate = new Set(proposal.electorate);
  const counted = votes.filter((vote) => electorate.has(vote.mspId));
  const count = (choice: VoteChoice) => counted.filter((vote) => vote.choice === choice).length;
  const [yes, no, abstain] = [count('yes'), count('no'), count('abstain')];
  const quorum = Math.max(1, Math.ceil((electorate.size * proposal.quorumBps) / 10_000));
  const quorumReached = counted.length >= quorum;
  return {
    tally: {
      members: electorate.size,
      yes,
      no,
      abstain,
      quorum,
      quorumReached,
      passed: quorumReached && yes * 10_000 > proposal.passThresholdBps * (yes + no),
    },
    counted,
  };
}

function phaseOf(tx: Tx, proposal: ProposalRecord, tally: Tally): ProposalPhase {
  if (proposal.status === 'vetoed') return 'vetoed';
  if (proposal.status === 'executed') return 'executed';
  if (!reached(tx, proposal.votingEndsAt)) return 'voting';
  if (!tally.passed) return 'failed';
  if (!reached(tx, proposal.executableAt)) return 'timelocked';
  return reached(tx, proposal.expiresAt) ? 'expired' : 'executable';
}

/**
 * The proposal with its counted votes, tally and phase at this transaction's time.
 * `votes` replaces the stored votes when this transaction has just written one (a
 * transaction does not read its own writes).
 */
export async function viewProposal(
  tx: Tx,
  proposal: ProposalRecord,
  votes?: readonly VoteRecord[],
): Promise<ProposalView> {
  const { tally, counted } = tallyOf(proposal, votes ?? (await readVotes(tx.ctx, proposal.proposalId)));
  return { proposal, votes: counted, tally, phase: phaseOf(tx, proposal, tally), asOf: tx.at };
}

/** @throws RefusalError NOT_FOUND when no proposal has the id. */
export async function requireProposal(tx: Tx, proposalId: string): Promise<ProposalRecord> {
  const proposal = await readProposal(tx.ctx, proposalId);
  if (proposal === undefined) refuse('NOT_FOUND', `proposal ${proposalId} does not exist`, 'proposalId');
  return proposal;
}

/**
 * @throws RefusalError FORBIDDEN unless the caller holds role governor (or, where
 *   `roles` says so, another role) in a member organisation with the right asked for.
 */
async function requireMemberRight(
  tx: Tx,
  right: 'voting' | 'veto',
  roles: readonly Role[],
  action: string,
): Promise<void> {
  requireRole(tx.caller, roles, action);
  requireUserId(tx.caller, action);
  const member = await readMember(tx.ctx, tx.caller.mspId);
  if (member === undefined || !member[right]) {
    const what = right === 'voting' ? 'a voting right' : 'the veto right';
    refuse(
      'FORBIDDEN',
      `only a ${roles.join(' or ')} of a member organisation with ${what} may ${action}; ${tx.caller.mspId} has none (the caller is ${describeCaller(tx.caller)})`,
    );
  }
}

/**
 * A governor of a member organisation with a voting right proposes one or more
 * actions, with the voting window and timelock it asks for (at least the governed minimums).
 *
 * @throws RefusalError FORBIDDEN for anyone else; INVALID_STATE before genesis is
 *   sealed; ALREADY_EXISTS when the id is taken; VALIDATION_FAILED for a window shorter
 *   than the governed minimum or an action that cannot apply.
 */
export async function propose(tx: Tx, request: ProposeRequest): Promise<ProposalView> {
  await requireMemberRight(tx, 'voting', ['governor'], 'propose a change to the consortium rules');
  if (!(await readGenesis(tx.ctx)).sealed) {
    refuse(
      'INVALID_STATE',
      'governance starts once genesis is sealed; until then the bootstrap administrator sets the rules',
    );
  }
  if ((await readProposal(tx.ctx, request.proposalId)) !== undefined) {
    refuseIdTaken('proposal', request.proposalId, 'proposalId');
  }
  await checkActions(tx, request.actions);
  const minVoting = (await readParameter(tx.ctx, 'governanceMinVotingSeconds')).value;
  const minTimelock = (await readParameter(tx.ctx, 'governanceMinTimelockSeconds')).value;
  if (request.votingSeconds < minVoting) {
    refuse(
      'VALIDATION_FAILED',
      `votingSeconds: must be at least ${minVoting} (governanceMinVotingSeconds)`,
      'votingSeconds',
    );
  }
  if (request.timelockSeconds < minTimelock) {
    refuse(
      'VALIDATION_FAILED',
      `timelockSeconds: must be at least ${minTimelock} (governanceMinTimelockSeconds)`,
      'timelockSeconds',
    );
  }
  const votingEndsAt = addSeconds(tx.at, request.votingSeconds);
  const executableAt = addSeconds(votingEndsAt, request.timelockSeconds);
  const executionWindow = (await readParameter(tx.ctx, 'governanceExecutionWindowSeconds')).value;
  const electorate = (await readMembers(tx.ctx)).filter((member) => member.voting).map((member) => member.mspId);
  const proposal: ProposalRecord = {
    proposalId: request.proposalId,
    title: request.title,
    text: request.text,
    actions: request.actions,
    proposer: actorOf(tx.caller),
    proposedAt: tx.at,
    txId: tx.txId,
    votingEndsAt,
    timelockSeconds: request.timelockSeconds,
    executableAt,
    expiresAt: addSeconds(executableAt, executionWindow),
    electorate,
    quorumBps: (await readParameter(tx.ctx, 'governanceQuorumBps')).value,
    passThresholdBps: (await readParameter(tx.ctx, 'governancePassThresholdBps')).value,
    status: 'open',
    updatedAt: tx.at,
    updatedTxId: tx.txId,
  };
  await writeProposal(tx.ctx, proposal);
  return viewProposal(tx, proposal, []);
}

/**
 * Casts or changes an organisation's vote. One organisation, one vote: the governor
 * who cast it may change it until the window closes; another identity of the same
 * organisation may not vote again.
 *
 * @throws RefusalError FORBIDDEN unless a governor of an organisation in the proposal's electorate calls;
 *   NOT_FOUND for an unknown proposal; VOTING_CLOSED after the window;
 *   ALREADY_VOTED when the organisation voted through another identity.
 */
export async function vote(
  tx: Tx,
  request: { proposalId: string; choice: VoteChoice; reason?: string | undefined },
): Promise<{ view: ProposalView; vote: VoteRecord }> {
  requireRole(tx.caller, ['governor'], 'vote on proposals');
  requireUserId(tx.caller, 'vote on proposals');
  const proposal = await requireProposal(tx, request.proposalId);
  if (!proposal.electorate.includes(tx.caller.mspId)) {
    refuse(
      'FORBIDDEN',
      `only the organisations that had a voting right when proposal ${proposal.proposalId} was made (${proposal.electorate.join(', ')}) may vote on it; the caller is ${describeCaller(tx.caller)}`,
    );
  }
  if (proposal.status !== 'open' || reached(tx, proposal.votingEndsAt)) {
    refuse(
      'VOTING_CLOSED',
      `voting on proposal ${proposal.proposalId} closed at ${proposal.votingEndsAt}`,
      'proposalId',
    );
  }
  const votes = await readVotes(tx.ctx, proposal.proposalId);
  const earlier = votes.find((existing) => existing.mspId === tx.caller.mspId);
  if (earlier !== undefined && earlier.voter.userId !== tx.caller.userId) {
    refuse(
      'ALREADY_VOTED',
      `${tx.caller.mspId} already voted on proposal ${proposal.proposalId} through ${earlier.voter.userId ?? 'another identity'} at ${earlier.at}; an organisation has one vote, which only the governor who cast it may change`,
      'proposalId',
    );
  }
  const cast: VoteRecord = {
    proposalId: proposal.proposalId,
    mspId: tx.caller.mspId,
    choice: request.choice,
    voter: actorOf(tx.caller),
    ...(request.reason === undefined ? {} : { reason: request.reason }),
    at: tx.at,
    txId: tx.txId,
  };
  await writeVote(tx.ctx, cast);
  const view = await viewProposal(tx, proposal, [...votes.filter((existing) => existing !== earlier), cast]);
  return { view, vote: cast };
}

/**
 * An organisation holding the veto right stops a passed proposal during its timelock.
 *
 * @throws RefusalError FORBIDDEN unless a governor or auditor of a member with the veto
 *   right calls; INVALID_STATE unless the proposal passed and its timelock is running.
 */
export async function veto(tx: Tx, request: { proposalId: string; reason: string }): Promise<ProposalView> {
  await requireMemberRight(tx, 'veto', ['governor', 'auditor'], 'veto proposals');
  const proposal = await requireProposal(tx, request.proposalId);
  const view = await viewProposal(tx, proposal);
  if (view.phase !== 'timelocked') {
    refuse(
      'INVALID_STATE',
      `a veto is possible only while a passed proposal's timelock runs; proposal ${proposal.proposalId} is ${view.phase}`,
      'proposalId',
    );
  }
  const vetoed = touched(tx, {
    ...proposal,
    status: 'vetoed' as const,
    veto: { by: actorOf(tx.caller), reason: request.reason, at: tx.at, txId: tx.txId },
  });
  await writeProposal(tx.ctx, vetoed);
  return { ...view, proposal: vetoed, phase: 'vetoed' };
}

/**
 * A governor of an invited organisation takes up the rights a proposal offered it.
 *
 * @throws RefusalError FORBIDDEN unless a governor calls; NOT_FOUND when the caller's
 *   organisation has no invitation.
 */
export async function acceptMembership(tx: Tx): Promise<MemberRecord> {
  requireRole(tx.caller, ['governor'], 'accept membership of the consortium');
  requireUserId(tx.caller, 'accept membership of the consortium');
  const member = await readMember(tx.ctx, tx.caller.mspId);
  if (member?.invitation === undefined) {
    refuse('NOT_FOUND', `${tx.caller.mspId} has no invitation to accept`);
  }
  const { invitation, ...rest } = member;
  const accepted: MemberRecord = {
    ...rest,
    voting: invitation.voting,
    veto: invitation.veto,
    updatedAt: tx.at,
    updatedTxId: tx.txId,
  };
  await writeMember(tx.ctx, accepted);
  return accepted;
}

/** @throws RefusalError TIMELOCK_ACTIVE or PROPOSAL_NOT_EXECUTABLE, naming the reason, unless the phase is `executable`. */
function refuseUnlessExecutable(view: ProposalView): void {
  const { proposal, tally } = view;
  const id = proposal.proposalId;
  if (view.phase === 'voting') {
    refuse(
      'PROPOSAL_NOT_EXECUTABLE',
      `proposal ${id} is still being voted on until ${proposal.votingEndsAt}`,
      'proposalId',
    );
  }
  if (view.phase === 'failed') {
    const why = tally.quorumReached
      ? `${tally.yes} yes against ${tally.no} no did not pass`
      : `${tally.yes + tally.no + tally.abstain} of ${tally.members} members voted, short of the quorum of ${tally.quorum}`;
    refuse('PROPOSAL_NOT_EXECUTABLE', `proposal ${id} failed its vote: ${why}`, 'proposalId');
  }
  if (view.phase === 'timelocked') {
    refuse(
      'TIMELOCK_ACTIVE',
      `proposal ${id} passed but its timelock runs until ${proposal.executableAt}`,
      'proposalId',
    );
  }
  if (view.phase === 'vetoed' && proposal.veto !== undefined) {
    const { by, at, reason } = proposal.veto;
    refuse('PROPOSAL_NOT_EXECUTABLE', `proposal ${id} was vetoed by ${by.mspId} at ${at}: ${reason}`, 'proposalId');
  }
  if (view.phase === 'expired') {
    refuse(
      'PROPOSAL_NOT_EXECUTABLE',
      `proposal ${id} passed but expired unexecuted at ${proposal.expiresAt}`,
      'proposalId',
    );
  }
  if (view.phase === 'executed' && proposal.execution !== undefined) {
    refuse(
      'PROPOSAL_NOT_EXECUTABLE',
      `proposal ${id} was already executed in transaction ${proposal.execution.txId}`,
      'proposalId',
    );
  }
}

/**
 * Applies a passed proposal's actions once its timelock has run out. Anyone on the
 * channel may execute it, so no single party can hold a decision back.
 *
 * @throws RefusalError TIMELOCK_ACTIVE before `executableAt`; PROPOSAL_NOT_EXECUTABLE
 *   while voting, or when it failed, was vetoed or was executed; whatever an action
 *   refuses (then nothing is applied).
 */
export async function execute(tx: Tx, request: { proposalId: string }): Promise<ProposalView> {
  const proposal = await requireProposal(tx, request.proposalId);
  const view = await viewProposal(tx, proposal);
  const id = proposal.proposalId;
  refuseUnlessExecutable(view);
  await applyActions(tx, proposal.actions, {
    source: 'proposal',
    proposalId: id,
    executedBy: actorOf(tx.caller),
    at: tx.at,
    txId: tx.txId,
  });
  const executed = touched(tx, {
    ...proposal,
    status: 'executed' as const,
    execution: { by: actorOf(tx.caller), at: tx.at, txId: tx.txId, tally: view.tally },
  });
  await writeProposal(tx.ctx, executed);
  return { ...view, proposal: executed, phase: 'executed' };
}
