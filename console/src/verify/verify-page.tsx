import { useState, type ChangeEvent, type SyntheticEvent } from 'react';
import { useClient } from 'urql';
import type { DocumentVerdict, StatementVerdict } from '@gigledger/api/wire-types';
import { graphql } from '../gql/index.js';
import { rest } from '../session/api-client.js';
import { Problem } from '../session/problem.js';
import { useSession } from '../session/session.js';
import { VerdictView, type ShownVerdict } from './verdict-view.js';
import { formatInstant } from '../format.js';

const verifyPresentation = graphql(`
  query VerifyPresentation($presentation: PresentationInput!) {
    verifyPresentation(presentation: $presentation) {
      credentialId
      valid
      checkedAt
      reasons {
        code
        message
        claim
      }
      credential {
        type
        issuer {
          mspId
          userId
        }
        issuerDisplayName
        status
        issuanceDate
        expirationDate
      }
      disclosedClaims {
        name
        value
        verified
      }
      undisclosedClaims
    }
  }
`);

type Kind = 'presentation' | 'credential' | 'statement';

/**
 * What a pasted document is, by its shape: a reputation statement has `body` and
 * `signature`; a W3C credential has `@context`; a presentation has `credentialId` and
 * `revealedClaims` (the shapes the API's presentation, export and statement routes answer).
 */
export function documentKind(document: unknown): Kind | undefined {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return undefined;
  if ('body' in document && 'signature' in document) return 'statement';
  if ('@context' in document) return 'credential';
  if ('credentialId' in document && 'revealedClaims' in document) return 'presentation';
  return undefined;
}

/** The credential part of a verdict, from GraphQL (nullable fields) or REST (optional ones). */
interface VerdictCredential {
  readonly type: string;
  readonly issuer: { readonly mspId: string; readonly userId: string };
  readonly issuerDisplayName?: string | null;
  readonly status: string;
  readonly issuanceDate: string;
  readonly expirationDate?: string | null;
}

function presentationFacts(verdict: {
  readonly credentialId: string;
  readonly credential?: VerdictCredential | null;
}): [string, string][] {
  const credential = verdict.credential;
  const facts: [string, string][] = [['Credential', verdict.credentialId]];
  if (credential != null) {
    facts.push(
      ['Type', credential.type],
      ['Issuer', `${credential.issuerDisplayName ?? credential.issuer.userId} (${credential.issuer.mspId})`],
      ['Status on the ledger', credential.status],
      ['Issued', formatInstant(credential.issuanceDate)],
    );
    if (credential.expirationDate != null) facts.push(['Expires', formatInstant(credential.expirationDate)]);
  }
  return facts;
}

/**
 * The public verify page (no sign-in): paste or upload a presentation, an exported W3C
 * credential or a portable reputation statement, and the ledger's verdict is shown with
 * each reason.
 */
export function VerifyPage() {
  const client = useClient();
  const { session } = useSession();
  const [text, setText] = useState('');
  const [verdict, setVerdict] = useState<ShownVerdict | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  async function check(event: SyntheticEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setVerdict(undefined);
    try {
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        throw new Error('the document is not JSON: paste the presentation, credential or statement as the API gave it');
      }
      const kind = documentKind(document);
      if (kind === 'presentation') {
        const answer = await client
          .query(verifyPresentation, { presentation: document as never }, { requestPolicy: 'network-only' })
          .toPromise();
        const found = answer.data?.verifyPresentation;
        if (answer.error !== undefined || found === undefined || found === null)
          throw answer.error ?? new Error('no verdict');
        setVerdict({
          valid: found.valid,
          what: 'presentation',
          checkedAt: found.checkedAt,
          reasons: found.reasons,
          facts: presentationFacts(found),
          claims: found.disclosedClaims,
        });
      } else if (kind === 'credential') {
        const found = await rest<DocumentVerdict>('POST', '/v1/credentials/vc/verify', session?.token, document);
        setVerdict({
          valid: found.valid,
          what: 'W3C credential',
          checkedAt: found.checkedAt,
          reasons: found.reasons,
          facts: presentationFacts(found.presentation),
          claims: found.presentation.disclosedClaims,
        });
      } else if (kind === 'statement') {
        const found = await rest<StatementVerdict>(
          'POST',
          '/v1/reputation/statements/verification',
          session?.token,
          document,
        );
        const statement = found.statement;
        setVerdict({
          valid: found.valid,
          what: 'reputation statement',
          reasons: found.reasons,
          facts:
            statement === undefined
              ? []
              : [
                  ['Statement', statement.statementId],
                  ['Subject', `${statement.subject.userId} (${statement.subject.mspId})`],
                  [
                    'Score',
                    `${String(statement.score)} (formula ${statement.formula}, as of ${formatInstant(statement.asOf)})`,
                  ],
                  ['Signed at', formatInstant(statement.issuedAt)],
                  ...(found.signer === undefined ? [] : [['Signed by', found.signer.mspId] as [string, string]]),
                ],
          claims: [],
        });
      } else {
        throw new Error(
          'this is neither a presentation (credentialId, revealedClaims), a W3C credential (@context) nor a reputation statement (body, signature)',
        );
      }
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  }

  function upload(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    if (file === undefined) return;
    void file.text().then(setText);
  }

  return (
    <section>
      <h1>Verify a credential or reputation statement</h1>
      <p className="hint">
        Anyone may check a document here, signed in or not: the ledger answers whether it is valid and why.
      </p>
      <form onSubmit={(event) => void check(event)}>
        <label>
          Presentation, W3C credential or reputation statement (JSON)
          <textarea
            className="code-text"
            name="document"
            rows={12}
            required
            spellCheck={false}
            value={text}
            onChange={(event) => {
              setText(event.target.value);
            }}
          />
        </label>
        <label>
          Or upload a file
          <input type="file" accept="application/json,.json" onChange={upload} />
        </label>
        <button type="submit" disabled={busy}>
          Verify
        </button>
      </form>
      <Problem error={error} />
      {verdict === undefined ? null : <VerdictView verdict={verdict} />}
    </section>
  );
}
