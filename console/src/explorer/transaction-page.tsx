import { useQuery } from 'urql';
import { Link } from 'wouter';
import { ProofDownload } from '../audit/proof-download.js';
import { formatInstant } from '../format.js';
import { QueryAnswer } from '../query-answer.js';
import { useSession } from '../session/session.js';
import { transactionById } from './explorer-queries.js';
import { ValidationMark } from './validation-mark.js';

/**
 * One transaction: who created it, what it called, whether the peers found it valid, the
 * keys it read and wrote (never their values; private keys only as hashes) and its proof
 * bundle to download and check offline with `npm run verify-proof`.
 */
export function TransactionPage({ transactionId }: { transactionId: string }) {
  const { session } = useSession();
  const [state] = useQuery({ query: transactionById, variables: { transactionId } });
  const tx = state.data?.indexedTransaction;
  return (
    <section>
      <p>
        <Link href="/explorer">Block explorer</Link>
        {tx === undefined ? null : (
          <>
            {' › '}
            <Link href={`/explorer/blocks/${tx.blockNumber}`}>Block {tx.blockNumber}</Link>
          </>
        )}
      </p>
      <h1>
        Transaction <span className="hash">{transactionId}</span>
      </h1>
      <QueryAnswer state={state} select={(answer) => answer.indexedTransaction}>
        {(tx) => (
          <>
            <dl className="facts">
              <div>
                <dt>Block</dt>
                <dd data-testid="transaction-block">{tx.blockNumber}</dd>
              </div>
              <div>
                <dt>Position</dt>
                <dd>{tx.position}</dd>
              </div>
              <div>
                <dt>Creator MSP</dt>
                <dd data-testid="transaction-creator">{tx.creatorMspId}</dd>
              </div>
              <div>
                <dt>Validation</dt>
                <dd>
                  <ValidationMark name={tx.validationName} /> (code {tx.validationCode})
                </dd>
              </div>
              <div>
                <dt>Chaincode function</dt>
                <dd data-testid="transaction-function">
                  {tx.chaincode ?? ''} {tx.function ?? tx.headerType}
                </dd>
              </div>
              <div>
                <dt>When</dt>
                <dd>
                  {tx.timestamp == null ? '' : <time dateTime={tx.timestamp}>{formatInstant(tx.timestamp)}</time>}
                </dd>
              </div>
              <div>
                <dt>Proof</dt>
                <dd>{session === undefined ? null : <ProofDownload session={session} txId={tx.transactionId} />}</dd>
              </div>
            </dl>
            <table>
              <caption>Keys read and written ({tx.keys.length})</caption>
              <thead>
                <tr>
                  <th scope="col">Access</th>
                  <th scope="col">Namespace</th>
                  <th scope="col">Collection</th>
                  <th scope="col">Key</th>
                </tr>
              </thead>
              <tbody>
                {tx.keys.map((key, index) => (
                  <tr key={`${String(index)}-${key.access}`}>
                    <td>{key.access}</td>
                    <td>{key.namespace}</td>
                    <td>{key.collection ?? ''}</td>
                    <td className="hash" data-testid="transaction-key">
                      {key.keyParts != null && key.keyParts.length > 0
                        ? key.keyParts.join(' / ')
                        : (key.key ?? `hash ${key.keyHash ?? ''}`)}
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
