import { parseRefusal, refusalKind, type RefusalCode, type RefusalKind } from '@gigledger/chaincode/model';

/** Base of the errors the gateway library throws; every one names the transaction when it has one. */
export class LedgerError extends Error {
  readonly transactionId: string | undefined;

  constructor(message: string, options: { transactionId?: string | undefined; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.transactionId = options.transactionId;
  }
}

/** The chaincode refused the request with one of the shared refusal codes. */
export class RefusedError extends LedgerError {
  readonly code: RefusalCode;
  readonly kind: RefusalKind;
  readonly field: string | undefined;
  readonly refusal: string;

  constructor(
    refusal: { code: RefusalCode; message: string; field?: string | undefined },
    options: { transactionId?: string | undefined; cause?: unknown } = {},
  ) {
    super(`${refusal.code}: ${refusal.message}`, options);
    this.code = refusal.code;
    this.kind = refusalKind(refusal.code);
    this.field = refusal.field;
    this.refusal = refusal.message;
  }
}

/** Endorsement failed for a reason other than a refusal: peers unreachable, policy unmet, timeout. */
export class EndorsementError extends LedgerError {
  /**
   * The MSP ids of the peers the gateway peer named as failing (its error details, or its
   * message when it found no endorsing peer of an organisation), in the order named; the
   * gateway peer's own organisation when the call never reached it; empty when no one
   * can tell (the call timed out, or its connection dropped mid-call).
   */
  readonly organisations: readonly string[];

  constructor(
    message: string,
    options: { transactionId?: string | undefined; cause?: unknown; organisations?: readonly string[] } = {},
  ) {
    super(message, options);
    this.organisations = options.organisations ?? [];
  }
}

/** An evaluation (a query, nothing to order) failed the same way: its peer unreachable, a timeout. */
export class EvaluationError extends EndorsementError {}

/**
 * A proposal (an evaluation or an endorsement) was never sent: it waited its whole
 * deadline for one of the calls this process keeps in flight at the peers (see
 * `gatewayCallLimit`), so nothing was read or changed. The peers are at capacity; a
 * later try may pass.
 */
export class PeersBusyError extends EndorsementError {}

/**
 * The peers refused the caller's identity because its organisation is not a member of
 * the channel (any more): `network:remove-org` took its MSP out of the channel
 * configuration, so every peer answers its proposals with `access denied: channel [...]
 * creator org ...`. Retrying cannot help; the caller must act through a member.
 */
export class NotMemberError extends LedgerError {}

/** The ordering service did not accept the endorsed transaction. */
export class SubmissionError extends LedgerError {}

/**
 * The transaction was sent to ordering but its commit status could not be learned.
 * It may or may not have committed: ask again with `transactionId`, never resubmit blindly.
 */
export class CommitStatusUnknownError extends LedgerError {}

/** The transaction was ordered but the peers marked it invalid, e.g. MVCC_READ_CONFLICT. */
export class CommitFailedError extends LedgerError {
  readonly validationCode: string;

  constructor(validationCode: string, options: { transactionId: string; cause?: unknown }) {
    super(`transaction ${options.transactionId} was not committed: ${validationCode}`, options);
    this.validationCode = validationCode;
  }
}

/** The peer answered with something the transaction's result schema does not accept. */
export class ResultFormatError extends LedgerError {}

/**
 * Finds a chaincode refusal in a fabric-gateway error: in its message (evaluate) or
 * in the per-peer details (endorse).
 */
export function refusalIn(error: unknown): ReturnType<typeof parseRefusal> {
  if (!(error instanceof Error)) return undefined;
  const details = (error as { details?: { message?: string }[] }).details ?? [];
  for (const text of [...details.map((detail) => detail.message ?? ''), error.message]) {
    const refusal = parseRefusal(text);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

/**
 * Whether a fabric-gateway error (evaluate or endorse) is the peers refusing the
 * creator's organisation as no member of the channel. A non-member's transaction never
 * gets past endorsement, so this is where the refusal shows. The peer says so only in
 * text (no gRPC code tells it apart from other endorsement failures): its ACL check
 * answers `access denied: channel [<channel>] creator org unknown, creator is malformed`
 * for an MSP the channel does not know, or `creator org [<MSP>]` for one its policies refuse.
 *
 * Source: Fabric `core/endorser/endorser.go` (preProcess, ACL check).
 */
export function isNonMemberRefusal(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const details = (error as { details?: { message?: string }[] }).details ?? [];
  return [...details.map((detail) => detail.message ?? ''), error.message].some((text) =>
    /access denied: channel \[[^\]]*\] creator org|creator org unknown/.test(text),
  );
}

/**
 * The gateway peer's answer when the organisations a proposal names have no peer it can
 * reach (`planForOrgs` in Fabric's `internal/pkg/gateway/registry.go`): a peer killed or
 * not yet back in discovery. Its details are empty; the message names them.
 */
const noEndorsingPeersFor = /failed to find any endorsing peers for org\(s\): ([^;]+)/;

/** The MSP ids a fabric-gateway error names, each once: in its details, or in the gateway peer's message. */
export function organisationsInDetails(error: unknown): string[] {
  const details = (error as { details?: { mspId?: unknown }[] } | undefined)?.details ?? [];
  const messages =
    error instanceof Error ? [error.message, error.cause instanceof Error ? error.cause.message : ''] : [];
  const named = messages.map((message) => noEndorsingPeersFor.exec(message)?.[1]).find((list) => list !== undefined);
  return [
    ...new Set([
      ...details.flatMap((detail) => (typeof detail.mspId === 'string' && detail.mspId !== '' ? [detail.mspId] : [])),
      ...(named === undefined ? [] : named.split(',').map((mspId) => mspId.trim())),
    ]),
  ].filter((mspId) => mspId !== '');
}

/** A readable summary of a fabric-gateway error, with each peer's detail. */
export function describeGatewayError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const details = (error as { details?: { address?: string; message?: string }[] }).details ?? [];
  return [error.message, ...details.map((detail) => `${detail.address ?? 'peer'}: ${detail.message ?? ''}`)].join('; ');
}
