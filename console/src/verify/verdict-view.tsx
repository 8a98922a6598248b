import { formatInstant } from '../format.js';
import { RecordTable } from '../record-table.js';

/** A verdict as every verifier route answers it, reduced to what a reader needs. */
export interface ShownVerdict {
  readonly valid: boolean;
  readonly what: string;
  readonly checkedAt?: string;
  readonly reasons: readonly { readonly code: string; readonly message: string }[];
  readonly facts: readonly (readonly [string, string])[];
  readonly claims: readonly { readonly name: string; readonly value: string; readonly verified: boolean }[];
}

/** The verdict first, in words, then why and what was proven. */
export function VerdictView({ verdict }: { verdict: ShownVerdict }) {
  return (
    <section className={verdict.valid ? 'verdict valid' : 'verdict invalid'} aria-labelledby="verdict-heading">
      <div role="status">
        <h2 id="verdict-heading" data-testid="verdict">
          {verdict.valid ? `Valid ${verdict.what}` : `Not valid: ${verdict.what}`}
        </h2>
      </div>
      {verdict.checkedAt === undefined ? null : <p>Checked on the ledger at {formatInstant(verdict.checkedAt)}.</p>}
      {verdict.reasons.length > 0 ? (
        <>
          <h3>Reasons</h3>
          <ul data-testid="verdict-reasons">
            {verdict.reasons.map((reason, index) => (
              <li key={`${reason.code}-${String(index)}`}>
                <code>{reason.code}</code>: {reason.message}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {verdict.facts.length > 0 ? (
        <dl className="facts">
          {verdict.facts.map(([term, value]) => (
            <div key={term}>
              <dt>{term}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      ) : null}
      {verdict.claims.length > 0 ? (
        <RecordTable
          caption="Disclosed claims"
          columns={['Claim', 'Value', 'Matches the ledger']}
          rows={verdict.claims}
          rowKey={(claim) => claim.name}
          rowTestId="disclosed-claim"
        >
          {(claim) => (
            <>
              <td>{claim.name}</td>
              <td>{claim.value}</td>
              <td>{claim.verified ? 'yes' : 'no'}</td>
            </>
          )}
        </RecordTable>
      ) : null}
    </section>
  );
}
