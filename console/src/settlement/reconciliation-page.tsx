import { useState, type SyntheticEvent } from 'react';
import type { Discrepancy, ReconciliationReport } from '@gigledger/api/wire-types';
import { rest } from '../session/api-client.js';
import { FieldRefusals, FormRefusal } from '../session/field-refusals.js';
import { formatUtcDay } from '../format.js';
import { useSession } from '../session/session.js';
import { LabelledInput } from '../text-input.js';
import { TableHead } from '../table-head.js';
import { Fact, Instant } from '../record-labels.js';

/** What each kind of discrepancy means, after the settlement service's reconciliation. */
const kindWords: Record<string, string> = {
  'missing-in-outbox': 'On the ledger, never queued for a provider',
  'missing-at-provider': 'Sent, but absent from the provider’s statement',
  'missing-on-ledger': 'At the provider, unknown to the ledger',
  'duplicated-at-provider': 'Booked twice by the provider',
  'amount-mismatch': 'Amounts differ',
  'currency-mismatch': 'Currencies differ',
  'status-mismatch': 'Outcomes disagree',
  stuck: 'Open longer than allowed',
  'dead-letter': 'Given up after repeated failures',
  'paid-beyond-collected': 'Paid out more than was collected for it',
};

/** A UTC calendar day, `YYYY-MM-DD`, `days` from today. */
function day(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** The day after a `YYYY-MM-DD` day, so the range includes its last day. */
function nextDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString();
}

/** The last day a range of whole UTC days includes: the day before its exclusive end. */
function lastIncludedDay(exclusiveEnd: string): string {
  return new Date(Date.parse(exclusiveEnd) - 86_400_000).toISOString();
}

/** Discrepancies grouped by kind, in the order the report first names each kind. */
function byKind(discrepancies: readonly Discrepancy[]): [string, Discrepancy[]][] {
  const groups = new Map<string, Discrepancy[]>();
  for (const discrepancy of discrepancies) {
    const group = groups.get(discrepancy.kind) ?? [];
    group.push(discrepancy);
    groups.set(discrepancy.kind, group);
  }
  return [...groups.entries()];
}

/**
 * The settlement reconciliation for a range of UTC days (`GET /v1/settlement/reconciliation`,
 * roles admin, auditor and settlement): how many instructions the ledger, the outbox and
 * the providers' statements hold, and every discrepancy between them, grouped by kind.
 */
export function ReconciliationPage() {
  const { session } = useSession();
  const [from, setFrom] = useState(() => day(-7));
  const [to, setTo] = useState(() => day(0));
  const [report, setReport] = useState<ReconciliationReport | undefined>(undefined);
  const [problem, setProblem] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: SyntheticEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      const query = new URLSearchParams({ from: `${from}T00:00:00Z`, to: nextDay(to) });
      setReport(
        await rest<ReconciliationReport>('GET', `/v1/settlement/reconciliation?${query.toString()}`, session?.token),
      );
    } catch (error) {
      setReport(undefined);
      setProblem(error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>Settlement reconciliation</h1>
      <p>Compares the ledger’s settlement instructions, the outbox and the providers’ statements, day by day in UTC.</p>
      <FieldRefusals error={problem} fields={['query.from', 'query.to']}>
        <form className="filters" onSubmit={(event) => void submit(event)}>
          <LabelledInput
            label="From (UTC day)"
            type="date"
            field="query.from"
            required
            value={from}
            onValue={setFrom}
          />
          <LabelledInput
            label="To (UTC day, included)"
            type="date"
            field="query.to"
            required
            value={to}
            onValue={setTo}
          />
          <button type="submit" disabled={busy}>
            Reconcile
          </button>
        </form>
        <FormRefusal />
      </FieldRefusals>
      {busy ? <p aria-live="polite">Reconciling…</p> : null}
      {report === undefined ? null : (
        <>
          <h2>
            Report for {formatUtcDay(report.from)} to {formatUtcDay(lastIncludedDay(report.to))} (UTC days, both
            included)
          </h2>
          <p className="hint">
            Checked <Instant at={report.checkedAt} />
          </p>
          <dl className="facts">
            <Fact term="Instructions on the ledger" data-testid="count-ledger">
              {report.counts.ledger}
            </Fact>
            <Fact term="In the outbox" data-testid="count-outbox">
              {report.counts.outbox}
            </Fact>
            <Fact term="In providers’ statements" data-testid="count-provider">
              {report.counts.provider}
            </Fact>
          </dl>
          {report.discrepancies.length === 0 ? (
            <p data-testid="reconciled">No discrepancies: the ledger, the outbox and the providers agree.</p>
          ) : (
            byKind(report.discrepancies).map(([kind, found]) => (
              <table key={kind} data-testid={`discrepancies-${kind}`}>
                <caption>
                  {kindWords[kind] ?? kind} ({kind}): {found.length}
                </caption>
                <TableHead columns={['Instruction', 'Detail']} />
                <tbody>
                  {found.map((discrepancy, index) => (
                    <tr key={`${discrepancy.instructionId}-${String(index)}`}>
                      <td className="hash">{discrepancy.instructionId}</td>
                      <td>{discrepancy.detail}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ))
          )}
        </>
      )}
    </section>
  );
}
