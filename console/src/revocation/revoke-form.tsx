import { useId, useState, type SyntheticEvent } from 'react';
import { rest } from '../session/api-client.js';
import { FieldRefusals, FormRefusal } from '../session/field-refusals.js';
import type { Session } from '../session/session.js';
import { LabelledInput } from '../text-input.js';

/** What `POST /v1/credentials/{id}/revoke` answers: the committed envelope. */
interface Committed {
  readonly transactionId: string;
  readonly blockNumber: string;
}

/**
 * The issuer revokes a credential it issued, for good, with a reason
 * (`POST /v1/credentials/{id}/revoke`, role issuer, only the credential's own issuer).
 * Verification reports REVOKED from the next block on. The request carries an
 * Idempotency-Key kept for this credential and reason, so sending again after a lost
 * answer revokes once.
 */
export function RevokeForm({ session, suggestedId }: { session: Session; suggestedId: string | undefined }) {
  const id = useId();
  const [credentialId, setCredentialId] = useState(suggestedId ?? '');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [revoked, setRevoked] = useState<{ credentialId: string; committed: Committed } | undefined>(undefined);
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const [lastSuggested, setLastSuggested] = useState(suggestedId);
  // A credential just issued on this page becomes the one to revoke, unless the issuer typed another.
  if (suggestedId !== lastSuggested) {
    setLastSuggested(suggestedId);
    if (suggestedId !== undefined) setCredentialId(suggestedId);
  }

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const target = credentialId.trim();
    setBusy(true);
    setError(undefined);
    setRevoked(undefined);
    rest<Committed>(
      'POST',
      `/v1/credentials/${encodeURIComponent(target)}/revoke`,
      session.token,
      { reason: reason.trim() },
      {
        'idempotency-key': idempotencyKey,
      },
    )
      .then((committed) => {
        setRevoked({ credentialId: target, committed });
        setIdempotencyKey(crypto.randomUUID());
      })
      .catch(setError)
      .finally(() => {
        setBusy(false);
      });
  };

  // A changed request is a new request: it gets a new key, so the API does not answer it with the last one's result.
  const edited = (set: (value: string) => void) => (value: string) => {
    set(value);
    setIdempotencyKey(crypto.randomUUID());
  };
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Revoke a credential</h2>
      <p>Revocation is final: verifiers see the credential as not valid, naming REVOKED.</p>
      <FieldRefusals error={error} fields={['body.reason']}>
        <form onSubmit={submit} className="filters" aria-label="Revoke a credential">
          <LabelledInput
            label="Credential id to revoke"
            name="credentialId"
            required
            value={credentialId}
            onValue={edited(setCredentialId)}
          />
          <LabelledInput
            label="Reason for revoking"
            name="reason"
            field="body.reason"
            required
            value={reason}
            onValue={edited(setReason)}
          />
          <button type="submit" disabled={busy}>
            Revoke credential
          </button>
        </form>
        <FormRefusal />
      </FieldRefusals>
      {revoked === undefined ? null : (
        <p role="status" data-testid="revoked">
          Revoked {revoked.credentialId} in block {revoked.committed.blockNumber} (transaction{' '}
          <span className="hash">{revoked.committed.transactionId}</span>).
        </p>
      )}
    </section>
  );
}
