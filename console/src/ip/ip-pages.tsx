import { useState, type SyntheticEvent } from 'react';
import { useQuery } from 'urql';
import { useRefetchOnReturn } from '../refetch-on-return.js';
import { Link, useLocation } from 'wouter';
import { IdLookupForm } from '../id-lookup-form.js';
import { countOf, formatMoney } from '../format.js';
import { graphql } from '../gql/index.js';
import type { RoyaltyPeriodViewQuery, WorkLicencesPageQuery } from '../gql/graphql.js';
import { QueryAnswer } from '../query-answer.js';
import { useSession } from '../session/session.js';
import { LabelledInput } from '../text-input.js';
import { RecordTable } from '../record-table.js';
import { Fact, Instant, RecordLink, TitledId, PartyName } from '../record-labels.js';
import { LedgerPageNav, listPageSize, useLedgerPages } from '../ledger-pages.js';

const worksOfMine = graphql(`
  query WorksOfMine($owner: PartyInput!, $first: Int, $after: String) {
    workPage(owner: $owner, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      items {
        workId
        title
        kind
        registeredAt
      }
    }
  }
`);

const workPage = graphql(`
  query WorkPage($workId: ID!) {
    work(workId: $workId) {
      workId
      kind
      title
      uri
      contentHash
      creators {
        mspId
        userId
      }
      owners {
        party {
          mspId
          userId
        }
        shareBps
      }
      registrant {
        mspId
        userId
      }
      registeredAt
      registrationTxId
      ownershipVersion
    }
  }
`);

/** Asked apart from the work: a reader of works who may not read licences (role hr) still sees the work. */
const workLicencesPage = graphql(`
  query WorkLicencesPage($workId: String!) {
    workLicences(workId: $workId) {
      offers {
        offerId
        licensee {
          mspId
          userId
        }
        scope
        fieldsOfUse
        territories
        exclusive
        termStart
        termEnd
        royaltyBps
        perUnitAmount
        fee {
          amount
        }
        currency
        status
      }
      grants {
        grantId
        offerId
        licensee {
          mspId
          userId
        }
        scope
        fieldsOfUse
        territories
        exclusive
        termStart
        expiresAt
        royaltyBps
        perUnitAmount
        currency
        status
        fee {
          amount
          status
          payouts {
            instructionId
            payee {
              mspId
              userId
            }
            shareBps
            amount
            status
            reissuedAs
          }
        }
      }
    }
  }
`);

const royaltyPeriod = graphql(`
  query RoyaltyPeriodView($grantId: ID!, $periodId: String!) {
    royaltyPeriod(grantId: $grantId, periodId: $periodId) {
      periodId
      report {
        units
        revenue
        currency
        royalty
        at
      }
      closed {
        royalty
        currency
        status
        shares {
          party {
            mspId
            userId
          }
          shareBps
          amount
        }
        instructions {
          instructionId
          kind
          payer {
            mspId
            userId
          }
          payee {
            mspId
            userId
          }
          shareBps
          amount
          currency
          status
          confirmation
          reissuedAs
          reissueOf
        }
      }
    }
  }
`);

type Grant = NonNullable<WorkLicencesPageQuery['workLicences']>['grants'][number];

/** Basis points as a percentage, e.g. 1250 → 12.5 %. */
function percent(bps: number): string {
  return `${String(bps / 100)} %`;
}

/** What a licence charges, in words: royalty share, per-unit amount and one-off fee. */
function charges(licence: {
  royaltyBps?: number | null;
  perUnitAmount?: string | null;
  fee?: { amount: string } | null;
  currency: string;
}): string {
  const parts: string[] = [];
  if (licence.royaltyBps != null && licence.royaltyBps > 0) parts.push(`${percent(licence.royaltyBps)} of revenue`);
  if (licence.perUnitAmount != null) parts.push(`${formatMoney(licence.perUnitAmount, licence.currency)} per unit`);
  if (licence.fee != null) parts.push(`${formatMoney(licence.fee.amount, licence.currency)} once`);
  return parts.length === 0 ? 'nothing' : parts.join(' + ');
}

/** The current calendar month in UTC, `YYYY-MM`, as royalty periods are named. */
function thisMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

/** A month of a grant's royalties: the licensee's report, what it owes, and each owner's payout once closed. */
function RoyaltyMonth({ grant }: { grant: Grant }) {
  const [draft, setDraft] = useState(thisMonth);
  const [periodId, setPeriodId] = useState<string | undefined>(undefined);
  const [state] = useQuery({
    query: royaltyPeriod,
    variables: { grantId: grant.grantId, periodId: periodId ?? '' },
    pause: periodId === undefined,
  });
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    setPeriodId(draft);
  };
  return (
    <>
      <form className="filters" onSubmit={submit} aria-label={`Royalties of ${grant.grantId}`}>
        <LabelledInput
          label="Month (YYYY-MM)"
          labelClassName="short"
          value={draft}
          pattern="\d{4}-\d{2}"
          required
          onValue={setDraft}
        />
        <button type="submit">Show royalties</button>
      </form>
      <QueryAnswer state={state} select={(answer) => answer.royaltyPeriod} loadingOnEveryFetch>
        {(period) => (
          <div data-testid={`royalty-${grant.grantId}-${period.periodId}`}>
            {period.report == null ? (
              <p>No usage reported for {period.periodId}.</p>
            ) : (
              <p>
                {period.periodId}: {countOf(period.report.units, 'unit')} and{' '}
                {formatMoney(period.report.revenue, period.report.currency)} revenue reported; royalty owed{' '}
                <strong>{formatMoney(period.report.royalty, period.report.currency)}</strong>
              </p>
            )}
            {period.closed == null ? (
              <p className="hint">The month is not closed yet, so nothing has been paid for it.</p>
            ) : (
              <ClosedMonth periodId={period.periodId} closed={period.closed} />
            )}
          </div>
        )}
      </QueryAnswer>
    </>
  );
}

type ClosedPeriod = NonNullable<NonNullable<RoyaltyPeriodViewQuery['royaltyPeriod']>['closed']>;

/**
 * A closed month: the collection of its royalty from the licensee, then one payout per
 * owner; before the collection is confirmed, each owner's part waits for it.
 */
function ClosedMonth({ periodId, closed }: { periodId: string; closed: ClosedPeriod }) {
  const collections = closed.instructions.filter((instruction) => instruction.kind === 'collection');
  const collection = collections[collections.length - 1];
  const payouts = closed.instructions.flatMap(({ payee, ...instruction }) =>
    payee == null ? [] : [{ ...instruction, payee }],
  );
  const owed =
    payouts.length > 0
      ? payouts
      : (closed.shares ?? []).map((share, index) => ({
          instructionId: `share-${String(index + 1)}`,
          payee: share.party,
          shareBps: share.shareBps,
          amount: share.amount,
          currency: closed.currency,
          status: 'awaiting collection',
        }));
  return (
    <>
      {collection === undefined ? null : (
        <p data-testid="royalty-collection">
          Collection of {formatMoney(collection.amount, collection.currency)} from {collection.payer.userId} (
          {collection.payer.mspId}): {collection.status}
        </p>
      )}
      <PayoutTable caption={`Payouts of ${periodId} (${closed.status})`} payouts={owed} />
    </>
  );
}

/** One payout instruction per owner: payee, share, amount in the currency's own decimals, status. */
function PayoutTable({
  caption,
  payouts,
  rowTestId,
}: {
  caption: string;
  payouts: readonly Payout[];
  rowTestId?: string;
}) {
  return (
    <RecordTable
      caption={caption}
      columns={['Payee', 'Share', 'Amount', 'Status']}
      rows={payouts}
      rowKey={(payout) => payout.instructionId}
      rowTestId={rowTestId}
    >
      {(payout) => (
        <>
          <td>
            <PartyName party={payout.payee} />
          </td>
          <td>{percent(payout.shareBps)}</td>
          <td>{formatMoney(payout.amount, payout.currency)}</td>
          <td>{payoutStatus(payout)}</td>
        </>
      )}
    </RecordTable>
  );
}

interface Payout {
  readonly instructionId: string;
  readonly payee: { userId: string; mspId: string };
  readonly shareBps: number;
  readonly amount: string;
  readonly currency: string;
  readonly status: string;
  readonly confirmation?: unknown;
  readonly reissuedAs?: string | null;
  readonly reissueOf?: string | null;
}

/**
 * A payout's status in words: a failure with the provider's reason and the payout that
 * replaced it, a replacement with the one it replaces, so that an owner paid again after
 * a failure reads as one payment tried twice, not as a second share.
 */
function payoutStatus(payout: Payout): string {
  const reason = (payout.confirmation as { reason?: unknown } | null | undefined)?.reason;
  const parts = [payout.status];
  if (payout.status === 'failed' && typeof reason === 'string') parts[0] = `failed — ${reason}`;
  if (payout.reissuedAs != null) parts.push(`issued again as ${payout.reissuedAs}`);
  if (payout.reissueOf != null) parts.push(`in place of ${payout.reissueOf}`);
  return parts.join('; ');
}

/** A licence granted on the work: its terms, its one-off fee split between the owners, and its royalties by month. */
function GrantCard({ grant }: { grant: Grant }) {
  return (
    <article className="card" aria-labelledby={`grant-${grant.grantId}`}>
      <h3 id={`grant-${grant.grantId}`}>
        Licence {grant.grantId} to <PartyName party={grant.licensee} /> — {grant.status}
      </h3>
      <dl className="facts">
        <Fact term="Use">
          {grant.scope}, {grant.exclusive ? 'exclusive' : 'non-exclusive'}, for {grant.fieldsOfUse.join(', ')} in{' '}
          {grant.territories.join(', ')}
        </Fact>
        <Fact term="Term">
          <Instant at={grant.termStart} /> to <Instant at={grant.expiresAt} />
        </Fact>
        <Fact term="Charges" data-testid={`charges-${grant.grantId}`}>
          {charges(grant)}
        </Fact>
      </dl>
      {grant.fee?.payouts == null ? null : (
        <PayoutTable
          caption={`Licence fee of ${formatMoney(grant.fee.amount, grant.currency)}, split between the owners (${grant.fee.status ?? 'settling'})`}
          payouts={grant.fee.payouts.map((payout) => ({ ...payout, currency: grant.currency }))}
          rowTestId="fee-payout"
        />
      )}
      <RoyaltyMonth grant={grant} />
    </article>
  );
}

/**
 * One registered work: its owners and their shares, the licences offered and granted on
 * it with their charges, the fee's split between owners and each month's royalties.
 * Money is shown in its currency's minor-unit digits (ISO 4217).
 */
export function WorkPage({ workId }: { workId: string }) {
  const [state] = useQuery({ query: workPage, variables: { workId } });
  const [licencesState] = useQuery({ query: workLicencesPage, variables: { workId } });
  return (
    <section>
      <p>
        <Link href="/ip">IP records</Link>
      </p>
      <h1>
        <TitledId title={state.data?.work?.title ?? 'Work'} id={workId} />
      </h1>
      <QueryAnswer state={state} select={(answer) => answer.work}>
        {(work) => (
          <>
            <dl className="facts">
              <Fact term="Kind">{work.kind}</Fact>
              <Fact term="Where">{work.uri}</Fact>
              <Fact term="Content SHA-256" className="hash">
                {work.contentHash}
              </Fact>
              <Fact term="Creators">
                {work.creators.map((creator) => `${creator.userId} (${creator.mspId})`).join(', ')}
              </Fact>
              <Fact term="Priority date">
                <Instant at={work.registeredAt} />, registered by {work.registrant.userId ?? ''} (
                {work.registrant.mspId}) in transaction <span className="hash">{work.registrationTxId}</span>
              </Fact>
            </dl>
            <RecordTable
              caption={<>Owners (ownership version {work.ownershipVersion})</>}
              columns={['Owner', 'Share']}
              rows={work.owners}
              rowKey={(owner) => `${owner.party.mspId}/${owner.party.userId}`}
              rowTestId="work-owner"
            >
              {(owner) => (
                <>
                  <td>
                    <PartyName party={owner.party} />
                  </td>
                  <td>{percent(owner.shareBps)}</td>
                </>
              )}
            </RecordTable>
          </>
        )}
      </QueryAnswer>
      <QueryAnswer state={licencesState} select={(answer) => answer.workLicences}>
        {(licences) => (
          <>
            <h2>Licence offers</h2>
            {licences.offers.length === 0 ? (
              <p>No licence has been offered.</p>
            ) : (
              <RecordTable
                caption="Offers on this work"
                columns={['Offer', 'To', 'Use', 'Charges', 'Status']}
                rows={licences.offers}
                rowKey={(offer) => offer.offerId}
                rowTestId={(offer) => `offer-${offer.offerId}`}
              >
                {(offer) => (
                  <>
                    <td>{offer.offerId}</td>
                    <td>{offer.licensee == null ? 'anyone' : `${offer.licensee.userId} (${offer.licensee.mspId})`}</td>
                    <td>
                      {offer.scope}, {offer.exclusive ? 'exclusive' : 'non-exclusive'}, {offer.territories.join(', ')}
                    </td>
                    <td>{charges(offer)}</td>
                    <td>{offer.status}</td>
                  </>
                )}
              </RecordTable>
            )}
            <h2>Licences granted</h2>
            {licences.grants.length === 0 ? <p>No licence has been granted.</p> : null}
            {licences.grants.map((grant) => (
              <GrantCard key={grant.grantId} grant={grant} />
            ))}
          </>
        )}
      </QueryAnswer>
    </section>
  );
}

/** The works the signed-in person owns, a page at a time, and a way to open any work by its id. */
export function WorksPage() {
  const { session } = useSession();
  const [, navigate] = useLocation();
  const owner = { mspId: session?.person.mspId ?? '', userId: session?.person.userId ?? '' };
  const pages = useLedgerPages(`${owner.mspId}/${owner.userId}`);
  const [state, reexecute] = useQuery({
    query: worksOfMine,
    variables: { owner, first: listPageSize, after: pages.after },
    pause: session === undefined,
  });
  useRefetchOnReturn(reexecute);
  return (
    <section>
      <h1>IP records</h1>
      <IdLookupForm
        label="Work id"
        name="workId"
        action="Open work"
        onLookup={(workId) => {
          navigate(`/ip/${encodeURIComponent(workId)}`);
        }}
      />
      <QueryAnswer state={state} select={(answer) => answer.workPage}>
        {({ items: works, pageInfo }) =>
          works.length === 0 && !pageInfo.hasNextPage && pages.pageNumber === 1 ? (
            <p>You own no registered work.</p>
          ) : (
            <>
              <RecordTable
                caption="Works you own"
                columns={['Work', 'Kind', 'Priority date']}
                rows={works}
                empty={pageInfo.hasNextPage ? 'None on this page; the next page may hold some.' : 'None on this page.'}
                rowKey={(work) => work.workId}
              >
                {(work) => (
                  <>
                    <td>
                      <RecordLink section="/ip" id={work.workId} title={work.title} />
                    </td>
                    <td>{work.kind}</td>
                    <td>
                      <Instant at={work.registeredAt} />
                    </td>
                  </>
                )}
              </RecordTable>
              <LedgerPageNav label="Pages of works" pages={pages} pageInfo={pageInfo} />
            </>
          )
        }
      </QueryAnswer>
    </section>
  );
}
