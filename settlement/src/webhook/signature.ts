/**
 * Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`, `webhook-signature`)
 * for both directions of the protocol. The HMAC and the secret format are the
 * `standardwebhooks` package's; this file only adds a clock the caller controls and
 * refusals with stable codes.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** How far a message's timestamp may be from the receiver's clock, either way (Standard Webhooks' default). */
export const signatureToleranceSeconds = 5 * 60;

/** The three headers of a signed message. */
export interface SignatureHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

const signatureHeaderNames = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

/** Request headers as `node:http` or `fetch` hand them over. */
export type HeaderSource = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Why a signature check failed. */
export type SignatureRefusalCode =
  'WEBHOOK_SIGNATURE_MISSING' | 'WEBHOOK_SIGNATURE_INVALID' | 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE';

/** The message id and time of a genuine message, or a 401 refusal with its code. */
export type SignatureCheck =
  | { readonly ok: true; readonly webhookId: string; readonly timestamp: Date }
  | {
      readonly ok: false;
      readonly status: 401;
      readonly code: SignatureRefusalCode;
      readonly message: string;
      /** The header at fault, as `header.<name>`. */
      readonly field: string;
    };

/** Whether `secret` is a usable Standard Webhooks secret: `whsec_` and base64 of at least 24 bytes. */
export function isWebhookSecret(secret: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  return match?.[1] !== undefined && Buffer.from(match[1], 'base64').length >= 24;
}

/**
 * Parses a secret once, so that a misconfigured secret fails at start-up rather than at
 * the first message.
 *
 * @throws TypeError when `secret` is not a `whsec_` secret of at least 24 bytes.
 */
export function webhookSigner(secret: string): Webhook {
  if (!isWebhookSecret(secret)) {
    throw new TypeError('a webhook secret must be "whsec_" followed by the base64 of at least 24 random bytes');
  }
  return new Webhook(secret);
}

/** A fresh message id; a re-delivery of the same message must reuse the one it had. */
export function newWebhookId(): string {
  return `msg_${randomUUID()}`;
}

/** Headers that sign `body` as message `webhookId` sent at `timestamp`. */
export function signatureHeaders(signer: Webhook, webhookId: string, timestamp: Date, body: string): SignatureHeaders {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signer.sign(webhookId, timestamp, body),
  };
}

/** One header's value, whatever shape the server framework gave the headers in. */
export function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== lower || value === undefined) continue;
    return typeof value === 'string' ? value : value.join(', ');
  }
  return undefined;
}

/**
 * Checks a message's Standard Webhooks signature against `now`. Refusals are 401 with a
 * code: headers absent, timestamp more than {@link signatureToleranceSeconds} from
 * `now`, or no `v1` signature matching the body.
 *
 * The signature is computed by the `standardwebhooks` package; its own `verify` is not
 * used because it reads the system clock and reports only English messages, and the
 * callers need both an injectable clock and a code per failure.
 */
export function checkSignature(
  signer: Webhook,
  headers: HeaderSource,
  rawBody: string | Uint8Array,
  now: Date,
): SignatureCheck {
  const webhookId = headerValue(headers, 'webhook-id');
  const timestampHeader = headerValue(headers, 'webhook-timestamp');
  const signatureHeader = headerValue(headers, 'webhook-signature');
  if (!webhookId || !timestampHeader || !signatureHeader) {
    const absent = signatureHeaderNames.filter((name) => !headerValue(headers, name));
    return refuse('WEBHOOK_SIGNATURE_MISSING', `the message is not signed: ${absent.join(', ')} absent`, absent[0]);
  }
  // Stored as the replay key (at most 200 characters); the spec's ids are far shorter.
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(webhookId)) {
    return refuse(
      'WEBHOOK_SIGNATURE_INVALID',
      'webhook-id must be 1 to 200 letters, digits, "_", ".", ":" or "-"',
      'webhook-id',
    );
  }
  if (!/^[0-9]{1,12}$/.test(timestampHeader)) {
    return refuse('WEBHOOK_SIGNATURE_INVALID', 'webhook-timestamp is not a Unix time in seconds', 'webhook-timestamp');
  }
  const timestampSeconds = Number(timestampHeader);
  const skewSeconds = Math.floor(now.getTime() / 1000) - timestampSeconds;
  if (Math.abs(skewSeconds) > signatureToleranceSeconds) {
    return refuse(
      'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE',
      `webhook-timestamp is ${Math.abs(skewSeconds)} s ${skewSeconds > 0 ? 'old' : 'in the future'}; at most ${signatureToleranceSeconds} s is accepted`,
      'webhook-timestamp',
    );
  }
  const timestamp = new Date(timestampSeconds * 1000);
  const body = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8');
  const expected = Buffer.from(signer.sign(webhookId, timestamp, body));
  // The header may list several signatures (e.g. during a secret rotation); one match is enough.
  const matches = signatureHeader.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) {
    return refuse(
      'WEBHOOK_SIGNATURE_INVALID',
      'no webhook-signature matches the body: altered, or signed with another secret',
      'webhook-signature',
    );
  }
  return { ok: true, webhookId, timestamp };
}

function refuse(code: SignatureRefusalCode, message: string, header = 'webhook-signature'): SignatureCheck {
  return { ok: false, status: 401, code, message, field: `header.${header}` };
}
