import { useQuery } from 'urql';
import { Link } from 'wouter';
import { QueryAnswer } from '../query-answer.js';
import { blockByNumber } from './explorer-queries.js';
import { ValidationMark } from './validation-mark.js';
import { RecordTable } from '../record-table.js';
import { Fact, Instant } from '../record-labels.js';
import { countOf } from '../format.js';

/** One block: its hashes and its transactions in block order, invalid ones marked. */
export function BlockPage({ blockNumber }: { blockNumber: string }) {
  const number = /^\d+$/.test(blockNumber) ? Number(blockNumber) : Number.NaN;
  const [state] = useQuery({
    query: blockByNumber,
    variables: { blockNumber: number },
    pause: !Number.isSafeInteger(number),
  });
  return (
    <section>
      <p>
        <Link href="/explorer">Block explorer</Link>
      </p>
      <h1>Block {blockNumber}</h1>
      {Number.isSafeInteger(number) ? null : (
        <p role="alert" className="problem">
          A block number is a whole number.
        </p>
      )}
      <QueryAnswer
        state={state}
        select={(answer) => answer.indexedBlocks?.edges[0]?.node}
        empty={<p>The index holds no block {blockNumber} yet.</p>}
      >
        {(block) => (
          <>
            <dl className="facts">
              <Fact term="Hash" className="hash">
                {block.hash}
              </Fact>
              <Fact term="Previous hash" className="hash">
                {block.previousHash}
              </Fact>
              <Fact term="Data hash" className="hash">
                {block.dataHash}
              </Fact>
            </dl>
            <RecordTable
              caption={<>{countOf(block.transactionCount, 'transaction')}, in block order</>}
              columns={['#', 'Transaction', 'Creator', 'Function', 'Validation', 'When']}
              rows={block.transactions}
              rowKey={(tx) => `${tx.position}-${tx.transactionId}`}
            >
              {(tx) => (
                <>
                  <td>{tx.position}</td>
                  <td className="hash">
                    {tx.transactionId === '' ? (
                      tx.headerType
                    ) : (
                      <Link href={`/explorer/transactions/${tx.transactionId}`}>{tx.transactionId}</Link>
                    )}
                  </td>
                  <td>{tx.creatorMspId}</td>
                  <td>{tx.function ?? tx.headerType}</td>
                  <td>
                    <ValidationMark name={tx.validationName} />
                  </td>
                  <td>{tx.timestamp == null ? '' : <Instant at={tx.timestamp} />}</td>
                </>
              )}
            </RecordTable>
          </>
        )}
      </QueryAnswer>
    </section>
  );
}
