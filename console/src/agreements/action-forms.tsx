import { useState, type SyntheticEvent } from 'react';
import { useMutation, type AnyVariables, type TypedDocumentNode } from 'urql';
import { Problem } from '../session/problem.js';
import { FieldRefusals, FormRefusal } from '../session/field-refusals.js';
import {
  acceptAgreement,
  acceptMilestone,
  claimAcceptance,
  declineAgreement,
  fundMilestone,
  castDisputeVote,
  openDispute,
  postEvaluation,
  rejectDeliverable,
  reissueFailedPayout,
  releaseMilestone,
  retryHeldPayout,
  submitDeliverable,
} from './agreement-mutations.js';
import { failedPayoutOf, type AgreementPart, type MilestoneAction } from './milestone-actions.js';
import type { PageAgreement, PageMilestone } from './milestone-timeline.js';
import { LabelledInput } from '../text-input.js';
import { toMinorUnits } from '../drafting/minor-units.js';
import { formatMoney } from '../format.js';

/** Runs one command mutation; resolves to the error in words' source, or undefined once committed. */
function useCommand<Data, Variables extends AnyVariables>(document: TypedDocumentNode<Data, Variables>) {
  const [state, execute] = useMutation(document);
  return {
    busy: state.fetching,
    error: state.error,
    run: async (variables: Variables) => (await execute(variables)).error === undefined,
  };
}

/** A button that sends a command at once. */
function CommandButton<Data, Variables extends AnyVariables>(props: {
  label: string;
  document: TypedDocumentNode<Data, Variables>;
  variables: Variables;
  onDone: () => void;
}) {
  const command = useCommand(props.document);
  return (
    <div className="command">
      <button
        type="button"
        disabled={command.busy}
        onClick={() => {
          void command.run(props.variables).then((ok) => {
            if (ok) props.onDone();
          });
        }}
      >
        {props.label}
      </button>
      <Problem error={command.error} />
    </div>
  );
}

/** A command that needs a reason first (reject, dispute, decline). */
function ReasonCommand<Data, Variables extends AnyVariables>(props: {
  label: string;
  document: TypedDocumentNode<Data, Variables>;
  variables: (reason: string) => Variables;
  onDone: () => void;
}) {
  const command = useCommand(props.document);
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  if (!open) {
    return (
      <div className="command">
        <button
          type="button"
          onClick={() => {
            setOpen(true);
          }}
        >
          {props.label}…
        </button>
      </div>
    );
  }
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    void command.run(props.variables(reason)).then((ok) => {
      if (ok) {
        setOpen(false);
        props.onDone();
      }
    });
  };
  return (
    <form className="command" onSubmit={submit} aria-label={props.label}>
      <FieldRefusals error={command.error} fields={['input.reason']}>
        <LabelledInput label="Reason" field="input.reason" required value={reason} onValue={setReason} />
        <button type="submit" disabled={command.busy}>
          {props.label}
        </button>
        <button
          type="button"
          onClick={() => {
            setOpen(false);
          }}
        >
          Cancel
        </button>
        <FormRefusal />
      </FieldRefusals>
    </form>
  );
}

const sha256Pattern = '[0-9a-f]{64}';
const deliveryFields = ['input.artifactSha256', 'input.uri', 'input.note'];

/**
 * The freelancer's delivery: the artifact's SHA-256, where it lives, the value it claims
 * for each metric the milestone's thresholds name, and a note.
 */
function DeliveryForm({ milestone, onDone }: { milestone: PageMilestone; onDone: () => void }) {
  const command = useCommand(submitDeliverable);
  const [artifactSha256, setArtifact] = useState('');
  const [uri, setUri] = useState('');
  const [note, setNote] = useState('');
  const metrics = [...new Set(milestone.acceptanceCriteria.thresholds.map((threshold) => threshold.metric))];
  const [claimed, setClaimed] = useState<Readonly<Record<string, string>>>({});
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    // A number input hands over a number's text or nothing; what is left empty is not claimed.
    const claimedMetrics = Object.fromEntries(
      Object.entries(claimed)
        .filter(([, text]) => text.trim() !== '')
        .map(([metric, text]) => [metric, Number(text)]),
    );
    void command
      .run({
        input: {
          agreementId: milestone.agreementId,
          milestoneId: milestone.milestoneId,
          artifactSha256,
          uri,
          ...(note === '' ? {} : { note }),
          ...(Object.keys(claimedMetrics).length === 0 ? {} : { claimedMetrics }),
        },
      })
      .then((ok) => {
        if (ok) onDone();
      });
  };
  return (
    <form className="command delivery" onSubmit={submit} aria-label={`Deliver ${milestone.title}`}>
      <FieldRefusals
        error={command.error}
        fields={[...deliveryFields, ...metrics.map((metric) => `input.claimedMetrics.${metric}`)]}
      >
        <LabelledInput
          label="Artifact SHA-256 (64 lowercase hex digits)"
          name="artifactSha256"
          field="input.artifactSha256"
          required
          pattern={sha256Pattern}
          value={artifactSha256}
          trim
          onValue={setArtifact}
        />
        <LabelledInput label="Artifact URI" name="uri" field="input.uri" required value={uri} trim onValue={setUri} />
        {metrics.map((metric) => (
          <LabelledInput
            key={metric}
            label={`Claimed ${metric} (optional; a threshold of this milestone)`}
            type="number"
            step="any"
            field={`input.claimedMetrics.${metric}`}
            value={claimed[metric] ?? ''}
            onValue={(text) => {
              setClaimed((current) => ({ ...current, [metric]: text }));
            }}
          />
        ))}
        <LabelledInput label="Note (optional)" name="note" field="input.note" value={note} onValue={setNote} />
        <button type="submit" disabled={command.busy}>
          Submit deliverable
        </button>
        <FormRefusal />
      </FieldRefusals>
    </form>
  );
}

/**
 * The evaluator's report on the latest delivery: the value it measured for each metric
 * the milestone's thresholds name (all required: a metric left unmeasured fails its
 * threshold), the report's SHA-256 and where it lives. A report meeting every threshold
 * accepts the milestone.
 */
function EvaluationForm({ milestone, onDone }: { milestone: PageMilestone; onDone: () => void }) {
  const command = useCommand(postEvaluation);
  const metrics = [...new Set(milestone.acceptanceCriteria.thresholds.map((threshold) => threshold.metric))];
  const [measured, setMeasured] = useState<Readonly<Record<string, string>>>({});
  const [reportSha256, setReportSha256] = useState('');
  const [reportUri, setReportUri] = useState('');
  const latest = milestone.submissions.at(-1);
  if (latest === undefined) return null;
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    void command
      .run({
        input: {
          agreementId: milestone.agreementId,
          milestoneId: milestone.milestoneId,
          artifactSha256: latest.artifactSha256,
          metrics: Object.fromEntries(metrics.map((metric) => [metric, Number(measured[metric] ?? '')])),
          reportSha256,
          ...(reportUri === '' ? {} : { reportUri }),
        },
      })
      .then((ok) => {
        if (ok) onDone();
      });
  };
  return (
    <form className="command delivery" onSubmit={submit} aria-label={`Evaluate ${milestone.title}`}>
      <p className="hint">
        Delivery #{latest.number}, artifact <span className="hash">{latest.artifactSha256}</span>
      </p>
      <FieldRefusals
        error={command.error}
        fields={['input.reportSha256', 'input.reportUri', ...metrics.map((metric) => `input.metrics.${metric}`)]}
      >
        {metrics.map((metric) => (
          <LabelledInput
            key={metric}
            label={`Measured ${metric}`}
            type="number"
            step="any"
            required
            field={`input.metrics.${metric}`}
            value={measured[metric] ?? ''}
            onValue={(text) => {
              setMeasured((current) => ({ ...current, [metric]: text }));
            }}
          />
        ))}
        <LabelledInput
          label="Report SHA-256 (64 lowercase hex digits)"
          name="reportSha256"
          field="input.reportSha256"
          required
          pattern={sha256Pattern}
          value={reportSha256}
          trim
          onValue={setReportSha256}
        />
        <LabelledInput
          label="Report URI (optional)"
          name="reportUri"
          field="input.reportUri"
          value={reportUri}
          trim
          onValue={setReportUri}
        />
        <button type="submit" disabled={command.busy}>
          Post evaluation
        </button>
        <FormRefusal />
      </FieldRefusals>
    </form>
  );
}

/**
 * An arbitrator's vote on a disputed milestone: the client's share of the escrow, typed in
 * the currency's major units; the freelancer's share is the rest (the platform fee is
 * kept from it when paid), shown before anything is sent; and a reason. A majority of the
 * panel agreeing on one split decides; an arbitrator may revise their vote until then.
 */
function DisputeVoteForm({ milestone, onDone }: { milestone: PageMilestone; onDone: () => void }) {
  const command = useCommand(castDisputeVote);
  const [clientShare, setClientShare] = useState('');
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const { amount, currency } = milestone;
  const read = clientShare.trim() === '' ? undefined : toMinorUnits(clientShare, currency, { zero: 'allowed' });
  const rest = read !== undefined && 'minorUnits' in read ? BigInt(amount) - BigInt(read.minorUnits) : undefined;
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    if (read === undefined || 'problem' in read || rest === undefined || rest < 0n) {
      setProblem(
        read !== undefined && 'problem' in read
          ? read.problem
          : `The client's share is at most the escrow, ${formatMoney(amount, currency)}.`,
      );
      return;
    }
    setProblem(undefined);
    void command
      .run({
        input: {
          agreementId: milestone.agreementId,
          milestoneId: milestone.milestoneId,
          escrowAmount: amount,
          clientShare: read.minorUnits,
          freelancerShare: rest.toString(),
          reason,
        },
      })
      .then((ok) => {
        if (ok) onDone();
      });
  };
  return (
    <form className="command delivery" onSubmit={submit} aria-label={`Vote on the dispute over ${milestone.title}`}>
      <p className="hint">Escrow: {formatMoney(amount, currency)}</p>
      <FieldRefusals error={command.error} fields={['input.clientShare', 'input.reason']}>
        <LabelledInput
          label={`Client's share (${currency})`}
          name="clientShare"
          field="input.clientShare"
          inputMode="decimal"
          required
          value={clientShare}
          onValue={(text) => {
            setClientShare(text);
            setProblem(undefined);
          }}
        />
        {problem === undefined ? null : (
          <p className="problem" role="alert">
            {problem}
          </p>
        )}
        <p className="hint" aria-live="polite" data-testid="freelancer-share">
          {rest === undefined || rest < 0n ? '' : `The freelancer's share: ${formatMoney(rest.toString(), currency)}`}
        </p>
        <LabelledInput label="Reason" name="reason" field="input.reason" required value={reason} onValue={setReason} />
        <button type="submit" disabled={command.busy}>
          Cast vote
        </button>
        <FormRefusal />
      </FieldRefusals>
    </form>
  );
}

/** The freelancer's answer to an offered agreement, given after reading its terms. */
export function AgreementActions(props: {
  agreement: PageAgreement;
  part: AgreementPart | undefined;
  /** The hash of the terms as read on this page; accepting is offered once they are. */
  readTermsSha256: string | undefined;
  onDone: () => void;
}) {
  const { agreement, part, readTermsSha256, onDone } = props;
  if (agreement.status !== 'offered' || part !== 'freelancer') return null;
  return (
    <div className="actions" role="group" aria-label="Your answer to this offer">
      {/* Accepting sends the hash of the terms shown above, as this freelancer's peer holds them. */}
      {readTermsSha256 === undefined ? (
        <p className="hint">The terms are being read; accept them once they show.</p>
      ) : (
        <CommandButton
          label="Accept agreement"
          document={acceptAgreement}
          variables={{ input: { agreementId: agreement.agreementId, termsSha256: readTermsSha256 } }}
          onDone={onDone}
        />
      )}
      <ReasonCommand
        label="Decline agreement"
        document={declineAgreement}
        variables={(reason) => ({ input: { agreementId: agreement.agreementId, reason } })}
        onDone={onDone}
      />
    </div>
  );
}

/** The buttons for the actions the person may take on a milestone now, and nothing else. */
export function MilestoneActions(props: {
  agreement: PageAgreement;
  milestone: PageMilestone;
  actions: readonly MilestoneAction[];
  onDone: () => void;
}) {
  const { milestone, actions, onDone } = props;
  if (actions.length === 0) return null;
  const ref = { agreementId: props.agreement.agreementId, milestoneId: milestone.milestoneId };
  const held = milestone.instructions.find((instruction) => instruction.status === 'held');
  const failed = failedPayoutOf(milestone);
  return (
    <div className="actions" role="group" aria-label={`Actions on ${milestone.title}`}>
      {actions.includes('fund') ? (
        <CommandButton label="Fund escrow" document={fundMilestone} variables={{ input: ref }} onDone={onDone} />
      ) : null}
      {actions.includes('submit') ? <DeliveryForm milestone={milestone} onDone={onDone} /> : null}
      {actions.includes('evaluate') ? <EvaluationForm milestone={milestone} onDone={onDone} /> : null}
      {actions.includes('voteOnDispute') ? <DisputeVoteForm milestone={milestone} onDone={onDone} /> : null}
      {actions.includes('accept') ? (
        <CommandButton
          label="Accept deliverable"
          document={acceptMilestone}
          variables={{ input: ref }}
          onDone={onDone}
        />
      ) : null}
      {actions.includes('reject') ? (
        <ReasonCommand
          label="Reject deliverable"
          document={rejectDeliverable}
          variables={(reason) => ({ input: { ...ref, reason } })}
          onDone={onDone}
        />
      ) : null}
      {actions.includes('claimAcceptance') ? (
        <CommandButton label="Claim acceptance" document={claimAcceptance} variables={{ input: ref }} onDone={onDone} />
      ) : null}
      {actions.includes('release') ? (
        <CommandButton label="Release payment" document={releaseMilestone} variables={{ input: ref }} onDone={onDone} />
      ) : null}
      {actions.includes('dispute') ? (
        <ReasonCommand
          label="Open dispute"
          document={openDispute}
          variables={(reason) => ({ input: { ...ref, reason } })}
          onDone={onDone}
        />
      ) : null}
      {actions.includes('retryHeldPayout') && held !== undefined ? (
        <CommandButton
          label="Check held payout again"
          document={retryHeldPayout}
          variables={{ input: { ...ref, instructionId: held.instructionId } }}
          onDone={onDone}
        />
      ) : null}
      {actions.includes('reissueFailedPayout') && failed !== undefined ? (
        <CommandButton
          label={failed.kind === 'refund' ? 'Reissue failed refund' : 'Reissue failed payout'}
          document={reissueFailedPayout}
          variables={{ input: { ...ref, instructionId: failed.instructionId } }}
          onDone={onDone}
        />
      ) : null}
    </div>
  );
}
