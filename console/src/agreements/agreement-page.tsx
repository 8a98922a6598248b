import { useCallback, useEffect, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { Link } from 'wouter';
import type { AgreementActivitySubscription } from '../gql/graphql.js';
import { formatDueDate, formatMoney } from '../format.js';
import { Problem } from '../session/problem.js';
import { useSession } from '../session/session.js';
import { AgreementActions, MilestoneActions } from './action-forms.js';
import { activityWords } from './activity.js';
import { thresholdWords } from './metric-words.js';
import { TermsView, useHeldTerms } from './terms-view.js';
import { agreementEvents, agreementPage, workState } from './agreement-fields.js';
import { arbitrates, milestoneActions, partOf } from './milestone-actions.js';
import { milestoneTimeline, type PageAgreement, type PageMilestone } from './milestone-timeline.js';
import { Instant, TitledId, PartyName } from '../record-labels.js';

type Activity = AgreementActivitySubscription['agreementEvents'];

function Timeline({ agreement, milestone }: { agreement: PageAgreement; milestone: PageMilestone }) {
  return (
    <ol className="timeline" aria-label={`Timeline of ${milestone.title}`}>
      {milestoneTimeline(agreement, milestone).map((step, index) => (
        <li key={`${step.label}-${String(index)}`}>
          <span className="step">{step.label}</span> <Instant at={step.at} />
          {step.detail === undefined ? null : <span className="detail"> — {step.detail}</span>}
        </li>
      ))}
    </ol>
  );
}

/**
 * The metric thresholds of a milestone, when it has any, and what they do: the named
 * evaluator's report meeting all of them accepts the milestone; with no evaluator named
 * they are the client's to check.
 */
function AcceptanceThresholds({ agreement, milestone }: { agreement: PageAgreement; milestone: PageMilestone }) {
  const { thresholds, evaluationDataset } = milestone.acceptanceCriteria;
  if (thresholds.length === 0) return null;
  const measures = `${thresholds.map(thresholdWords).join(' and ')}${evaluationDataset == null ? '' : ` on dataset ${evaluationDataset}`}`;
  return (
    <p data-testid={`thresholds-${milestone.milestoneId}`}>
      {agreement.evaluator == null
        ? `Thresholds: ${measures}; no evaluator is named, so the client checks them.`
        : `The evaluator’s report accepts it when it measures ${measures}.`}
    </p>
  );
}

/** Who decides a milestone's dispute: the arbitrators drawn for it, when it has one. */
function DisputePanel({ milestone }: { milestone: PageMilestone }) {
  const panel = milestone.dispute?.panel;
  if (panel == null || panel.length === 0) return null;
  return (
    <p data-testid={`panel-${milestone.milestoneId}`}>
      Dispute panel:{' '}
      {panel.map((member, index) => (
        <span key={`${member.mspId}/${member.userId}`}>
          {index === 0 ? '' : ', '}
          <PartyName party={member} />
        </span>
      ))}
      {milestone.dispute?.decision == null
        ? ' (a majority of the members still governed, agreeing on one split, decides)'
        : ''}
    </p>
  );
}

/**
 * One agreement: parties, milestones with their timelines, the commands the signed-in
 * person may send now, and each committed event as it arrives over the subscription
 * feed, after which the page reads the agreement again.
 */
export function AgreementPage({ agreementId }: { agreementId: string }) {
  const { session } = useSession();
  const [{ data, error, fetching }, refetch] = useQuery({ query: agreementPage, variables: { id: agreementId } });
  const reload = useCallback(() => {
    refetch({ requestPolicy: 'network-only' });
  }, [refetch]);
  const [activity, setActivity] = useState<Activity[]>([]);
  const [{ data: event, error: feedError }] = useSubscription({
    query: agreementEvents,
    variables: { agreementId },
  });
  useEffect(() => {
    if (event === undefined) return;
    setActivity((seen) =>
      seen.some(
        (known) =>
          known.transactionId === event.agreementEvents.transactionId && known.name === event.agreementEvents.name,
      )
        ? seen
        : [event.agreementEvents, ...seen],
    );
    reload();
  }, [event, reload]);
  // The review window of a delivery can lapse while the page is open.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => {
      setNow(Date.now());
    }, 15_000);
    return () => {
      clearInterval(timer);
    };
  }, []);

  const loaded = data?.agreement;
  const loadedPart = loaded == null || session === undefined ? undefined : partOf(loaded, session.person);
  // The parties alone may read the terms: nobody else's page asks for them.
  const heldTerms = useHeldTerms(agreementId, loadedPart === 'client' || loadedPart === 'freelancer');
  if (session === undefined) return null;
  const agreement = data?.agreement;
  if (agreement == null) {
    return (
      <section>
        <h1>Agreement {agreementId}</h1>
        <Problem error={error} />
        {fetching ? <p aria-live="polite">Loading…</p> : null}
        <p>
          <Link href="/agreements">All agreements</Link>
        </p>
      </section>
    );
  }
  const part = partOf(agreement, session.person);
  // An arbitrator reaches other organisations' agreements through the disputes they were drawn for.
  const back =
    session.person.role === 'arbitrator' ? (
      <Link href="/disputes">Disputes</Link>
    ) : (
      <Link href="/agreements">All agreements</Link>
    );
  return (
    <section>
      <p>{back}</p>
      <h1>
        <TitledId title={agreement.title} id={agreement.agreementId} />
      </h1>
      <dl className="facts">
        <dt>Status</dt>
        <dd data-testid="agreement-status">{agreement.status}</dd>
        <dt>Work</dt>
        <dd data-testid="agreement-work">{workState(agreement.completed)}</dd>
        <dt>Client</dt>
        <dd>
          <PartyName party={agreement.client} />
        </dd>
        <dt>Freelancer</dt>
        <dd>
          <PartyName party={agreement.freelancer} />
        </dd>
        {agreement.evaluator == null ? null : (
          <>
            <dt>Evaluator</dt>
            <dd>
              <PartyName party={agreement.evaluator} />
            </dd>
          </>
        )}
        <dt>You are</dt>
        <dd>
          {part ??
            (agreement.milestones.some((milestone) => arbitrates(milestone, session.person))
              ? 'an arbitrator on a dispute panel'
              : 'a reader')}
        </dd>
        <dt>Terms SHA-256</dt>
        <dd className="hash">{agreement.termsSha256}</dd>
        {agreement.declined == null ? null : (
          <>
            <dt>Declined</dt>
            <dd>{agreement.declined.reason}</dd>
          </>
        )}
      </dl>
      <Problem error={error} />
      {part === 'client' || part === 'freelancer' ? <TermsView state={heldTerms} /> : null}
      <AgreementActions
        agreement={agreement}
        part={part}
        readTermsSha256={
          heldTerms.data?.agreementTerms?.status === 'held' ? heldTerms.data.agreementTerms.termsSha256 : undefined
        }
        onDone={reload}
      />
      <h2>Milestones</h2>
      {agreement.milestones.map((milestone) => (
        <article key={milestone.milestoneId} className="milestone" aria-labelledby={`m-${milestone.milestoneId}`}>
          <h3 id={`m-${milestone.milestoneId}`}>
            <TitledId title={milestone.title} id={milestone.milestoneId} />
          </h3>
          <p>
            <strong data-testid={`milestone-status-${milestone.milestoneId}`}>{milestone.status}</strong> ·{' '}
            {formatMoney(milestone.amount, milestone.currency)} · due {formatDueDate(milestone.dueDate)} ·{' '}
            {milestone.acceptanceCriteria.description}
          </p>
          <AcceptanceThresholds agreement={agreement} milestone={milestone} />
          <DisputePanel milestone={milestone} />
          <Timeline agreement={agreement} milestone={milestone} />
          <MilestoneActions
            agreement={agreement}
            milestone={milestone}
            actions={[
              ...milestoneActions(agreement, milestone, part, now),
              ...(arbitrates(milestone, session.person) ? (['voteOnDispute'] as const) : []),
            ]}
            onDone={reload}
          />
        </article>
      ))}
      <h2>Live activity</h2>
      <Problem error={feedError} />
      <ol className="activity" aria-live="polite" aria-label="Committed events since this page opened">
        {activity.map((item) => {
          const { what, reason } = activityWords(item.name, item.payload);
          return (
            <li key={`${item.transactionId}-${item.name}`}>
              {what} by <span className="whole">{item.actor.userId ?? item.actor.mspId}</span> in block{' '}
              {item.blockNumber}
              {reason === undefined ? null : <span className="detail"> — {reason}</span>}
            </li>
          );
        })}
      </ol>
      {activity.length === 0 ? <p className="hint">Events committed from now on appear here as they happen.</p> : null}
    </section>
  );
}
