import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Provider } from 'urql';
import { apiClient, rest } from './api-client.js';

/** Who is signed in, as `me` answered right after sign-in. */
export interface Person {
  readonly userId: string;
  readonly mspId: string;
  readonly org: string;
  readonly role: string;
  readonly scopes: readonly string[];
}

/**
 * A signed-in person and their bearer token. The token lives only in this object, in
 * the page's memory: never in localStorage, sessionStorage or a cookie, so a script
 * that reads storage finds nothing and closing or reloading the tab signs out.
 */
export interface Session {
  readonly token: string;
  readonly person: Person;
  /** Epoch milliseconds at which the API stops accepting the token. */
  readonly expiresAt: number;
}

interface SessionState {
  readonly session: Session | undefined;
  readonly signIn: (session: Session) => void;
  readonly signOut: () => void;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

/** Holds the session and gives every page a GraphQL client that sends its token. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | undefined>(undefined);
  const forget = useCallback(() => {
    setSession(undefined);
  }, []);
  // Signing out revokes the token at the API too, so a copy of it (a proxy's log, a
  // screenshot of the network tab) opens nothing afterwards. The page forgets it either
  // way: a revocation that fails (the token expired, the API unreachable) leaves it to expire.
  const signOut = useCallback(() => {
    if (session !== undefined) void rest('POST', '/v1/auth/token/revocation', session.token).catch(() => undefined);
    setSession(undefined);
  }, [session]);
  // The API refuses an expired token; forgetting it at that moment says so before a request fails.
  useEffect(() => {
    if (session === undefined) return;
    const timer = setTimeout(forget, Math.max(0, session.expiresAt - Date.now()));
    return () => {
      clearTimeout(timer);
    };
  }, [session, forget]);
  const client = useMemo(() => apiClient(session?.token), [session?.token]);
  const state = useMemo(() => ({ session, signIn: setSession, signOut }), [session, signOut]);
  return (
    <SessionContext.Provider value={state}>
      <Provider value={client}>{children}</Provider>
    </SessionContext.Provider>
  );
}

/** The session state; only inside SessionProvider. */
export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (state === undefined) throw new Error('useSession is used outside SessionProvider');
  return state;
}
