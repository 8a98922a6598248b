import { useCallback, useEffect, useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { useRefetchOnReturn } from '../refetch-on-return.js';
import { Link } from 'wouter';
import { graphql } from '../gql/index.js';
import type { VoteChoice } from '../gql/graphql.js';
import { QueryAnswer } from '../query-answer.js';
import { Problem } from '../session/problem.js';
import { useSession, type Person } from '../session/session.js';
import { LabelledInput } from '../text-input.js';
import { RecordTable } from '../record-table.js';
import { Fact, Instant, RecordLink, TitledId, PartyName } from '../record-labels.js';
import { LedgerPageNav, listPageSize, useLedgerPages } from '../ledger-pages.js';
import { actionInWords } from './action-words.js';

const proposalList = graphql(`
  query ProposalList($first: Int, $after: String) {
    proposalPage(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      items {
        proposalId
        title
        phase
        votingEndsAt
        tally {
          members
          yes
          no
          abstain
        }
      }
    }
  }
`);

const proposalPage = graphql(`
  query ProposalPage($proposalId: ID!) {
    proposal(proposalId: $proposalId) {
      proposalId
      title
      text
      actions
      proposer {
        mspId
        userId
      }
      proposedAt
      votingEndsAt
      executableAt
      expiresAt
      electorate
      quorumBps
      passThresholdBps
      phase
      asOf
      tally {
        members
        yes
        no
        abstain
        quorum
        quorumReached
        passed
      }
      votes {
        mspId
        choice
        voter {
          userId
        }
        reason
        at
        txId
      }
      veto {
        by {
          mspId
          userId
        }
        reason
        at
      }
      execution {
        by {
          mspId
          userId
        }
        at
        txId
      }
    }
  }
`);

const governanceActivity = graphql(`
  subscription GovernanceActivity {
    governanceEvents {
      name
      proposalId
      transactionId
    }
  }
`);

const voteOnProposal = graphql(`
  mutation VoteOnProposal($proposalId: ID!, $choice: VoteChoice!, $reason: String) {
    voteOnProposal(proposalId: $proposalId, choice: $choice, reason: $reason) {
      transactionId
    }
  }
`);

const executeProposal = graphql(`
  mutation ExecuteProposal($proposalId: ID!) {
    executeProposal(proposalId: $proposalId) {
      transactionId
    }
  }
`);

/** Basis points as a percentage, e.g. 5000 → 50 %. */
function percent(bps: number): string {
  return `${String(bps / 100)} %`;
}

/**
 * Whether `person` may vote on a proposal now, after the governance contract's rule:
 * a governor of an organisation in the proposal's electorate, while voting is open,
 * once per organisation. The chaincode checks the same and has the last word.
 */
export function mayVote(
  person: Person,
  proposal: { phase: string; electorate: readonly string[]; votes: readonly { mspId: string }[] },
): boolean {
  return (
    person.role === 'governor' &&
    proposal.phase === 'voting' &&
    proposal.electorate.includes(person.mspId) &&
    !proposal.votes.some((vote) => vote.mspId === person.mspId)
  );
}

/** Every proposal with its phase and tally, a page at a time, in the ledger's order (by proposal id). */
export function ProposalsPage() {
  const pages = useLedgerPages('');
  const [state, reexecute] = useQuery({ query: proposalList, variables: { first: listPageSize, after: pages.after } });
  useRefetchOnReturn(reexecute);
  return (
    <section>
      <h1>Governance proposals</h1>
      <QueryAnswer state={state} select={(answer) => answer.proposalPage}>
        {({ items: proposals, pageInfo }) =>
          proposals.length === 0 && !pageInfo.hasNextPage && pages.pageNumber === 1 ? (
            <p>No proposal has been made.</p>
          ) : (
            <>
              <RecordTable
                caption="Proposals to change the consortium's rules"
                columns={['Proposal', 'Phase', 'Yes / no / abstain of members', 'Voting ends']}
                rows={proposals}
                empty={pageInfo.hasNextPage ? 'None on this page; the next page may hold some.' : 'None on this page.'}
                rowKey={(proposal) => proposal.proposalId}
              >
                {(proposal) => (
                  <>
                    <td>
                      <RecordLink section="/governance" id={proposal.proposalId} title={proposal.title} />
                    </td>
                    <td>{proposal.phase}</td>
                    <td>
                      {proposal.tally.yes} / {proposal.tally.no} / {proposal.tally.abstain} of {proposal.tally.members}
                    </td>
                    <td>
                      <Instant at={proposal.votingEndsAt} />
                    </td>
                  </>
                )}
              </RecordTable>
              <LedgerPageNav label="Pages of proposals" pages={pages} pageInfo={pageInfo} />
            </>
          )
        }
      </QueryAnswer>
    </section>
  );
}

/** setTimeout's longest delay (2^31 − 1 ms, about 24.8 days); a longer one fires at once. */
const maxTimerMs = 2_147_483_647;

/** The first of `boundaries` (ISO instants) after the instant the ledger judged the phase at. */
function nextBoundaryAfter(judged: string | undefined, boundaries: readonly string[]): number | undefined {
  if (judged === undefined) return undefined;
  const after = Date.parse(judged);
  return boundaries
    .map((boundary) => Date.parse(boundary))
    .filter((at) => at > after)
    .sort((a, b) => a - b)[0];
}

/**
 * One proposal: its text and actions, tally, votes, veto and execution. A governor of
 * an organisation that has not voted yet gets the vote buttons; anyone signed in may
 * execute it once executable. Committed governance events reload the page as they arrive,
 * and so does the start of the proposal's next phase (voting closing, the timelock ending,
 * expiry), which no event announces.
 */
export function ProposalPage({ proposalId }: { proposalId: string }) {
  const { session } = useSession();
  const [{ data, error, fetching }, refetch] = useQuery({ query: proposalPage, variables: { proposalId } });
  const reload = useCallback(() => {
    refetch({ requestPolicy: 'network-only' });
  }, [refetch]);
  const [{ data: event }] = useSubscription({ query: governanceActivity });
  useEffect(() => {
    if (event?.governanceEvents.proposalId === proposalId) reload();
  }, [event, proposalId, reload]);
  const shown = data?.proposal;
  const judged = shown?.asOf;
  const nextPhaseAt = nextBoundaryAfter(judged, shown ? [shown.votingEndsAt, shown.executableAt, shown.expiresAt] : []);
  useEffect(() => {
    if (nextPhaseAt === undefined) return;
    // A second past the boundary, so that the ledger's own clock has passed it too; read
    // before it, the next boundary is the same one and the page asks again a second later.
    const timer = setTimeout(reload, Math.min(Math.max(nextPhaseAt - Date.now(), 0) + 1000, maxTimerMs));
    return () => {
      clearTimeout(timer);
    };
  }, [nextPhaseAt, judged, reload]);
  const [voting, vote] = useMutation(voteOnProposal);
  const [executing, execute] = useMutation(executeProposal);
  const [reason, setReason] = useState('');
  const [commandError, setCommandError] = useState<unknown>(undefined);

  const proposal = data?.proposal ?? undefined;
  if (session === undefined) return null;
  if (proposal === undefined) {
    return (
      <section>
        <h1>Proposal {proposalId}</h1>
        <Problem error={error} />
        {fetching ? <p aria-live="polite">Loading…</p> : null}
        <p>
          <Link href="/governance">All proposals</Link>
        </p>
      </section>
    );
  }
  const cast = async (choice: VoteChoice) => {
    setCommandError(undefined);
    const answer = await vote({ proposalId, choice, ...(reason.trim() === '' ? {} : { reason: reason.trim() }) });
    if (answer.error !== undefined) setCommandError(answer.error);
    else reload();
  };
  const run = async () => {
    setCommandError(undefined);
    const answer = await execute({ proposalId });
    if (answer.error !== undefined) setCommandError(answer.error);
    else reload();
  };
  const { tally } = proposal;
  return (
    <section>
      <p>
        <Link href="/governance">All proposals</Link>
      </p>
      <h1>
        <TitledId title={proposal.title} id={proposal.proposalId} />
      </h1>
      <p>
        Phase: <strong data-testid="proposal-phase">{proposal.phase}</strong>{' '}
        <span className="hint">
          (judged at <Instant at={proposal.asOf} />)
        </span>
      </p>
      <p>{proposal.text}</p>
      <dl className="facts">
        <Fact term="Proposed by">
          <PartyName party={proposal.proposer} />, <Instant at={proposal.proposedAt} />
        </Fact>
        <Fact term="Voting ends">
          <Instant at={proposal.votingEndsAt} />
        </Fact>
        <Fact term="Executable from">
          <Instant at={proposal.executableAt} /> until <Instant at={proposal.expiresAt} />
        </Fact>
        <Fact term="Electorate">{proposal.electorate.join(', ')}</Fact>
        <Fact term="Quorum and threshold">
          {percent(proposal.quorumBps)} of members must vote; yes must be more than {percent(proposal.passThresholdBps)}{' '}
          of yes and no votes (abstentions count for the quorum only)
        </Fact>
      </dl>
      <h2>Actions</h2>
      <ol>
        {(proposal.actions as Record<string, unknown>[]).map((action, index) => (
          <li key={index} data-testid="proposal-action">
            {actionInWords(action)}
          </li>
        ))}
      </ol>
      {/* The exact actions the execution applies, for whoever checks them against the ledger. */}
      <details>
        <summary>The actions as recorded (JSON)</summary>
        <pre className="document">{JSON.stringify(proposal.actions, null, 2)}</pre>
      </details>
      <h2>Tally</h2>
      <p data-testid="proposal-tally">
        {tally.yes} yes, {tally.no} no, {tally.abstain} abstain of {tally.members} members; quorum {tally.quorum}{' '}
        {tally.quorumReached ? 'reached' : 'not reached'};{' '}
        {tally.passed
          ? proposal.phase === 'voting'
            ? 'passing'
            : 'passed'
          : proposal.phase === 'voting'
            ? 'not passing'
            : 'not passed'}
      </p>
      <RecordTable
        caption="Votes, one per organisation"
        columns={['Organisation', 'Choice', 'By', 'Reason', 'When']}
        rows={proposal.votes}
        rowKey={(entry) => entry.mspId}
        rowTestId="proposal-vote"
        empty="No vote yet."
      >
        {(entry) => (
          <>
            <td>{entry.mspId}</td>
            <td>{entry.choice}</td>
            <td>{entry.voter.userId ?? ''}</td>
            <td>{entry.reason ?? ''}</td>
            <td>
              <Instant at={entry.at} />
            </td>
          </>
        )}
      </RecordTable>
      {proposal.veto == null ? null : (
        <p>
          Vetoed by <PartyName party={proposal.veto.by} />: {proposal.veto.reason}, <Instant at={proposal.veto.at} />
        </p>
      )}
      {proposal.execution == null ? null : (
        <p>
          Executed by <PartyName party={proposal.execution.by} />, <Instant at={proposal.execution.at} />, in
          transaction <span className="hash">{proposal.execution.txId}</span>
        </p>
      )}
      {mayVote(session.person, proposal) ? (
        <fieldset>
          <legend>Vote for {session.person.mspId}</legend>
          <LabelledInput label="Reason (optional)" value={reason} onValue={setReason} />
          <div className="actions">
            {(['yes', 'no', 'abstain'] as const).map((choice) => (
              <button key={choice} type="submit" disabled={voting.fetching} onClick={() => void cast(choice)}>
                Vote {choice}
              </button>
            ))}
          </div>
        </fieldset>
      ) : null}
      {proposal.phase === 'executable' ? (
        <div className="actions">
          <button type="submit" disabled={executing.fetching} onClick={() => void run()}>
            Execute proposal
          </button>
        </div>
      ) : null}
      <Problem error={commandError} />
    </section>
  );
}
