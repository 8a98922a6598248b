import { useState } from 'react';
import { useQuery } from 'urql';
import { useLocation } from 'wouter';
import { graphql } from '../gql/index.js';
import { FilterForm, FilterSelect } from '../filter-form.js';
import { IdLookupForm } from '../id-lookup-form.js';
import { answeredWhole, QueryAnswer } from '../query-answer.js';
import { Instant, RecordLink } from '../record-labels.js';
import { RecordTable } from '../record-table.js';
import { useRefetchOnReturn } from '../refetch-on-return.js';
import { useSession } from '../session/session.js';
import { formatMoney } from '../format.js';
import { LedgerPageNav, listPageSize, useLedgerPages } from '../ledger-pages.js';
import { panelVotes, panelVotesInWords } from './panel-votes.js';

const myDisputes = graphql(`
  query MyPanelDisputes($decided: Boolean, $first: Int, $after: String) {
    # Whether each panel member is still governed, which decides whether their vote counts.
    governedArbitrators {
      arbitrator {
        userId
        mspId
      }
      status
    }
    panelDisputePage(decided: $decided, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      items {
        agreement {
          agreementId
          title
        }
        milestone {
          milestoneId
          title
          amount
          currency
          status
          dispute {
            openedBy
            openedAt
            panel {
              userId
              mspId
            }
            votes {
              arbitrator {
                userId
                mspId
              }
              clientShare
              freelancerShare
            }
            decision {
              clientShare
              freelancerShare
            }
          }
        }
      }
    }
  }
`);

type Stage = 'open' | 'decided' | 'any';

/**
 * The disputes whose panel the signed-in arbitrator was drawn to sit on (a panel is drawn
 * from the governed arbitrators when a party opens a dispute), the open ones first by
 * default: where each stands, and the arbitrator's own vote. The agreement's page shows the
 * delivery, the reasons and, while the dispute is undecided, the vote form.
 */
export function DisputesPage() {
  const [, navigate] = useLocation();
  const { session } = useSession();
  const [stage, setStage] = useState<Stage>('open');
  const pages = useLedgerPages(stage);
  const [state, reexecute] = useQuery({
    query: myDisputes,
    variables: { decided: stage === 'any' ? null : stage === 'decided', first: listPageSize, after: pages.after },
    // Votes come in while the arbitrator is elsewhere: show what is cached, then the ledger's answer.
    requestPolicy: 'cache-and-network',
  });
  useRefetchOnReturn(reexecute);
  const me = session?.person;
  return (
    <section>
      <h1>Disputes</h1>
      <p>
        The disputes you were drawn to decide. Open the agreement to read the delivery, the reasons and the votes so
        far, and to cast your vote on how the escrow is split. A vote counts while its arbitrator is governed, and a
        majority of the panel members still governed decides: the vote of one removed by governance stays on the record
        and decides nothing.
      </p>
      <FilterForm label="Filter disputes">
        <FilterSelect
          label="Disputes"
          value={stage}
          options={[
            ['open', 'awaiting a decision'],
            ['decided', 'decided'],
            ['any', 'all'],
          ]}
          onChange={setStage}
        />
      </FilterForm>
      <QueryAnswer state={state} select={(answer) => answeredWhole(answer)}>
        {({ panelDisputePage: { items: disputes, pageInfo }, governedArbitrators }) => (
          <>
            <RecordTable
              caption="Disputes whose panel you sit on"
              hiddenCaption
              columns={['Agreement', 'Milestone', 'Amount', 'Opened', 'Votes', 'Your vote', 'Outcome']}
              rows={disputes}
              empty={
                pageInfo.hasNextPage
                  ? 'None on this page; the next page may hold some.'
                  : stage === 'decided'
                    ? 'No dispute you sat on is decided yet.'
                    : 'No dispute awaits you.'
              }
              rowKey={({ agreement, milestone }) => `${agreement.agreementId}/${milestone.milestoneId}`}
              rowTestId="panel-dispute"
            >
              {({ agreement, milestone }) => {
                const dispute = milestone.dispute;
                const mine = dispute?.votes.find(
                  (vote) => vote.arbitrator.userId === me?.userId && vote.arbitrator.mspId === me.mspId,
                );
                const split = (shares: { clientShare: string; freelancerShare: string }) =>
                  `client ${formatMoney(shares.clientShare, milestone.currency)}, freelancer ${formatMoney(shares.freelancerShare, milestone.currency)}`;
                return (
                  <>
                    <td>
                      <RecordLink section="/agreements" id={agreement.agreementId} title={agreement.title} />
                    </td>
                    <td>
                      {milestone.title} ({milestone.milestoneId})
                    </td>
                    <td>{formatMoney(milestone.amount, milestone.currency)}</td>
                    <td>
                      {dispute ? (
                        <>
                          <Instant at={dispute.openedAt} /> by the {dispute.openedBy}
                        </>
                      ) : null}
                    </td>
                    <td>{dispute ? panelVotesInWords(panelVotes(dispute, governedArbitrators)) : null}</td>
                    <td>{mine ? split(mine) : 'not yet'}</td>
                    <td>{dispute?.decision ? `decided: ${split(dispute.decision)}` : 'awaiting a majority'}</td>
                  </>
                );
              }}
            </RecordTable>
            <LedgerPageNav label="Pages of disputes" pages={pages} pageInfo={pageInfo} />
          </>
        )}
      </QueryAnswer>
      <h2>Open an agreement by its id</h2>
      <p>
        For a dispute opened before the ledger kept this list (an earlier chaincode version), which it does not hold.
      </p>
      <IdLookupForm
        label="Agreement id"
        name="agreementId"
        action="Open agreement"
        onLookup={(agreementId) => {
          navigate(`/agreements/${encodeURIComponent(agreementId)}`);
        }}
      />
    </section>
  );
}
