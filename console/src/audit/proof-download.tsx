import { useEffect, useState } from 'react';
import { rest } from '../session/api-client.js';
import { Problem } from '../session/problem.js';
import type { Session } from '../session/session.js';

/**
 * Fetches a transaction's proof bundle (`GET /v1/proofs/{txId}`: auditors any, admins
 * their organisation's) and offers it as a file, to check offline with
 * `npm run verify-proof`.
 */
export function ProofDownload({ session, txId }: { session: Session; txId: string }) {
  const [href, setHref] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(
    () => () => {
      if (href !== undefined) URL.revokeObjectURL(href);
    },
    [href],
  );
  const short = txId.slice(0, 12);
  if (href !== undefined) {
    return (
      <a href={href} download={`proof-${txId}.json`}>
        Save proof-{short}….json
      </a>
    );
  }
  return (
    <>
      <button
        type="button"
        disabled={busy}
        aria-label={`Get proof of transaction ${short}`}
        onClick={() => {
          setBusy(true);
          setError(undefined);
          rest<unknown>('GET', `/v1/proofs/${encodeURIComponent(txId)}`, session.token)
            .then((bundle) => {
              setHref(URL.createObjectURL(new Blob([JSON.stringify(bundle, null, 2)], { type: 'application/json' })));
            })
            .catch(setError)
            .finally(() => {
              setBusy(false);
            });
        }}
      >
        Get proof
      </button>
      <Problem error={error} />
    </>
  );
}
