import { useEffect, useState, type SyntheticEvent } from 'react';
import { useClient } from 'urql';
import { useLocation, useSearch } from 'wouter';
import { graphql } from '../gql/index.js';
import { apiClient } from './api-client.js';
import { oidcSettings, startOidcSignIn, type OidcSettings } from './oidc.js';
import { Problem } from './problem.js';
import { useSession } from './session.js';
import { LabelledInput } from '../text-input.js';

const createToken = graphql(`
  mutation SignIn($userId: String!, $password: String!) {
    createToken(userId: $userId, password: $password) {
      accessToken
      expiresIn
    }
  }
`);

const whoAmI = graphql(`
  query WhoAmI {
    me {
      userId
      mspId
      org
      role
      scopes
    }
  }
`);

/** Sign in with the API's own login (user id and password), or with the API's OIDC issuer when it offers one. */
export function SignInPage() {
  const client = useClient();
  const { signIn } = useSession();
  const [, navigate] = useLocation();
  const search = useSearch();
  const [userId, setUserId] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [oidc, setOidc] = useState<OidcSettings | undefined>(undefined);
  useEffect(() => {
    void oidcSettings().then(setOidc);
  }, []);
  const next = new URLSearchParams(search).get('next');

  async function submit(event: SyntheticEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const token = await client.mutation(createToken, { userId, password }).toPromise();
      const created = token.data?.createToken;
      if (token.error !== undefined || created === undefined || created === null)
        throw token.error ?? new Error('no token');
      const { accessToken, expiresIn } = created;
      const me = await apiClient(accessToken).query(whoAmI, {}, { requestPolicy: 'network-only' }).toPromise();
      const person = me.data?.me;
      if (me.error !== undefined || person === undefined || person === null) throw me.error ?? new Error('no caller');
      signIn({ token: accessToken, person, expiresAt: Date.now() + expiresIn * 1000 });
      // Only a path of this console, never another site.
      navigate(next !== null && next.startsWith('/') && !next.startsWith('//') ? next : '/');
    } catch (problem) {
      setError(problem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="narrow">
      <h1>Sign in</h1>
      <form onSubmit={(event) => void submit(event)}>
        <LabelledInput
          label="User id"
          name="userId"
          autoComplete="username"
          required
          value={userId}
          onValue={setUserId}
        />
        <LabelledInput
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onValue={setPassword}
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <Problem error={error} />
      {oidc === undefined ? null : (
        <>
          <h2>Or with your organisation's sign-in</h2>
          <button
            type="button"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              setError(undefined);
              startOidcSignIn(oidc, next ?? '/').catch((problem: unknown) => {
                setError(problem);
                setBusy(false);
              });
            }}
          >
            Sign in with {new URL(oidc.issuer).host}
          </button>
        </>
      )}
      <p className="hint">
        Your session lasts until the token expires or you close this tab; nothing is stored in the browser.
      </p>
    </section>
  );
}
