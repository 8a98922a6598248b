import { useEffect } from 'react';

/**
 * Reads a page's answer again whenever the reader comes back to it: the tab shown again
 * or the window focused again. Lists (agreements, credentials, works, proposals) have no
 * event feed of their own, and what they show moves on while the reader is elsewhere; a
 * read on return keeps them current without polling the ledger while nobody looks.
 *
 * @param refetch asks the API again, bypassing the cache (urql's `network-only`).
 */
export function useRefetchOnReturn(refetch: () => void): void {
  useEffect(() => {
    const onReturn = () => {
      if (document.visibilityState === 'visible') refetch();
    };
    document.addEventListener('visibilitychange', onReturn);
    window.addEventListener('focus', onReturn);
    return () => {
      document.removeEventListener('visibilitychange', onReturn);
      window.removeEventListener('focus', onReturn);
    };
  }, [refetch]);
}
