import { duplicateMemberName } from '../json/member-names.js';
import type { ProviderConfirmation } from '../provider.js';
import {
  confirmationFromCallback,
  describeFirstIssue,
  firstIssuePath,
  paymentOrderCallbackSchema,
} from './protocol.js';
import { checkSignature, webhookSigner, type HeaderSource, type SignatureRefusalCode } from './signature.js';

/** Why a callback was refused; the HTTP status to answer comes with it. */
export type CallbackRefusalCode = SignatureRefusalCode | 'WEBHOOK_PAYLOAD_INVALID';

/** A provider callback, as received by the callback endpoint. */
export interface ProviderCallbackInput {
  readonly headers: HeaderSource;
  /** The body exactly as it arrived: the signature covers these bytes, not a re-serialisation. */
  readonly rawBody: string | Uint8Array;
  /**
   * The provider's inbound secret (`whsec_…`), or several while a secret is rotated: a
   * callback signed with any of them is genuine.
   */
  readonly secret: string | readonly string[];
  /** The receiver's clock; the current time when absent. */
  readonly now?: Date;
}

/** The confirmation of a genuine callback, or why it was refused and what to answer. */
export type CallbackVerification =
  | { readonly ok: true; readonly webhookId: string; readonly confirmation: ProviderConfirmation }
  | {
      readonly ok: false;
      readonly status: 400 | 401;
      readonly code: CallbackRefusalCode;
      readonly message: string;
      /** What is at fault: `header.<name>` of the signature, or `body` and the path of a payload field. */
      readonly field: string;
    };

/**
 * Checks a provider's callback and reads the confirmation it carries. Refuses with 401
 * when the message is unsigned (`WEBHOOK_SIGNATURE_MISSING`), altered or signed with
 * another secret (`WEBHOOK_SIGNATURE_INVALID`), or timestamped more than five minutes
 * from `now` (`WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE`); with 400 when it is signed but not
 * a callback of the protocol (`WEBHOOK_PAYLOAD_INVALID`, the message names the field).
 *
 * Replays are not detected here: a provider delivers at least once, and a re-delivery
 * keeps its `webhookId`. The caller records `webhookId` under a unique constraint in the
 * same database transaction as the confirmation, and answers 2xx without acting again
 * when it has seen the id before; otherwise the provider keeps re-delivering.
 *
 * @throws TypeError when a secret is not a `whsec_` secret, or none is given (a
 * configuration error, not a bad callback).
 */
export function verifyProviderCallback(input: ProviderCallbackInput): CallbackVerification {
  const [first, ...others] = typeof input.secret === 'string' ? [input.secret] : input.secret;
  if (first === undefined) throw new TypeError('at least one inbound secret is needed to verify callbacks');
  const now = input.now ?? new Date();
  let signature = checkSignature(webhookSigner(first), input.headers, input.rawBody, now);
  // Only a signature made with another secret is worth trying the next one for.
  for (const secret of others) {
    if (signature.ok || signature.code !== 'WEBHOOK_SIGNATURE_INVALID') break;
    signature = checkSignature(webhookSigner(secret), input.headers, input.rawBody, now);
  }
  if (!signature.ok) return signature;
  const text = typeof input.rawBody === 'string' ? input.rawBody : Buffer.from(input.rawBody).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return payloadInvalid('the body is not JSON');
  }
  const duplicate = duplicateMemberName(text);
  if (duplicate !== undefined) {
    return payloadInvalid(
      `${duplicate.join('.')}: appears twice in one JSON object; member names must be unique`,
      `body.${duplicate.join('.')}`,
    );
  }
  const parsed = paymentOrderCallbackSchema.safeParse(json);
  if (!parsed.success) {
    const path = firstIssuePath(parsed.error);
    return payloadInvalid(describeFirstIssue(parsed.error, json), path === '' ? 'body' : `body.${path}`);
  }
  return { ok: true, webhookId: signature.webhookId, confirmation: confirmationFromCallback(parsed.data) };
}

function payloadInvalid(message: string, field = 'body'): CallbackVerification {
  return { ok: false, status: 400, code: 'WEBHOOK_PAYLOAD_INVALID', message, field };
}
