import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Provider } from 'urql';
import { apiClient } from './api-client.js';

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
  const signOut = useCallback(() => {
    setSession(undefined);
  }, []);
  // The API refuses an expired token; signing out at that moment says so before a request fails.
  useEffect(() => {
    if (session === undefined) return;
    const timer = setTimeout(signOut, Math.max(0, session.expiresAt - Date.now()));
    return () => {
      clearTimeout(timer);
    };
  }, [session, signOut]);
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
