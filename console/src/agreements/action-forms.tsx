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
  openDispute,
  rejectDeliverable,
  reissueFailedPayout,
  releaseMilestone,
  retryHeldPayout,
  submitDeliverable,
} from './agreement-mutations.js';
import { failedPayoutOf, type MilestoneAction } from './milestone-actions.js';
import type { PageAgreement, PageMilestone } from './milestone-timeline.js';
import { LabelledInput } from '../text-input.js';

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

/** The freelancer's answer to an offered agreement. */
export function AgreementActions(props: {
  agreement: PageAgreement;
  part: 'client' | 'freelancer' | undefined;
  onDone: () => void;
}) {
  const { agreement, part, onDone } = props;
  if (agreement.status !== 'offered' || part !== 'freelancer') return null;
  return (
    <div className="actions" role="group" aria-label="Your answer to this offer">
      <CommandButton
        label="Accept agreement"
        document={acceptAgreement}
        variables={{ input: { agreementId: agreement.agreementId, termsSha256: agreement.termsSha256 } }}
        onDone={onDone}
      />
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
