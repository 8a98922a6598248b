import type { HTMLAttributes, ReactNode } from 'react';
import { Link } from 'wouter';
import { formatInstant } from './format.js';

/** An ISO 8601 instant shown in the reader's local time, the instant itself kept in `dateTime` for machines. */
export function Instant({ at }: { at: string }) {
  return <time dateTime={at}>{formatInstant(at)}</time>;
}

/**
 * A record's title followed by its id in parentheses, the id styled as an identifier and
 * kept whole on one line where it fits (`(A-100)` never as `(A-` and `100)`).
 */
export function TitledId({ title, id }: { title: string; id: string }) {
  return (
    <>
      {title} <span className="id whole">({id})</span>
    </>
  );
}

/** A person as `userId (MSP id)`, the organisation kept whole on one line where it fits. */
export function PartyName({ party }: { party: { userId?: string | null; mspId: string } }) {
  return (
    <>
      {party.userId ?? ''} <span className="whole">({party.mspId})</span>
    </>
  );
}

/**
 * One term of a facts list (`<dl className="facts">`) with what it says, in the `<div>`
 * that keeps them together on a line; `dd` attributes (a class, a test id) go to the
 * description.
 */
export function Fact({
  term,
  children,
  ...description
}: { term: string; children: ReactNode } & HTMLAttributes<HTMLElement> & { 'data-testid'?: string }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd {...description}>{children}</dd>
    </div>
  );
}

/** A link to a record's page under `section` (e.g. `/ip`), named by the record's title and id. */
export function RecordLink({ section, id, title }: { section: string; id: string; title: string }) {
  return (
    <Link href={`${section}/${encodeURIComponent(id)}`}>
      <TitledId title={title} id={id} />
    </Link>
  );
}
