import { useMemo, useState, type SyntheticEvent } from 'react';
import { useMutation, type CombinedError } from 'urql';
import { Link } from 'wouter';
import { besideItsField, Problem } from '../session/problem.js';
import { useSession } from '../session/session.js';
import { draftAgreement } from './draft-mutation.js';
import { toMinorUnits } from './minor-units.js';
import { currenciesLoaded, currencyOptions, minorUnitDigits } from '../currencies.js';
import { ValueInput } from '../text-input.js';
import { formatMoney } from '../format.js';
import { Field, ShortLabel } from './draft-fields.js';
import { thresholdFieldNames, ThresholdRows, thresholdValue, type ThresholdDraft } from './threshold-rows.js';

interface MilestoneDraft {
  readonly key: number;
  title: string;
  amount: string;
  currency: string;
  dueDate: string;
  criteria: string;
  thresholds: ThresholdDraft[];
}

/** Field path (as the API names it in a 422, e.g. `input.milestones.0.amount`) to the sentence shown beside it. */
type FieldProblems = Readonly<Record<string, string>>;

const newMilestone = (key: number, currency: string): MilestoneDraft => ({
  key,
  title: '',
  amount: '',
  currency,
  dueDate: '',
  criteria: '',
  thresholds: [],
});

/** A fresh agreement id the client may change: `A-` and 8 random hex digits. */
function proposedAgreementId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `A-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** The field the API named when it refused the draft, and its sentence without the field's prefix. */
function fieldProblem(error: CombinedError): { field: string; message: string } | undefined {
  const first = error.graphQLErrors[0];
  const field = first?.extensions.field;
  if (first === undefined || typeof field !== 'string') return undefined;
  return { field, message: besideItsField(first.message, field) };
}

/** The amount as it will be drafted, e.g. "= €12.50", or nothing while the text is empty or no amount. */
function amountRead(text: string, currency: string): string {
  if (text.trim() === '') return '';
  const read = toMinorUnits(text, currency);
  return 'minorUnits' in read ? `= ${formatMoney(read.minorUnits, currency)}` : '';
}

/**
 * A client drafts an agreement: the freelancer, a title, the scope and one or more
 * milestones, each with an amount typed in major units (converted to the API's integer
 * minor units for the chosen ISO 4217 currency), a due date, acceptance criteria and any
 * metric thresholds, and optionally the evaluator who checks deliveries against them.
 * Sent with the `draftAgreement` mutation; a refusal naming a field shows beside it.
 */
export function DraftPage() {
  const { session } = useSession();
  const currencies = useMemo(currencyOptions, []);
  const [agreementId, setAgreementId] = useState(proposedAgreementId);
  const [title, setTitle] = useState('');
  const [freelancerUserId, setFreelancerUserId] = useState('');
  const [freelancerMspId, setFreelancerMspId] = useState('TalentOrgMSP');
  const [scope, setScope] = useState('');
  const [evaluatorUserId, setEvaluatorUserId] = useState('');
  const [evaluatorMspId, setEvaluatorMspId] = useState('');
  const [milestones, setMilestones] = useState<MilestoneDraft[]>([newMilestone(1, 'EUR')]);
  // One request id per draft, so that sending again after a lost answer cannot draft twice.
  const [requestId, setRequestId] = useState(() => crypto.randomUUID());
  const [problems, setProblems] = useState<FieldProblems>({});
  const [unplaced, setUnplaced] = useState<unknown>(undefined);
  const [drafted, setDrafted] = useState<{ agreementId: string; blockNumber: string } | undefined>(undefined);
  const [{ fetching }, draft] = useMutation(draftAgreement);
  if (session === undefined) return null;

  // A problem beside a field goes once the field is edited: it spoke of the text that was there.
  const clearing = (path: string, set: (value: string) => void) => (value: string) => {
    set(value);
    setProblems((current) => {
      if (!(path in current)) return current;
      const { [path]: _gone, ...rest } = current;
      return rest;
    });
  };
  const milestoneLeaves: Readonly<Record<string, string>> = {
    title: 'title',
    amount: 'amount',
    currency: 'currency',
    dueDate: 'dueDate',
    criteria: 'acceptanceCriteria.description',
    thresholds: 'acceptanceCriteria.thresholds',
  };
  const update = (key: number, change: Partial<MilestoneDraft>) => {
    const index = milestones.findIndex((m) => m.key === key);
    const edited = Object.keys(change).map(
      (field) => `input.milestones.${String(index)}.${milestoneLeaves[field] ?? field}`,
    );
    setProblems((current) => {
      const kept = Object.entries(current).filter(([path]) => !edited.some((prefix) => path.startsWith(prefix)));
      return kept.length === Object.keys(current).length ? current : Object.fromEntries(kept);
    });
    setMilestones((current) => current.map((m) => (m.key === key ? { ...m, ...change } : m)));
  };

  const submit = async (event: SyntheticEvent) => {
    event.preventDefault();
    setUnplaced(undefined);
    const local: Record<string, string> = {};
    const amounts = milestones.map((milestone, index) => {
      const converted = currenciesLoaded()
        ? toMinorUnits(milestone.amount, milestone.currency)
        : { problem: "The ledger's currency table could not be loaded, so no amount is converted; reload the page." };
      if ('problem' in converted) local[`input.milestones.${String(index)}.amount`] = converted.problem;
      return 'minorUnits' in converted ? converted.minorUnits : '';
    });
    const thresholds = milestones.map((milestone, index) =>
      milestone.thresholds.map((threshold, position) => {
        const read = thresholdValue(threshold.value);
        if ('problem' in read) {
          local[`input.milestones.${String(index)}.acceptanceCriteria.thresholds.${String(position)}.value`] =
            read.problem;
        }
        return {
          metric: threshold.metric.trim(),
          operator: threshold.operator,
          value: 'value' in read ? read.value : 0,
        };
      }),
    );
    setProblems(local);
    if (Object.keys(local).length > 0) return;
    const result = await draft({
      input: {
        requestId,
        agreementId: agreementId.trim(),
        title: title.trim(),
        client: { mspId: session.person.mspId, userId: session.person.userId },
        freelancer: { mspId: freelancerMspId.trim(), userId: freelancerUserId.trim() },
        // An evaluator is named when either half is typed, so that a half-typed one is refused, not dropped.
        ...(evaluatorUserId.trim() === '' && evaluatorMspId.trim() === ''
          ? {}
          : { evaluator: { mspId: evaluatorMspId.trim(), userId: evaluatorUserId.trim() } }),
        terms: { scope: scope.trim() },
        milestones: milestones.map((milestone, index) => ({
          kind: 'deliverable',
          milestoneId: `m${String(index + 1)}`,
          title: milestone.title.trim(),
          amount: amounts[index] ?? '',
          currency: milestone.currency,
          // A due date is the end of that day in UTC, the instant the ledger compares with.
          dueDate: milestone.dueDate === '' ? '' : `${milestone.dueDate}T23:59:59.000Z`,
          acceptanceCriteria: {
            description: milestone.criteria.trim(),
            ...(milestone.thresholds.length === 0 ? {} : { thresholds: thresholds[index] ?? [] }),
          },
        })),
      },
    });
    if (result.error !== undefined) {
      const named = fieldProblem(result.error);
      if (named !== undefined && fieldNames(milestones).includes(named.field)) {
        setProblems({ [named.field]: named.message });
      } else {
        setUnplaced(result.error);
      }
      return;
    }
    const payload = result.data?.draftAgreement;
    if (payload !== undefined && payload !== null) {
      setDrafted({ agreementId: payload.agreement.agreementId, blockNumber: payload.blockNumber });
      setRequestId(crypto.randomUUID());
    }
  };

  if (drafted !== undefined) {
    return (
      <section>
        <h1>Agreement drafted</h1>
        <p role="status">
          Offered to {freelancerUserId} in block {drafted.blockNumber}.{' '}
          <Link href={`/agreements/${encodeURIComponent(drafted.agreementId)}`}>Open {drafted.agreementId}</Link>
        </p>
      </section>
    );
  }

  return (
    <section>
      <h1>Draft an agreement</h1>
      <form
        aria-label="Draft an agreement"
        className="draft"
        noValidate
        onSubmit={(event) => {
          void submit(event);
        }}
      >
        <Field label="Agreement id" problem={problems['input.agreementId']}>
          {(props) => (
            <ValueInput {...props} value={agreementId} onValue={clearing('input.agreementId', setAgreementId)} />
          )}
        </Field>
        <Field label="Title" problem={problems['input.title']}>
          {(props) => <ValueInput {...props} value={title} onValue={clearing('input.title', setTitle)} />}
        </Field>
        <fieldset>
          <legend>Freelancer</legend>
          <Field label="Freelancer user id" problem={problems['input.freelancer.userId']}>
            {(props) => (
              <ValueInput
                {...props}
                value={freelancerUserId}
                onValue={clearing('input.freelancer.userId', setFreelancerUserId)}
              />
            )}
          </Field>
          <Field label="Freelancer organisation MSP id" problem={problems['input.freelancer.mspId']}>
            {(props) => (
              <ValueInput
                {...props}
                value={freelancerMspId}
                onValue={clearing('input.freelancer.mspId', setFreelancerMspId)}
              />
            )}
          </Field>
        </fieldset>
        <fieldset>
          <legend>Evaluator (optional)</legend>
          <p className="hint">
            Who measures deliveries against the milestones&apos; metric thresholds; a report meeting every threshold
            accepts the milestone.
          </p>
          <Field label="Evaluator user id" problem={problems['input.evaluator.userId']}>
            {(props) => (
              <ValueInput
                {...props}
                value={evaluatorUserId}
                onValue={clearing('input.evaluator.userId', setEvaluatorUserId)}
              />
            )}
          </Field>
          <Field label="Evaluator organisation MSP id" problem={problems['input.evaluator.mspId']}>
            {(props) => (
              <ValueInput
                {...props}
                value={evaluatorMspId}
                onValue={clearing('input.evaluator.mspId', setEvaluatorMspId)}
              />
            )}
          </Field>
        </fieldset>
        <Field label="Scope of work" problem={problems['input.terms.scope']}>
          {(props) => (
            <textarea
              {...props}
              rows={3}
              value={scope}
              onChange={(e) => {
                clearing('input.terms.scope', setScope)(e.target.value);
              }}
            />
          )}
        </Field>
        {milestones.map((milestone, index) => {
          const at = `input.milestones.${String(index)}`;
          const digits = minorUnitDigits(milestone.currency);
          return (
            <fieldset key={milestone.key}>
              <legend>Milestone {index + 1}</legend>
              <Field label={`Title of milestone ${String(index + 1)}`} problem={problems[`${at}.title`]}>
                {(props) => (
                  <ValueInput
                    {...props}
                    value={milestone.title}
                    onValue={(value) => {
                      update(milestone.key, { title: value });
                    }}
                  />
                )}
              </Field>
              <div className="field-row">
                <Field
                  label={<ShortLabel shown="Amount" rest={`of milestone ${String(index + 1)}`} />}
                  problem={problems[`${at}.amount`]}
                >
                  {(props) => (
                    <>
                      <ValueInput
                        {...props}
                        inputMode="decimal"
                        placeholder={digits === 0 ? '1250' : `1250.${'0'.repeat(digits)}`}
                        value={milestone.amount}
                        onValue={(value) => {
                          update(milestone.key, { amount: value });
                        }}
                      />
                      {/* What the typed text is read as, before anything is sent: 12,50 is €12.50, never €1,250.00. */}
                      <p className="hint" aria-live="polite" data-testid={`amount-read-${String(index + 1)}`}>
                        {amountRead(milestone.amount, milestone.currency)}
                      </p>
                    </>
                  )}
                </Field>
                <Field
                  label={<ShortLabel shown="Currency" rest={`of milestone ${String(index + 1)}`} />}
                  problem={problems[`${at}.currency`]}
                >
                  {(props) => (
                    <select
                      {...props}
                      value={milestone.currency}
                      onChange={(e) => {
                        update(milestone.key, { currency: e.target.value });
                      }}
                    >
                      {currencies.map((code) => (
                        <option key={code} value={code}>
                          {code}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
                <Field
                  label={<ShortLabel shown="Due date" rest={`of milestone ${String(index + 1)}`} />}
                  problem={problems[`${at}.dueDate`]}
                >
                  {(props) => (
                    <ValueInput
                      {...props}
                      type="date"
                      value={milestone.dueDate}
                      onValue={(value) => {
                        update(milestone.key, { dueDate: value });
                      }}
                    />
                  )}
                </Field>
              </div>
              <Field
                label={`Acceptance criteria of milestone ${String(index + 1)}`}
                problem={problems[`${at}.acceptanceCriteria.description`]}
              >
                {(props) => (
                  <ValueInput
                    {...props}
                    value={milestone.criteria}
                    onValue={(value) => {
                      update(milestone.key, { criteria: value });
                    }}
                  />
                )}
              </Field>
              <ThresholdRows
                milestoneNumber={index + 1}
                milestonePath={at}
                thresholds={milestone.thresholds}
                problems={problems}
                onChange={(thresholds) => {
                  update(milestone.key, { thresholds });
                }}
              />
              {milestones.length > 1 ? (
                <button
                  type="button"
                  onClick={() => {
                    setMilestones((current) => current.filter((m) => m.key !== milestone.key));
                  }}
                >
                  Remove milestone {index + 1}
                </button>
              ) : null}
            </fieldset>
          );
        })}
        <div className="actions">
          <button
            type="button"
            onClick={() => {
              setMilestones((current) => [
                ...current,
                newMilestone(
                  Math.max(...current.map((m) => m.key)) + 1,
                  current[current.length - 1]?.currency ?? 'EUR',
                ),
              ]);
            }}
          >
            Add a milestone
          </button>
          <button type="submit" disabled={fetching}>
            Draft agreement
          </button>
        </div>
        <Problem error={unplaced} />
        {Object.keys(problems).length > 0 ? (
          <p className="problem" aria-live="polite">
            {describeFieldCount(Object.keys(problems).length)}
          </p>
        ) : null}
      </form>
    </section>
  );
}

function describeFieldCount(count: number): string {
  return count === 1
    ? 'One field needs a change before the draft can be sent.'
    : `${String(count)} fields need a change.`;
}

/** Every field path this form can show a problem beside. */
function fieldNames(milestones: readonly MilestoneDraft[]): string[] {
  const names = [
    'input.agreementId',
    'input.title',
    'input.freelancer.userId',
    'input.freelancer.mspId',
    'input.evaluator.userId',
    'input.evaluator.mspId',
    'input.terms.scope',
  ];
  milestones.forEach((milestone, index) => {
    const at = `input.milestones.${String(index)}`;
    for (const leaf of ['title', 'amount', 'currency', 'dueDate', 'acceptanceCriteria.description']) {
      names.push(`${at}.${leaf}`);
    }
    names.push(...thresholdFieldNames(at, milestone.thresholds));
  });
  return names;
}
