import { useQuery, type UseQueryState } from 'urql';
import type { AgreementTermsViewQuery } from '../gql/graphql.js';
import { graphql } from '../gql/index.js';
import { formatMoney } from '../format.js';
import { Problem } from '../session/problem.js';
import { Instant } from '../record-labels.js';

const agreementTerms = graphql(`
  query AgreementTermsView($id: ID!) {
    agreementTerms(agreementId: $id) {
      termsSha256
      status
      terms {
        scope
        rates {
          description
          amount
          currency
          per
        }
        personalData
        additionalTerms
      }
      erasedAt
    }
  }
`);

type HeldTerms = UseQueryState<AgreementTermsViewQuery>;

/**
 * The confidential terms as the party's own peer holds them (the two parties alone may
 * read them; not asked for anyone else), with the hash of the document as held, which
 * an acceptance sends so that the freelancer accepts what they read.
 */
export function useHeldTerms(agreementId: string, party: boolean): HeldTerms {
  const [state] = useQuery({ query: agreementTerms, variables: { id: agreementId }, pause: !party });
  return state;
}

/** The terms a party reads before answering an offer: scope, rates, personal data, additional terms. */
export function TermsView({ state }: { state: HeldTerms }) {
  const { data, error } = state;
  const held = data?.agreementTerms ?? undefined;
  return (
    <section aria-labelledby="terms-heading" className="card">
      <h2 id="terms-heading">Terms</h2>
      <Problem error={error} />
      {held === undefined ? null : held.terms == null ? (
        <p>
          Erased under GDPR Art. 17{held.erasedAt == null ? '' : ' on '}
          {held.erasedAt == null ? null : <Instant at={held.erasedAt} />}; the ledger keeps their hash.
        </p>
      ) : (
        <>
          <p className="prose" data-testid="terms-scope">
            {held.terms.scope}
          </p>
          {held.terms.rates == null || held.terms.rates.length === 0 ? null : (
            <ul aria-label="Rates">
              {held.terms.rates.map((rate, index) => (
                <li key={String(index)}>
                  {rate.description}: {formatMoney(rate.amount, rate.currency)} per {rate.per}
                </li>
              ))}
            </ul>
          )}
          {held.terms.personalData == null ? null : (
            <dl className="facts" aria-label="Personal data the parties exchange">
              {Object.entries(held.terms.personalData as Record<string, string>).map(([label, value]) => (
                <div key={label}>
                  <dt>{label}</dt>
                  <dd>{value}</dd>
                </div>
              ))}
            </dl>
          )}
          {held.terms.additionalTerms == null ? null : <p className="prose">{held.terms.additionalTerms}</p>}
        </>
      )}
    </section>
  );
}
