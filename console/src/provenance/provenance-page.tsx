import { useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { useLocation } from 'wouter';
import { IdLookupForm } from '../id-lookup-form.js';
import { graphql } from '../gql/index.js';
import { answeredWhole, QueryAnswer } from '../query-answer.js';
import { LineageDiagram, recordPath } from './lineage-diagram.js';
import { mergeLineage } from './lineage-layout.js';
import { Fact, Instant, TitledId, PartyName } from '../record-labels.js';

/** The records and edges of one direction of lineage, as the diagram draws them. */
export const lineageParts = graphql(`
  fragment LineageParts on LineageGraph {
    nodes {
      recordId
      kind
      title
    }
    edges {
      from
      to
      relation
    }
    truncated
  }
`);

const provenanceRecord = graphql(`
  query ProvenanceRecordPage($id: ID!, $depth: Int) {
    provenanceRecord(recordId: $id) {
      kind
      recordId
      title
      contentSha256
      licence
      controller {
        mspId
        userId
      }
      registeredAt
      txId
      source
      legalBasis
      piiClass
    }
    ancestors: lineage(recordId: $id, direction: "ancestors", depth: $depth) {
      ...LineageParts
    }
    descendants: lineage(recordId: $id, direction: "descendants", depth: $depth) {
      ...LineageParts
    }
  }
`);

/** What the personal data class of a record says, in words (the chaincode's `piiClasses`). */
const piiWords: Readonly<Record<string, string>> = {
  none: 'no personal data',
  pseudonymised: 'pseudonymised personal data',
  personal: 'personal data',
  specialCategory: 'special category personal data (GDPR Art. 9)',
};

/** A licence as the record keeps it: an SPDX expression or free text. */
function licenceText(licence: unknown): string {
  const value = licence as { kind?: string; expression?: string; text?: string } | null;
  return value?.expression ?? value?.text ?? JSON.stringify(licence);
}

/** Lineage depth the page asks for each way: the API allows 1 to 10. */
const depths = [1, 2, 3, 5, 10] as const;

/**
 * One dataset or model record and its lineage drawn as a picture: ancestors and
 * descendants up to the chosen depth, each record a link to its own page.
 */
export function ProvenanceRecordPage({ recordId }: { recordId: string }) {
  const [depth, setDepth] = useState<number>(3);
  const [state] = useQuery({ query: provenanceRecord, variables: { id: recordId, depth } });
  const data = answeredWhole(state.data);
  const graph = useMemo(
    () => (data === undefined ? undefined : mergeLineage([data.ancestors, data.descendants])),
    [data],
  );
  return (
    <section>
      <h1>
        <TitledId title={state.data?.provenanceRecord?.title ?? 'Provenance record'} id={recordId} />
      </h1>
      <QueryAnswer state={state} select={(answer) => answer.provenanceRecord}>
        {(record) => (
          <dl className="facts">
            <Fact term="Kind">{record.kind}</Fact>
            <Fact term="Controller">
              <PartyName party={record.controller} />
            </Fact>
            <Fact term="Licence">{licenceText(record.licence)}</Fact>
            {record.source == null ? null : <Fact term="Source">{record.source}</Fact>}
            {record.legalBasis == null ? null : (
              <Fact term="Legal basis">
                {record.legalBasis}
                {record.piiClass == null ? '' : ` (${piiWords[record.piiClass] ?? `${record.piiClass} data`})`}
              </Fact>
            )}
            <Fact term="Content SHA-256" className="hash">
              {record.contentSha256}
            </Fact>
            <Fact term="Registered">
              <Instant at={record.registeredAt} /> in transaction <span className="hash">{record.txId}</span>
            </Fact>
          </dl>
        )}
      </QueryAnswer>
      {graph === undefined || data === undefined ? null : (
        <>
          <h2>Lineage</h2>
          <label className="short">
            Generations each way
            <select
              value={depth}
              onChange={(event) => {
                setDepth(Number(event.target.value));
              }}
            >
              {depths.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
          </label>
          <LineageDiagram root={recordId} nodes={graph.nodes} edges={graph.edges} />
          {data.ancestors.truncated || data.descendants.truncated ? (
            <p className="hint">The lineage goes further than {depth} generations: choose more to see it.</p>
          ) : null}
        </>
      )}
    </section>
  );
}

/** Opens a record by its id: the way into lineage for anyone holding an id from elsewhere. */
export function ProvenancePage() {
  const [, navigate] = useLocation();
  return (
    <section>
      <h1>Provenance</h1>
      <p>A dataset or model record, with its lineage drawn: what it was derived from, and what was made from it.</p>
      <IdLookupForm
        label="Record id"
        name="recordId"
        action="Show lineage"
        onLookup={(recordId) => {
          navigate(recordPath(recordId));
        }}
      />
    </section>
  );
}
