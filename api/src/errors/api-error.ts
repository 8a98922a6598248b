/**
 * An error the API answers with as it is: a status, a stable code, a sentence, and the
 * field at fault when there is one.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export const unauthenticated = (message = 'authentication is required: a bearer token or an API key'): ApiError =>
  new ApiError(401, 'UNAUTHENTICATED', message);

export const forbidden = (message: string): ApiError => new ApiError(403, 'FORBIDDEN', message);

/**
 * 404 for an object the caller named: missing, or not the caller's to see, alike.
 *
 * @param field the id the caller named it by, as the request's own field (`agreementId`);
 *   REST names it under the part it was sent in (`path.agreementId`), GraphQL under
 *   `input` when sent there.
 */
export const notFound = (what: string, field: string): ApiError =>
  new ApiError(404, 'NOT_FOUND', `${what} does not exist or is not visible to you`, field);

export const invalidInput = (field: string, reason: string): ApiError =>
  new ApiError(422, 'VALIDATION_FAILED', `${field}: ${reason}`, field);

export const conflict = (code: string, message: string, field?: string): ApiError =>
  new ApiError(409, code, message, field);

/** Code of every answer to a caller whose organisation is not a member of the channel. */
export const notMemberCode = 'ORGANISATION_NOT_MEMBER';

/**
 * 403 ORGANISATION_NOT_MEMBER: the caller's organisation left the channel
 * (`network:remove-org`), so no peer accepts its identities any more.
 */
export const notMember = (org: string, mspId: string): ApiError =>
  new ApiError(
    403,
    notMemberCode,
    `organisation ${org} (${mspId}) is no longer a member of the channel; its people and keys cannot act`,
  );
