import { useQuery } from 'urql';
import { Link } from 'wouter';
import { ProofDownload } from '../audit/proof-download.js';
import { QueryAnswer } from '../query-answer.js';
import { useSession } from '../session/session.js';
import { transactionById } from './explorer-queries.js';
import { ValidationMark } from './validation-mark.js';
import { RecordTable } from '../record-table.js';
import { Fact, Instant } from '../record-labels.js';

/**
 * One transaction: who created it, what it called, whether the peers found it valid, the
 * keys it read and wrote (never their values; private keys only as hashes) and its proof
 * bundle to download and check offline with `npm run verify-proof`.
 */
export function TransactionPage({ transactionId }: { transactionId: string }) {
  const { session } = useSession();
  const [state] = useQuery({ query: transactionById, variables: { transactionId } });
  const tx = state.data?.indexedTransaction ?? undefined;
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
              <Fact term="Block" data-testid="transaction-block">
                {tx.blockNumber}
              </Fact>
              <Fact term="Position">{tx.position}</Fact>
              <Fact term="Creator MSP" data-testid="transaction-creator">
                {tx.creatorMspId}
              </Fact>
              <Fact term="Validation">
                <ValidationMark name={tx.validationName} /> (code {tx.validationCode})
              </Fact>
              <Fact term="Chaincode function" data-testid="transaction-function">
                {tx.chaincode ?? ''} {tx.function ?? tx.headerType}
              </Fact>
              <Fact term="When">{tx.timestamp == null ? '' : <Instant at={tx.timestamp} />}</Fact>
              <Fact term="Proof">
                {session === undefined ? null : <ProofDownload session={session} txId={tx.transactionId} />}
              </Fact>
            </dl>
            <RecordTable
              caption={<>Keys read and written ({tx.keys.length})</>}
              columns={['Access', 'Namespace', 'Collection', 'Key']}
              rows={tx.keys}
              rowKey={(key, index) => `${String(index)}-${key.access}`}
            >
              {(key) => (
                <>
                  <td>{key.access}</td>
                  <td>{key.namespace}</td>
                  <td>{key.collection ?? ''}</td>
                  <td className="hash" data-testid="transaction-key">
                    {key.keyParts != null && key.keyParts.length > 0
                      ? key.keyParts.join(' / ')
                      : (key.key ?? `hash ${key.keyHash ?? ''}`)}
                  </td>
                </>
              )}
            </RecordTable>
          </>
        )}
      </QueryAnswer>
    </section>
  );
}
