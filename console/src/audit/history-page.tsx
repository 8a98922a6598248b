import { useState, type ReactNode } from 'react';
import { useQuery } from 'urql';
import { IdLookupForm } from '../id-lookup-form.js';
import { graphql } from '../gql/index.js';
import { QueryAnswer } from '../query-answer.js';
import { useSession } from '../session/session.js';
import { ProofDownload } from './proof-download.js';
import { RecordTable } from '../record-table.js';
import { Instant, TitledId } from '../record-labels.js';

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

/** Versions of one record, newest first: when, its status then (or "deleted"), the transaction and its proof. */
function VersionTable({
  caption,
  versions,
}: {
  caption: ReactNode;
  versions: readonly { txId: string; at: string; status: string }[];
}) {
  const { session } = useSession();
  return (
    <RecordTable
      caption={caption}
      columns={['When', 'Status', 'Transaction', 'Proof']}
      rows={versions}
      rowKey={(version) => version.txId}
    >
      {(version) => (
        <>
          <td>
            <Instant at={version.at} />
          </td>
          <td>{version.status}</td>
          <td className="hash">{version.txId}</td>
          <td>{session === undefined ? null : <ProofDownload session={session} txId={version.txId} />}</td>
        </>
      )}
    </RecordTable>
  );
}

function MilestoneVersions({
  agreementId,
  milestoneId,
  title,
}: {
  agreementId: string;
  milestoneId: string;
  title: string;
}) {
  const [state] = useQuery({ query: milestoneHistory, variables: { agreementId, milestoneId } });
  return (
    <QueryAnswer state={state} select={(answer) => answer.milestoneHistory}>
      {(entries) => (
        <VersionTable
          caption={`Milestone ${title} (${milestoneId}), newest first`}
          versions={entries.map((entry) => ({
            ...entry,
            status: entry.isDelete ? 'deleted' : (entry.milestone?.status ?? ''),
          }))}
        />
      )}
    </QueryAnswer>
  );
}

/**
 * A record's history as the ledger keeps it: every version of an agreement and of each
 * of its milestones, with the transaction that wrote it. Auditors read any agreement;
 * others only their own.
 */
export function HistoryPage() {
  const [agreementId, setAgreementId] = useState<string | undefined>(undefined);
  const [state] = useQuery({
    query: agreementHistory,
    variables: { id: agreementId ?? '' },
    pause: agreementId === undefined,
  });
  return (
    <section>
      <h1>Record history</h1>
      <IdLookupForm label="Agreement id" name="agreementId" action="Show history" onLookup={setAgreementId} />
      <QueryAnswer state={state} select={(answer) => answer.agreement} loadingOnEveryFetch>
        {(agreement) => (
          <>
            <h2>
              <TitledId title={agreement.title} id={agreement.agreementId} />
            </h2>
            <VersionTable
              caption="Agreement record, newest first"
              versions={agreement.history.map((entry) => ({
                ...entry,
                status: entry.isDelete ? 'deleted' : (entry.status ?? ''),
              }))}
            />
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
      </QueryAnswer>
    </section>
  );
}
