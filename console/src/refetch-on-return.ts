import { useEffect } from 'react';
import type { OperationContext } from 'urql';

/**
 * Reads a page's answer again, bypassing the cache, whenever the reader comes back to it:
 * the tab shown again or the window focused again. Lists (agreements, credentials, works,
 * proposals) have no event feed of their own, and what they show moves on while the
 * reader is elsewhere; a read on return keeps them current without polling the ledger
 * while nobody looks.
 *
 * @param reexecute the page query's re-execute function, as urql's `useQuery` returns it.
 */
export function useRefetchOnReturn(reexecute: (context?: Partial<OperationContext>) => void): void {
  useEffect(() => {
    const onReturn = () => {
      if (document.visibilityState === 'visible') reexecute({ requestPolicy: 'network-only' });
    };
    document.addEventListener('visibilitychange', onReturn);
    window.addEventListener('focus', onReturn);
    return () => {
      document.removeEventListener('visibilitychange', onReturn);
      window.removeEventListener('focus', onReturn);
    };
  }, [reexecute]);
}
