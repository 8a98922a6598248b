import { useState, type SyntheticEvent } from 'react';
import { useQuery } from 'urql';
import { Link, useLocation } from 'wouter';
import { QueryAnswer } from '../query-answer.js';
import { Problem } from '../session/problem.js';
import { blockPage, ledgerHeights } from './explorer-queries.js';
import { LabelledInput } from '../text-input.js';
import { RecordTable } from '../record-table.js';
import { Fact } from '../record-labels.js';
import { countOf } from '../format.js';

/** Blocks per page; the index answers at most 100. */
const pageSize = 10;

/** A Fabric transaction id: the SHA-256 of nonce and creator, 64 lowercase hex digits. */
const transactionIdPattern = /^[0-9a-f]{64}$/;

/**
 * The block explorer's start (auditors; admins for their own organisation as the API
 * allows): the channel's height beside the index's, the blocks newest first a page at
 * a time, and a search by transaction id.
 */
export function ExplorerPage() {
  const [, navigate] = useLocation();
  // Cursors of the pages already passed, so that "Newer blocks" goes back without a backward cursor.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const [heights] = useQuery({ query: ledgerHeights });
  const heightsNow = heights.data?.ledgerHeights ?? undefined;
  const [blocks] = useQuery({ query: blockPage, variables: { first: pageSize, after } });
  const [search, setSearch] = useState('');
  const [searchError, setSearchError] = useState<string | undefined>(undefined);
  const find = (event: SyntheticEvent) => {
    event.preventDefault();
    const transactionId = search.trim().toLowerCase();
    if (!transactionIdPattern.test(transactionId)) {
      setSearchError('A transaction id is 64 hexadecimal digits.');
      return;
    }
    setSearchError(undefined);
    navigate(`/explorer/transactions/${transactionId}`);
  };
  return (
    <section>
      <h1>Block explorer</h1>
      <Problem error={heights.error} />
      {heightsNow === undefined ? null : (
        <dl className="facts" aria-label="Heights">
          <Fact term="Channel height" data-testid="channel-height">
            {heightsNow.channelHeight ?? 'peer not reachable'}
          </Fact>
          <Fact term="Indexed height" data-testid="indexed-height">
            {heightsNow.indexedHeight}
          </Fact>
        </dl>
      )}
      <form onSubmit={find} className="filters" aria-label="Find a transaction" noValidate>
        <LabelledInput
          label="Transaction id"
          name="transactionId"
          value={search}
          aria-invalid={searchError === undefined ? undefined : true}
          aria-describedby={searchError === undefined ? undefined : 'transaction-search-error'}
          onValue={setSearch}
        />
        <button type="submit">Find transaction</button>
        {searchError === undefined ? null : (
          <p role="alert" className="problem" id="transaction-search-error">
            {searchError}
          </p>
        )}
      </form>
      <QueryAnswer state={blocks} select={(answer) => answer.indexedBlocks}>
        {(connection) => (
          <>
            <RecordTable
              caption={
                <>
                  Blocks, newest first ({countOf(connection.totalCount, 'block')} you may read, page {cursors.length})
                </>
              }
              columns={['Block', 'Transactions', 'Invalid', 'Hash']}
              rows={connection.edges}
              rowKey={({ node }) => node.blockNumber}
            >
              {({ node }) => {
                const invalid = node.transactions.filter((tx) => tx.validationName !== 'VALID').length;
                return (
                  <>
                    <td>
                      <Link href={`/explorer/blocks/${node.blockNumber}`}>Block {node.blockNumber}</Link>
                    </td>
                    <td>{node.transactionCount}</td>
                    <td className={invalid > 0 ? 'validation invalid' : undefined}>{invalid}</td>
                    <td className="hash">{node.hash}</td>
                  </>
                );
              }}
            </RecordTable>
            <nav aria-label="Block pages" className="actions">
              <button
                type="button"
                disabled={cursors.length === 1}
                onClick={() => {
                  setCursors(cursors.slice(0, -1));
                }}
              >
                Newer blocks
              </button>
              <button
                type="button"
                disabled={!connection.pageInfo.hasNextPage || connection.pageInfo.endCursor == null}
                onClick={() => {
                  if (connection.pageInfo.endCursor != null) setCursors([...cursors, connection.pageInfo.endCursor]);
                }}
              >
                Older blocks
              </button>
            </nav>
          </>
        )}
      </QueryAnswer>
    </section>
  );
}
