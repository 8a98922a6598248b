import { useState } from 'react';
import { useQuery } from 'urql';
import { IdLookupForm } from '../id-lookup-form.js';
import { formatInstant } from '../format.js';
import { graphql } from '../gql/index.js';
import { Problem } from '../session/problem.js';
import { useSession } from '../session/session.js';
import { ProofDownload } from './proof-download.js';

const agreementHistory = graphql(`
  query AgreementHistory($id: ID!) {
    agreement(id: $id) {
      agreementId
      title
      status
      history {
        txId
        at
        isDelete
        status
      }
      milestones {
        milestoneId
        title
      }
    }
  }
`);

const milestoneHistory = graphql(`
  query MilestoneHistory($agreementId: ID!, $milestoneId: ID!) {
    milestoneHistory(agreementId: $agreementId, milestoneId: $milestoneId) {
      txId
      at
      isDelete
      milestone {
        status
        updatedTxId
      }
    }
  }
`);

function MilestoneVersions({
  agreementId,
  milestoneId,
  title,
}: {
  agreementId: string;
  milestoneId: string;
  title: string;
}) {
  const { session } = useSession();
  const [{ data, error }] = useQuery({ query: milestoneHistory, variables: { agreementId, milestoneId } });
  return (
    <>
      <Problem error={error} />
      {data === undefined ? null : (
        <table>
          <caption>
            Milestone {title} ({milestoneId}), newest first
          </caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Status</th>
              <th scope="col">Transaction</th>
              <th scope="col">Proof</th>
            </tr>
          </thead>
          <tbody>
            {data.milestoneHistory.map((entry) => (
              <tr key={entry.txId}>
                <td>
                  <time dateTime={entry.at}>{formatInstant(entry.at)}</time>
                </td>
                <td>{entry.isDelete ? 'deleted' : (entry.milestone?.status ?? '')}</td>
                <td className="hash">{entry.txId}</td>
                <td>{session === undefined ? null : <ProofDownload session={session} txId={entry.txId} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/**
 * A record's history as the ledger keeps it: every version of an agreement and of each
 * of its milestones, with the transaction that wrote it. Auditors read any agreement;
 * others only their own.
 */
export function HistoryPage() {
  const { session } = useSession();
  const [agreementId, setAgreementId] = useState<string | undefined>(undefined);
  const [{ data, error, fetching }] = useQuery({
    query: agreementHistory,
    variables: { id: agreementId ?? '' },
    pause: agreementId === undefined,
  });
  const agreement = data?.agreement;
  return (
    <section>
      <h1>Record history</h1>
      <IdLookupForm label="Agreement id" name="agreementId" action="Show history" onLookup={setAgreementId} />
      <Problem error={error} />
      {fetching ? <p aria-live="polite">Loading…</p> : null}
      {agreement == null ? null : (
        <>
          <h2>
            {agreement.title} <span className="id">({agreement.agreementId})</span>
          </h2>
          <table>
            <caption>Agreement record, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Status</th>
                <th scope="col">Transaction</th>
                <th scope="col">Proof</th>
              </tr>
            </thead>
            <tbody>
              {agreement.history.map((entry) => (
                <tr key={entry.txId}>
                  <td>
                    <time dateTime={entry.at}>{formatInstant(entry.at)}</time>
                  </td>
                  <td>{entry.isDelete ? 'deleted' : (entry.status ?? '')}</td>
                  <td className="hash">{entry.txId}</td>
                  <td>{session === undefined ? null : <ProofDownload session={session} txId={entry.txId} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {agreement.milestones.map((milestone) => (
            <MilestoneVersions
              key={milestone.milestoneId}
              agreementId={agreement.agreementId}
              milestoneId={milestone.milestoneId}
              title={milestone.title}
            />
          ))}
        </>
      )}
    </section>
  );
}
