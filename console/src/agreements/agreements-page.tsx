import { useState } from 'react';
import { useQuery } from 'urql';
import { useRefetchOnReturn } from '../refetch-on-return.js';
import { graphql } from '../gql/index.js';
import type { PartyRole } from '../gql/graphql.js';
import { QueryAnswer } from '../query-answer.js';
import { RecordTable } from '../record-table.js';
import { RecordLink } from '../record-labels.js';
import { FilterForm, FilterSelect } from '../filter-form.js';
import { LedgerPageNav, listPageSize, useLedgerPages } from '../ledger-pages.js';
import { workState } from './agreement-fields.js';

const myAgreements = graphql(`
  query MyAgreements($role: PartyRole, $completed: Boolean, $first: Int, $after: String) {
    agreementPage(role: $role, completed: $completed, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      items {
        role
        agreement {
          agreementId
          title
          status
          completed
          updatedAt
          client {
            userId
            mspId
          }
          freelancer {
            userId
            mspId
          }
          milestones {
            milestoneId
            status
          }
        }
      }
    }
  }
`);

type Completion = 'any' | 'open' | 'completed';

/** The signed-in person's agreements, filtered by their part and by completion. */
export function AgreementsPage() {
  const [role, setRole] = useState<PartyRole | 'any'>('any');
  const [completion, setCompletion] = useState<Completion>('any');
  const pages = useLedgerPages(`${role}/${completion}`);
  const [state, reexecute] = useQuery({
    query: myAgreements,
    variables: {
      role: role === 'any' ? null : role,
      completed: completion === 'any' ? null : completion === 'completed',
      first: listPageSize,
      after: pages.after,
    },
    // Agreements move on while the person is on other pages: show what is cached at
    // once, then what the ledger says now.
    requestPolicy: 'cache-and-network',
  });
  useRefetchOnReturn(reexecute);
  return (
    <section>
      <h1>Agreements</h1>
      <FilterForm label="Filter agreements">
        <FilterSelect
          label="My part"
          value={role}
          options={[
            ['any', 'any'],
            ['client', 'client'],
            ['freelancer', 'freelancer'],
            ['evaluator', 'evaluator'],
          ]}
          onChange={setRole}
        />
        <FilterSelect
          label="Milestones"
          value={completion}
          options={[
            ['any', 'any'],
            ['open', 'some still open'],
            ['completed', 'all final'],
          ]}
          onChange={setCompletion}
        />
      </FilterForm>
      <QueryAnswer state={state} select={(answer) => answer.agreementPage}>
        {({ items: agreements, pageInfo }) => (
          <>
            <RecordTable
              caption="Your agreements"
              hiddenCaption
              columns={['Agreement', 'My part', 'Status', 'Work', 'Client', 'Freelancer', 'Milestones']}
              rows={agreements}
              empty={pageInfo.hasNextPage ? 'None on this page; the next page may hold some.' : 'No agreement matches.'}
              rowKey={({ agreement }) => agreement.agreementId}
            >
              {({ role: part, agreement }) => (
                <>
                  <td>
                    <RecordLink section="/agreements" id={agreement.agreementId} title={agreement.title} />
                  </td>
                  <td>{part}</td>
                  <td>{agreement.status}</td>
                  <td>{workState(agreement.completed)}</td>
                  <td>{agreement.client.userId}</td>
                  <td>{agreement.freelancer.userId}</td>
                  <td>
                    {agreement.milestones
                      .map((milestone) => `${milestone.milestoneId}: ${milestone.status}`)
                      .join(', ')}
                  </td>
                </>
              )}
            </RecordTable>
            <LedgerPageNav label="Pages of agreements" pages={pages} pageInfo={pageInfo} />
          </>
        )}
      </QueryAnswer>
    </section>
  );
}
