import { useState } from 'react';
import { useQuery } from 'urql';
import { useRefetchOnReturn } from '../refetch-on-return.js';
import type { CredentialSecretsResult, SaltedClaim } from '@gigledger/chaincode/model';
import type { VerifiableCredential } from '@gigledger/api/wire-types';
import { formatInstant } from '../format.js';
import { graphql } from '../gql/index.js';
import { rest } from '../session/api-client.js';
import { QueryAnswer } from '../query-answer.js';
import { Problem } from '../session/problem.js';
import { useSession, type Session } from '../session/session.js';
import { DocumentOutput } from './document-output.js';
import { TitledId } from '../record-labels.js';
import { LedgerPageNav, listPageSize, useLedgerPages } from '../ledger-pages.js';

const myCredentials = graphql(`
  query MyCredentials($subject: PartyInput!, $first: Int, $after: String) {
    credentialPage(subject: $subject, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      items {
        credentialId
        type
        issuer {
          mspId
          userId
        }
        issuanceDate
        expirationDate
        status
        claims {
          name
        }
      }
    }
  }
`);

interface Presentation {
  readonly presentation: { credentialId: string; revealedClaims: SaltedClaim[] };
  readonly undisclosedClaims: string[];
  readonly verifiableCredential: VerifiableCredential;
}

/** Choose claims to disclose, then copy or download the presentation; or export the whole credential. */
function Disclosure({ session, credentialId }: { session: Session; credentialId: string }) {
  const [claims, setClaims] = useState<SaltedClaim[] | undefined>(undefined);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [presentation, setPresentation] = useState<Presentation | undefined>(undefined);
  const [exported, setExported] = useState<VerifiableCredential | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const path = `/v1/credentials/${encodeURIComponent(credentialId)}`;

  const run = (work: () => Promise<void>) => {
    setError(undefined);
    work().catch(setError);
  };

  if (claims === undefined) {
    return (
      <div className="command">
        <button
          type="button"
          onClick={() => {
            run(async () => {
              setClaims((await rest<CredentialSecretsResult>('GET', `${path}/claims`, session.token)).claims);
            });
          }}
        >
          Choose claims to disclose
        </button>
        <button
          type="button"
          onClick={() => {
            run(async () => {
              setExported(await rest<VerifiableCredential>('GET', `${path}/vc`, session.token));
            });
          }}
        >
          Export as W3C credential
        </button>
        <Problem error={error} />
        {exported === undefined ? null : (
          <DocumentOutput label="W3C Verifiable Credential" fileName="credential.vc.json" document={exported} />
        )}
      </div>
    );
  }
  return (
    <div className="disclosure">
      <fieldset>
        <legend>Claims to disclose</legend>
        {claims.map((claim) => (
          <label key={claim.name} className="check">
            <input
              type="checkbox"
              name="reveal"
              value={claim.name}
              checked={chosen.has(claim.name)}
              onChange={(event) => {
                const next = new Set(chosen);
                if (event.target.checked) next.add(claim.name);
                else next.delete(claim.name);
                setChosen(next);
                setPresentation(undefined);
              }}
            />
            {claim.name}: {claim.value}
          </label>
        ))}
      </fieldset>
      <button
        type="button"
        onClick={() => {
          run(async () => {
            const reveal = claims.map((claim) => claim.name).filter((name) => chosen.has(name));
            setPresentation(await rest<Presentation>('POST', `${path}/presentations`, session.token, { reveal }));
          });
        }}
      >
        Create presentation
      </button>
      <Problem error={error} />
      {presentation === undefined ? null : (
        <>
          <p>
            Discloses {presentation.presentation.revealedClaims.map((claim) => claim.name).join(', ') || 'no claim'};
            keeps {presentation.undisclosedClaims.join(', ') || 'nothing'} hidden.
          </p>
          <DocumentOutput label="Presentation" fileName="presentation.json" document={presentation.presentation} />
          <DocumentOutput
            label="The same as a W3C credential"
            fileName="presentation.vc.json"
            document={presentation.verifiableCredential}
          />
        </>
      )}
    </div>
  );
}

/** The signed-in holder's credentials, a page at a time, with selective disclosure and W3C export. */
export function WalletPage() {
  const { session } = useSession();
  const subject = { mspId: session?.person.mspId ?? '', userId: session?.person.userId ?? '' };
  const pages = useLedgerPages(`${subject.mspId}/${subject.userId}`);
  const [state, reexecute] = useQuery({
    query: myCredentials,
    variables: { subject, first: listPageSize, after: pages.after },
    pause: session === undefined,
  });
  useRefetchOnReturn(reexecute);
  if (session === undefined) return null;
  return (
    <section>
      <h1>Wallet</h1>
      <p className="hint">
        Credentials issued to you. The ledger holds only salted hashes of their claims; you choose which values to show.
      </p>
      <QueryAnswer state={state} select={(answer) => answer.credentialPage}>
        {({ items: credentials, pageInfo }) => (
          <>
            {credentials.length === 0 ? (
              <p>
                {pageInfo.hasNextPage
                  ? 'None on this page; the next page may hold some.'
                  : 'No credential has been issued to you yet.'}
              </p>
            ) : null}
            {credentials.map((credential) => (
              <article key={credential.credentialId} className="card" aria-labelledby={`c-${credential.credentialId}`}>
                <h2 id={`c-${credential.credentialId}`}>
                  <TitledId title={credential.type} id={credential.credentialId} />
                </h2>
                <p>
                  <span data-testid="credential-status">{credential.status}</span> · issued by{' '}
                  {credential.issuer.userId} ({credential.issuer.mspId}) on {formatInstant(credential.issuanceDate)}
                  {credential.expirationDate == null ? '' : ` · expires ${formatInstant(credential.expirationDate)}`} ·
                  claims: {credential.claims.map((claim) => claim.name).join(', ')}
                </p>
                <Disclosure session={session} credentialId={credential.credentialId} />
              </article>
            ))}
            <LedgerPageNav label="Pages of credentials" pages={pages} pageInfo={pageInfo} />
          </>
        )}
      </QueryAnswer>
    </section>
  );
}
