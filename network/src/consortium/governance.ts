import { randomBytes } from 'node:crypto';
import type { GovernanceAction, Party, ProposalView } from '@gigledger/chaincode/model';
import type { LedgerSession } from '@gigledger/gateway';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the clock passes `instant`, plus a margin: the chaincode judges windows by
 * the transaction timestamp, which the submitting client sets from its own clock.
 */
async function waitUntil(instant: string): Promise<void> {
  const wait = Date.parse(instant) - Date.now() + 1000;
  if (wait > 0) await sleep(wait);
}

/**
 * Changes the consortium's rules the way its members do: the first governor proposes
 * `actions` with the shortest voting window and timelock the consortium allows, every
 * governor votes yes, and once the timelock has run out the proposal is executed.
 * `governors` are sessions of role `governor`, one per member organisation that should
 * vote (enough for the quorum).
 *
 * @returns the executed proposal.
 * @throws RefusedError when a governor may not propose or vote, or an action does not apply.
 */
export async function enactByVote(
  governors: readonly LedgerSession[],
  actions: readonly GovernanceAction[],
  title = 'Consortium change',
): Promise<ProposalView> {
  const [proposer] = governors;
  if (proposer === undefined) throw new Error('a proposal needs at least one governor');
  const votingSeconds = (await proposer.parameters.getParameter({ name: 'governanceMinVotingSeconds' })).value;
  const timelockSeconds = (await proposer.parameters.getParameter({ name: 'governanceMinTimelockSeconds' })).value;
  const proposalId = `P-${randomBytes(6).toString('hex')}`;
  const proposed = await proposer.governance.propose({
    proposalId,
    title,
    text: `${title}: ${actions.map((action) => action.type).join(', ')}.`,
    actions: [...actions],
    votingSeconds: Number(votingSeconds),
    timelockSeconds: Number(timelockSeconds),
  });
  for (const governor of governors) await governor.governance.vote({ proposalId, choice: 'yes' });
  await waitUntil(proposed.result.proposal.executableAt);
  return (await proposer.governance.execute({ proposalId })).result;
}

/**
 * The actions that make `wanted` exactly the active governed arbitrators: remove every
 * other active one, add those missing.
 */
export function arbitratorRosterActions(
  records: readonly { arbitrator: Party; status: string }[],
  wanted: readonly Party[],
): GovernanceAction[] {
  const key = (party: Party) => `${party.mspId}/${party.userId}`;
  const wantedKeys = new Set(wanted.map(key));
  const active = records.filter((record) => record.status === 'active');
  const present = new Set(active.map((record) => key(record.arbitrator)));
  return [
    ...active
      .filter((record) => !wantedKeys.has(key(record.arbitrator)))
      .map((record) => ({
        type: 'removeArbitrator' as const,
        arbitrator: record.arbitrator,
        reason: 'Replaced on the panel roster',
      })),
    ...wanted
      .filter((party) => !present.has(key(party)))
      .map((party) => ({ type: 'addArbitrator' as const, arbitrator: party, displayName: party.userId })),
  ];
}

/** Makes `arbitrators` exactly the governed arbitrators dispute panels are drawn from, by one vote. */
export async function governArbitrators(
  governors: readonly LedgerSession[],
  arbitrators: readonly Party[],
): Promise<void> {
  const [reader] = governors;
  if (reader === undefined) throw new Error('governing arbitrators needs at least one governor');
  const actions = arbitratorRosterActions(await reader.governance.listArbitrators(), arbitrators);
  if (actions.length > 0) await enactByVote(governors, actions, 'Arbitrator roster');
}
