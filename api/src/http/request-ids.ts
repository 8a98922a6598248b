import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { requestIdSchema } from '@gigledger/chaincode/model';
import { RefusedError } from '@gigledger/gateway';
import { parseArguments, parseInput } from './route.js';
import type { CommandRequest } from '../ledger/committed.js';
import { invalidInput } from '../errors/api-error.js';

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
    "The request id, as the body's requestId is (when both are sent they must be the same); repeating it returns the stored result instead of acting twice. Without either, the command runs under the x-request-id of its answer, which every answer, an error's included, names as requestId.",
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
 * A GraphQL operation's `Idempotency-Key` header, handed to its one command mutation, with
 * the name under which that mutation takes a request id (`requestId` or `input.requestId`)
 * for naming a conflict.
 */
export interface IdempotencyKeyHeader {
  readonly key: string;
  readonly requestIdField: string;
}

/**
 * Where a GraphQL field's resolver keeps the request id its command settled, for its
 * error answer, and the operation's Idempotency-Key header when it has one.
 */
const settledRequestIds = new AsyncLocalStorage<{ requestId?: string; header?: IdempotencyKeyHeader }>();

/**
 * Runs a resolver body, returning with its outcome the request id a command in it
 * settled (see {@link withRequestId}), so a failed mutation's error can name the id a
 * retry must repeat even when the server generated it.
 *
 * @param header the operation's Idempotency-Key, which a command settling its request id
 *   inside takes when its own arguments carry none.
 */
export async function withSettledRequestId<T>(
  body: () => Promise<T> | T,
  header?: IdempotencyKeyHeader,
): Promise<{ readonly value: T } | { readonly error: unknown; readonly requestId?: string }> {
  const settled: { requestId?: string; header?: IdempotencyKeyHeader } = header === undefined ? {} : { header };
  return settledRequestIds.run(settled, async () => {
    try {
      return { value: await body() };
    } catch (error) {
      return settled.requestId === undefined ? { error } : { error, requestId: settled.requestId };
    }
  });
}

/**
 * The Idempotency-Key header a request id is settled against: REST's, given as an
 * argument, else the GraphQL operation's (see {@link withSettledRequestId}).
 *
 * @throws ApiError 422 naming `header.idempotency-key` when it is not a valid request id.
 */
function headerRequestId(idempotencyKey: string | undefined): { id: string; conflictsWith: string } | undefined {
  const header =
    idempotencyKey === undefined
      ? settledRequestIds.getStore()?.header
      : { key: idempotencyKey, requestIdField: 'body.requestId' };
  if (header === undefined) return undefined;
  return {
    id: parseInput(requestIdSchema, header.key, 'header.idempotency-key'),
    conflictsWith: header.requestIdField,
  };
}

/**
 * Completes a command's fields with its request id: the body's `requestId`, else the
 * `Idempotency-Key` header (REST's, or a GraphQL operation's), else `generated` (by default a new `srv-<uuid>`) that the
 * response returns so the caller can retry with it. Inside {@link withSettledRequestId}
 * (every GraphQL resolver) the id is also kept for the error answer.
 *
 * @param generated The id to run under when the caller gave none; REST passes the
 *   request's own correlation id (`x-request-id`), so an error answer's `requestId` is
 *   the id to retry with.
 * @throws ApiError 422 naming `header.idempotency-key` when the header is not a valid
 *   request id, or differs from the body's `requestId` (which of the two was meant is
 *   not for the server to guess).
 */
export function withRequestId<Fields extends { readonly requestId?: string | undefined }>(
  fields: Fields,
  idempotencyKey?: string,
  generated: () => string = generateRequestId,
): Fields & { requestId: string } {
  const header = headerRequestId(idempotencyKey);
  if (header !== undefined && fields.requestId !== undefined && header.id !== fields.requestId) {
    throw invalidInput(
      'header.idempotency-key',
      `differs from ${header.conflictsWith} (${fields.requestId}): send the request id once, or the same in both`,
    );
  }
  const requestId = fields.requestId ?? header?.id ?? generated();
  const settled = settledRequestIds.getStore();
  if (settled !== undefined) settled.requestId = requestId;
  return { ...fields, requestId };
}

/**
 * The REST body of a command: its chaincode request's fields less those the path
 * carries, with `requestId` optional (the server fills it in, see `RouteSpec.command`).
 * Built from the shape because zod will not `.omit()` an object with refinements, and
 * given the request's refinements (e.g. "a failed payment must say why") so that the body
 * is judged by them at the edge even where a handler passes it on without parsing the
 * request again. Those refinements read body fields only; one that read a path field
 * would see it missing.
 *
 * @param request The transaction's request schema (`spec.request`, which has a `requestId`).
 * @param pathFields Fields the route takes from its path, e.g. `['agreementId', 'milestoneId']`.
 */
export function commandBodySchema<Shape extends z.core.$ZodShape, PathField extends keyof Shape & string>(
  request: z.ZodObject<Shape>,
  pathFields: readonly PathField[],
) {
  const omitted = new Set<string>([...pathFields, 'requestId']);
  const fields = Object.fromEntries(Object.entries(request.shape).filter(([name]) => !omitted.has(name)));
  return withRefinementsOf(
    request,
    z.strictObject({
      requestId: optionalRequestIdSchema,
      ...(fields as Omit<Shape, PathField | 'requestId'>),
    }),
  );
}

/**
 * `body` with the object-level refinements of `request` (its `.refine` checks), for a body
 * assembled from a request's shape, which leaves them behind.
 */
export function withRefinementsOf<Body extends z.ZodObject>(request: z.ZodObject, body: Body): Body {
  // Typed for the request's output, they read only fields the body has (see above).
  const refinements = (request._zod.def.checks ?? []) as z.core.$ZodCheck<z.output<Body>>[];
  return refinements.length === 0 ? body : body.check(...refinements);
}

/**
 * Parses a command's input (a GraphQL input object, or the arguments themselves when
 * `part` is null) with a schema that may require a request id; without one in the input,
 * the operation's Idempotency-Key header gives it (see {@link withSettledRequestId}), else
 * one is generated.
 *
 * @throws ApiError 422 VALIDATION_FAILED naming `<part>.<field>` (or the argument), or
 *   `header.idempotency-key` for a header that is no request id or differs from the input's.
 */
export function parseCommand<Schema extends z.ZodType<{ readonly requestId?: string | undefined }>>(
  schema: Schema,
  fields: Readonly<Record<string, unknown>>,
  part: string | null,
): CommandRequest<z.output<Schema>> {
  // The header is checked first, so a bad one is named for itself rather than as the argument.
  const keyed = { ...fields, requestId: fields.requestId ?? headerRequestId(undefined)?.id ?? generateRequestId() };
  const parsed = part === null ? parseArguments(schema, keyed) : parseInput(schema, keyed, part);
  return withRequestId(parsed);
}

/**
 * A chaincode refusal of the request id (REQUEST_ID_REUSED: the id ran another request)
 * named after the header the id came in, when the caller sent it as `Idempotency-Key`.
 */
export function requestIdRefusalUnderHeader(error: unknown): unknown {
  if (!(error instanceof RefusedError) || error.field !== 'requestId') return error;
  return new RefusedError(
    { code: error.code, message: error.refusal, field: 'header.idempotency-key' },
    { transactionId: error.transactionId, cause: error },
  );
}
