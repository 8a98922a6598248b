import { useEffect, useRef, useState } from 'react';
import { useLocation } from 'wouter';
import { rest } from './api-client.js';
import { finishOidcSignIn, oidcSettings } from './oidc.js';
import { Problem } from './problem.js';
import { useSession, type Person } from './session.js';

/**
 * Where the identity provider sends the browser back: exchanges the code for an access
 * token, asks the API who that is (`GET /v1/me`, which enrols an OIDC person on first
 * use) and keeps the token in memory like the password sign-in.
 */
export function OidcCallbackPage() {
  const { signIn } = useSession();
  const [, navigate] = useLocation();
  const [error, setError] = useState<unknown>(undefined);
  // The exchange spends the one-time code; React's development double effects must not run it twice.
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const callback = new URL(window.location.href);
    void (async () => {
      const settings = await oidcSettings();
      if (settings === undefined) throw new Error('this API offers no OIDC sign-in');
      const { accessToken, expiresIn, next } = await finishOidcSignIn(settings, callback);
      const me = await rest<{ principal: Person & { expiresAt?: number } }>('GET', '/v1/me', accessToken);
      const { userId, mspId, org, role, scopes, expiresAt } = me.principal;
      signIn({
        token: accessToken,
        person: { userId, mspId, org, role, scopes },
        expiresAt: expiresAt ?? Date.now() + (expiresIn ?? 300) * 1000,
      });
      // Only a path of this console, never another site.
      navigate(next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    })().catch(setError);
  }, [navigate, signIn]);
  return (
    <section className="narrow">
      <h1>Signing in</h1>
      {error === undefined ? <p aria-live="polite">Finishing the sign-in with your identity provider…</p> : null}
      <Problem error={error} />
    </section>
  );
}
