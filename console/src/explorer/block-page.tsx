import { useQuery } from 'urql';
import { Link } from 'wouter';
import { formatInstant } from '../format.js';
import { QueryAnswer } from '../query-answer.js';
import { blockByNumber } from './explorer-queries.js';
import { ValidationMark } from './validation-mark.js';

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
        select={(answer) => answer.indexedBlocks.edges[0]?.node}
        empty={<p>The index holds no block {blockNumber} yet.</p>}
      >
        {(block) => (
          <>
            <dl className="facts">
              <div>
                <dt>Hash</dt>
                <dd className="hash">{block.hash}</dd>
              </div>
              <div>
                <dt>Previous hash</dt>
                <dd className="hash">{block.previousHash}</dd>
              </div>
              <div>
                <dt>Data hash</dt>
                <dd className="hash">{block.dataHash}</dd>
              </div>
            </dl>
            <table>
              <caption>{block.transactionCount} transactions, in block order</caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Transaction</th>
                  <th scope="col">Creator</th>
                  <th scope="col">Function</th>
                  <th scope="col">Validation</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {block.transactions.map((tx) => (
                  <tr key={`${tx.position}-${tx.transactionId}`}>
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
                    <td>
                      {tx.timestamp == null ? '' : <time dateTime={tx.timestamp}>{formatInstant(tx.timestamp)}</time>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </QueryAnswer>
    </section>
  );
}
