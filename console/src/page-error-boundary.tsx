import { Component, type ReactNode } from 'react';
import { Link, useLocation } from 'wouter';

interface BoundaryState {
  readonly failure: Error | undefined;
}

/**
 * Keeps a page's own failure on that page: the navigation and the session (whose token
 * lives only in memory, so a reload signs the person out) stay, and the failure is said
 * in words with a way back.
 */
class PageBoundary extends Component<{ children: ReactNode }, BoundaryState> {
  override state: BoundaryState = { failure: undefined };

  static getDerivedStateFromError(error: unknown): BoundaryState {
    return { failure: error instanceof Error ? error : new Error(String(error)) };
  }

  override render() {
    if (this.state.failure === undefined) return this.props.children;
    return (
      <section role="alert" className="problem">
        <h1>This page could not be shown</h1>
        <p>{this.state.failure.message}</p>
        <p>
          <Link href="/">Back to the start</Link>
        </p>
      </section>
    );
  }
}

/** A page boundary that starts afresh on every other page, so leaving a failed page clears it. */
export function PageErrorBoundary({ children }: { children: ReactNode }) {
  const [location] = useLocation();
  return <PageBoundary key={location}>{children}</PageBoundary>;
}
