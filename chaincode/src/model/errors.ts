/**
 * Stable refusal codes shared by the chaincode, the gateway library and the API.
 *
 * The chaincode refuses a transaction with `CODE: sentence`; the gateway turns that
 * text back into a typed error and the API maps the code's kind to a status, so the
 * code is the contract and the sentence is for people.
 */
export const refusalKinds = ['validation', 'unauthenticated', 'forbidden', 'not-found', 'conflict', 'state'] as const;
export type RefusalKind = (typeof refusalKinds)[number];

export const refusalCatalogue = {
  /** A transaction argument failed its schema. */
  VALIDATION_FAILED: 'validation',
  /** The caller's certificate lacks an attribute the transaction needs. */
  IDENTITY_INCOMPLETE: 'unauthenticated',
  /** The caller's role or organisation may not perform this transaction. */
  FORBIDDEN: 'forbidden',
  /** No record with that key. */
  NOT_FOUND: 'not-found',
  /** A record with that key (or that content hash) already exists. */
  ALREADY_EXISTS: 'conflict',
  /** A request id was reused for a different request. */
  REQUEST_ID_REUSED: 'conflict',
  /** The record is not in a state that allows this transition. */
  INVALID_STATE: 'state',
  /** A governance parameter needed by the transaction is missing or invalid. */
  PARAMETER_INVALID: 'state',
  /** The client has used every rejection the agreement allows for this milestone or task. */
  REVISION_LIMIT_REACHED: 'state',
  /** A payout stays held: the payee holds no valid credential of a KYC type the consortium lists. */
  COMPLIANCE_HOLD: 'state',
  /** After genesis, consortium rules change only through an executed governance proposal. */
  GOVERNANCE_REQUIRED: 'forbidden',
  /** The caller's organisation already voted on the proposal through another identity. */
  ALREADY_VOTED: 'conflict',
  /** The proposal's voting window has closed. */
  VOTING_CLOSED: 'state',
  /** The proposal passed but its timelock has not run out. */
  TIMELOCK_ACTIVE: 'state',
  /** The proposal cannot be executed: it failed its vote, was vetoed or was already executed. */
  PROPOSAL_NOT_EXECUTABLE: 'state',
  /** The terms document or hash given does not match the terms recorded on the agreement. */
  TERMS_MISMATCH: 'conflict',
  /** The content hash is already registered as another work; the earlier registrant keeps priority. */
  ALREADY_REGISTERED: 'conflict',
  /** The owner has already approved this ownership change. */
  ALREADY_APPROVED: 'conflict',
  /** The work's owners changed after the ownership change was proposed; it can no longer apply. */
  OWNERSHIP_CHANGE_STALE: 'state',
  /** An exclusive licence would cover a use another live licence of the same work covers (or the reverse). */
  LICENCE_CONFLICT: 'conflict',
  /** The dataset access grant has passed its expiry. */
  ACCESS_GRANT_EXPIRED: 'state',
  /** The dataset access grant was revoked by the dataset's controller. */
  ACCESS_GRANT_REVOKED: 'state',
  /** The caller is not the grant's grantee, or the grant does not cover the scope asked for. */
  ACCESS_NOT_GRANTED: 'forbidden',
  /** Only the controller of personal data (or of a dataset) may do this. */
  NOT_CONTROLLER: 'forbidden',
  /** The personal data was erased under GDPR Art. 17; its receipt says when and why. */
  PERSONAL_DATA_ERASED: 'state',
  /** An auditor read a record no live audit grant covers (organisation, record kind, record time). */
  NO_AUDIT_GRANT: 'forbidden',
  /** A read-log anchor would go back, or would give another head hash for a sequence already anchored. */
  READ_LOG_ANCHOR_CONFLICT: 'conflict',
} as const satisfies Record<string, RefusalKind>;

export type RefusalCode = keyof typeof refusalCatalogue;

/** A refusal as it crosses the wire: code, the sentence, and the field at fault when one is. */
export interface Refusal {
  readonly code: RefusalCode;
  readonly message: string;
  readonly field?: string;
}

const refusalPattern = /\b([A-Z][A-Z0-9_]+)(?:\[([^\]]+)\])?: (.+)$/s;

/** Formats a refusal the way the chaincode throws it: `CODE: sentence` or `CODE[field]: sentence`. */
export function formatRefusal(refusal: Refusal): string {
  const field = refusal.field === undefined ? '' : `[${refusal.field}]`;
  return `${refusal.code}${field}: ${refusal.message}`;
}

/**
 * Finds a refusal in text that may carry a transport prefix
 * (e.g. `chaincode response 500, NOT_FOUND: agreement A-17 does not exist`).
 * Returns undefined when the text names no known code.
 */
export function parseRefusal(text: string): Refusal | undefined {
  const match = refusalPattern.exec(text);
  if (!match) return undefined;
  const [, code, field, message] = match;
  if (code === undefined || message === undefined || !isRefusalCode(code)) return undefined;
  return field === undefined ? { code, message } : { code, message, field };
}

export function isRefusalCode(value: string): value is RefusalCode {
  return Object.prototype.hasOwnProperty.call(refusalCatalogue, value);
}

export function refusalKind(code: RefusalCode): RefusalKind {
  return refusalCatalogue[code];
}
