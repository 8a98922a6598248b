import { randomUUID } from 'node:crypto';
import { requestIdSchema } from '@gigledger/chaincode/model';
import { parseInput } from './route.js';

/** A command's request id, which callers may leave out of the body. */
export const optionalRequestIdSchema = requestIdSchema
  .optional()
  .describe(
    'Makes the request safe to repeat: the same id with the same body returns the stored result, with another body 409 REQUEST_ID_REUSED. ' +
      'When left out (here and in the Idempotency-Key header) the server generates one and returns it as `requestId`; reuse it to retry.',
  );

/** The header every command whose chaincode request has a `requestId` accepts, for the OpenAPI document. */
export const idempotencyKeyHeader = {
  name: 'Idempotency-Key',
  description:
    'Request id when the body has no requestId; repeating it returns the stored result instead of acting twice. Without either, the server generates one and returns it.',
  schema: requestIdSchema,
};

/**
 * A request id for a command whose caller gave none. Retrying such a request acts
 * twice, so responses return the id for the caller to reuse.
 */
export function generateRequestId(): string {
  return `srv-${randomUUID()}`;
}

/**
 * Completes a command's fields with its request id: the body's `requestId`, else the
 * `Idempotency-Key` header, else a generated one the response returns so the caller
 * can retry with it.
 *
 * @throws ApiError 422 naming `header.idempotency-key` when the header is not a valid request id.
 */
export function withRequestId<Fields extends { readonly requestId?: string | undefined }>(
  fields: Fields,
  idempotencyKey?: string,
): Fields & { requestId: string } {
  const fromHeader =
    idempotencyKey === undefined ? undefined : parseInput(requestIdSchema, idempotencyKey, 'header.idempotency-key');
  return { ...fields, requestId: fields.requestId ?? fromHeader ?? generateRequestId() };
}
