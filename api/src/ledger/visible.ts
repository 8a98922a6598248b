import { RefusedError } from '@gigledger/gateway';
import { notFound } from '../errors/api-error.js';

/**
 * Runs a read as the caller and answers 404 both when the object does not exist and
 * when the chaincode refuses the caller, so a caller cannot tell someone else's object
 * from a missing one, and the refusal's sentence (which may name the owner) is not
 * passed on. An auditor whose grants do not cover the object (NO_AUDIT_GRANT) meets the
 * same 404: that refusal names the record's organisations and time, which would tell an
 * auditor without any grant which ids exist, whose they are and when they were made.
 *
 * @param what names the object in the 404, e.g. `agreement A-17`.
 * @param field the id the caller named it by (`agreementId`), the same whichever the cause,
 *   so that the field tells no more than the status.
 * @throws ApiError 404 NOT_FOUND for a NOT_FOUND, FORBIDDEN or NO_AUDIT_GRANT refusal; any other error as it is.
 */
export function visible<T>(what: string, field: string, read: () => Promise<T>): Promise<T> {
  return answeringNotFound(what, field, read, (error) => error.kind === 'forbidden' || error.kind === 'not-found');
}

/**
 * {@link visible} for a part of a record (a grant's month or fee): a refusal naming
 * `partField` is about the part of a record the caller may read, so it passes on as the
 * chaincode words it (`licence grant G charges no one-off fee`); every other NOT_FOUND or
 * FORBIDDEN is answered as for a missing record.
 */
export function visiblePart<T>(what: string, field: string, partField: string, read: () => Promise<T>): Promise<T> {
  return answeringNotFound(
    what,
    field,
    read,
    (error) => (error.kind === 'forbidden' || error.kind === 'not-found') && error.field !== partField,
  );
}

/** Runs the read, answering 404 for the refusals `hides` picks and passing every other error on. */
async function answeringNotFound<T>(
  what: string,
  field: string,
  read: () => Promise<T>,
  hides: (error: RefusedError) => boolean,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof RefusedError && hides(error)) throw notFound(what, field);
    throw error;
  }
}

/**
 * {@link visible} for a read the chaincode refuses FORBIDDEN only to callers who may
 * read the record itself (the claims of a credential, the terms of a licence offer, for
 * an issuer, an overseer or an auditor under a grant): everyone else gets its NOT_FOUND,
 * worded as for a missing record. Those readers are told why (403 and the chaincode's
 * reason); the others meet the same 404 as for a missing object.
 *
 * @throws ApiError 404 NOT_FOUND for a NOT_FOUND or NO_AUDIT_GRANT refusal; any other error, a FORBIDDEN included, as it is.
 */
export function visibleToReaders<T>(what: string, field: string, read: () => Promise<T>): Promise<T> {
  return answeringNotFound(what, field, read, (error) => error.kind === 'not-found' || error.code === 'NO_AUDIT_GRANT');
}
