import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { PageErrorBoundary } from './page-error-boundary.js';
import { AgreementPage } from './agreements/agreement-page.js';
import { AgreementsPage } from './agreements/agreements-page.js';
import { DisputesPage } from './disputes/disputes-page.js';
import { HistoryPage } from './audit/history-page.js';
import { IssuePage } from './credentials/issue-page.js';
import { DraftPage } from './drafting/draft-page.js';
import { ExplorerRoutes } from './explorer/explorer-routes.js';
import { WalletPage } from './credentials/wallet-page.js';
import { ProposalPage, ProposalsPage } from './governance/governance-pages.js';
import { WorkPage, WorksPage } from './ip/ip-pages.js';
import { SessionProvider, useSession } from './session/session.js';
import { OidcCallbackPage } from './session/oidc-callback-page.js';
import { SignInPage } from './session/sign-in-page.js';
import { ReconciliationPage } from './settlement/reconciliation-page.js';
import { VerifyPage } from './verify/verify-page.js';

// The provenance pages draw lineages with dagre, the largest library here: loaded when
// first opened, so that every other page starts without it.
const ProvenancePage = lazy(() =>
  import('./provenance/provenance-page.js').then((module) => ({ default: module.ProvenancePage })),
);
const ProvenanceRecordPage = lazy(() =>
  import('./provenance/provenance-page.js').then((module) => ({ default: module.ProvenanceRecordPage })),
);

/** A page loaded on first use, with a word while it loads. */
function Loaded({ children }: { children: ReactNode }) {
  return <Suspense fallback={<p aria-live="polite">Loading…</p>}>{children}</Suspense>;
}

/** Pages a role sees in the navigation; the API refuses the rest anyway. */
const navigation: readonly { href: string; label: string; roles: readonly string[] | 'all' }[] = [
  { href: '/agreements', label: 'Agreements', roles: ['client', 'freelancer', 'evaluator'] },
  { href: '/draft', label: 'Draft an agreement', roles: ['client'] },
  { href: '/disputes', label: 'Disputes', roles: ['arbitrator'] },
  { href: '/wallet', label: 'Wallet', roles: ['freelancer', 'client'] },
  { href: '/issue', label: 'Issue a credential', roles: ['issuer'] },
  { href: '/history', label: 'Record history', roles: ['auditor', 'admin'] },
  { href: '/explorer', label: 'Block explorer', roles: ['auditor', 'admin'] },
  { href: '/provenance', label: 'Provenance', roles: ['client', 'freelancer', 'evaluator', 'auditor', 'hr', 'admin'] },
  { href: '/ip', label: 'IP records', roles: ['client', 'freelancer', 'auditor', 'hr', 'admin'] },
  { href: '/governance', label: 'Governance', roles: ['governor', 'auditor', 'admin'] },
  { href: '/reconciliation', label: 'Reconciliation', roles: ['auditor', 'admin', 'settlement'] },
  { href: '/verify', label: 'Verify', roles: 'all' },
];

function Shell({ children }: { children: ReactNode }) {
  const { session, signOut } = useSession();
  const [location] = useLocation();
  // After a page change, keyboard and screen-reader users start at the new content, not the old link.
  useEffect(() => {
    document.getElementById('main')?.focus();
  }, [location]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">GigLedger</span>
        <nav aria-label="Main">
          <ul>
            {navigation
              .filter(
                (item) => item.roles === 'all' || (session !== undefined && item.roles.includes(session.person.role)),
              )
              .map((item) => (
                <li key={item.href}>
                  <Link href={item.href} aria-current={location.startsWith(item.href) ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              ))}
          </ul>
        </nav>
        {session === undefined ? (
          <Link href="/sign-in" className="account">
            Sign in
          </Link>
        ) : (
          <span className="account">
            <span data-testid="signed-in-as">
              {session.person.userId} · {session.person.role} · {session.person.org}
            </span>
            <button type="button" onClick={signOut}>
              Sign out
            </button>
          </span>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

/** "a client, freelancer or evaluator": the roles a page is for, in words. */
function rolesInWords(roles: readonly string[]): string {
  const [last, ...rest] = [...roles].reverse();
  return `${/^[aeiou]/.test(roles[0] ?? '') ? 'an' : 'a'} ${rest.length === 0 ? (last ?? '') : `${rest.reverse().join(', ')} or ${last ?? ''}`}`;
}

/**
 * Pages that need a signed-in person send everyone else to sign in first. A page of the
 * navigation (`page`, its address there; a record page names its section, and `readers`
 * when more roles read its records than find the section in their menu) reached by its
 * address by a role it is not for says so, rather than an empty list that reads as
 * "nothing here" or the API's refusals of a scope the role lacks. (Governance is read by
 * every role, though only some find it in their navigation: it is not held back.)
 */
function SignedIn({ children, page, readers }: { children: ReactNode; page?: string; readers?: readonly string[] }) {
  const { session } = useSession();
  const [location] = useLocation();
  if (session === undefined) return <Redirect to={`/sign-in?next=${encodeURIComponent(location)}`} />;
  const item = navigation.find((entry) => entry.href === page);
  const allowed = readers ?? item?.roles;
  if (item !== undefined && allowed !== undefined && allowed !== 'all' && !allowed.includes(session.person.role)) {
    return (
      <section>
        <h1>{item.label}</h1>
        <p role="note">
          This page is for {rolesInWords(allowed)}; you are signed in as {session.person.role} of {session.person.org}.
          Your pages are in the menu above.
        </p>
      </section>
    );
  }
  return <>{children}</>;
}

/**
 * Who reads an agreement's page: its parties and evaluator, the arbitrators of its
 * disputes, and the roles that read agreements for their organisation or under a grant
 * (the API's `agreements:read`); issuers and governors do not.
 */
const agreementReaders = ['client', 'freelancer', 'evaluator', 'arbitrator', 'settlement', 'auditor', 'hr', 'admin'];

function Home() {
  const { session } = useSession();
  if (session === undefined) return <Redirect to="/sign-in" />;
  const first = navigation.find((item) => item.roles !== 'all' && item.roles.includes(session.person.role));
  return <Redirect to={first?.href ?? '/verify'} />;
}

/** The console: pages under /console, routed in the page. */
export function App() {
  return (
    <SessionProvider>
      <Router base="/console">
        <Shell>
          <PageErrorBoundary>
            <Switch>
              <Route path="/" component={Home} />
              <Route path="/sign-in" component={SignInPage} />
              <Route path="/oidc-callback" component={OidcCallbackPage} />
              <Route path="/verify" component={VerifyPage} />
              <Route path="/agreements">
                <SignedIn page="/agreements">
                  <AgreementsPage />
                </SignedIn>
              </Route>
              <Route path="/agreements/:agreementId">
                {(params) => (
                  <SignedIn page="/agreements" readers={agreementReaders}>
                    <AgreementPage agreementId={decodeURIComponent(params.agreementId)} />
                  </SignedIn>
                )}
              </Route>
              <Route path="/disputes">
                <SignedIn page="/disputes">
                  <DisputesPage />
                </SignedIn>
              </Route>
              <Route path="/wallet">
                <SignedIn page="/wallet">
                  <WalletPage />
                </SignedIn>
              </Route>
              <Route path="/issue">
                <SignedIn page="/issue">
                  <IssuePage />
                </SignedIn>
              </Route>
              <Route path="/history">
                <SignedIn page="/history">
                  <HistoryPage />
                </SignedIn>
              </Route>
              <Route path="/draft">
                <SignedIn page="/draft">
                  <DraftPage />
                </SignedIn>
              </Route>
              <Route path="/explorer/*?">
                <SignedIn page="/explorer">
                  <ExplorerRoutes />
                </SignedIn>
              </Route>
              <Route path="/provenance">
                <SignedIn page="/provenance">
                  <Loaded>
                    <ProvenancePage />
                  </Loaded>
                </SignedIn>
              </Route>
              <Route path="/provenance/:recordId">
                {(params) => (
                  <SignedIn page="/provenance">
                    <Loaded>
                      <ProvenanceRecordPage recordId={decodeURIComponent(params.recordId)} />
                    </Loaded>
                  </SignedIn>
                )}
              </Route>
              <Route path="/ip">
                <SignedIn page="/ip">
                  <WorksPage />
                </SignedIn>
              </Route>
              <Route path="/ip/:workId">
                {(params) => (
                  <SignedIn page="/ip">
                    <WorkPage workId={decodeURIComponent(params.workId)} />
                  </SignedIn>
                )}
              </Route>
              <Route path="/governance">
                <SignedIn>
                  <ProposalsPage />
                </SignedIn>
              </Route>
              <Route path="/governance/:proposalId">
                {(params) => (
                  <SignedIn>
                    <ProposalPage proposalId={decodeURIComponent(params.proposalId)} />
                  </SignedIn>
                )}
              </Route>
              <Route path="/reconciliation">
                <SignedIn page="/reconciliation">
                  <ReconciliationPage />
                </SignedIn>
              </Route>
              <Route>
                <h1>Not found</h1>
                <p>
                  There is no such page. <Link href="/">Back to the start</Link>
                </p>
              </Route>
            </Switch>
          </PageErrorBoundary>
        </Shell>
      </Router>
    </SessionProvider>
  );
}
