import { wholeNumber } from '../http/whole-number.js';
import { z } from 'zod';
import {
  accessGrantRecordSchema,
  accessLogEntrySchema,
  datasetRecordSchema,
  datasetSubjectDataSchema,
  erasureReceiptSchema,
  erasureVerificationSchema,
  grantAccessRequestSchema,
  lineageDirections,
  lineageGraphSchema,
  maxLineageDepth,
  modelRecordSchema,
  provenanceIdSchema,
  provenanceRecordSchema,
  recordAccessRequestSchema,
  registerDatasetRequestSchema,
  registerModelRequestSchema,
  requestErasureRequestSchema,
  provenanceTransactions,
  subjectDataResultSchema,
  canonicalInput,
} from '@gigledger/chaincode/model';
import { commandBodySchema, optionalRequestIdSchema } from '../http/request-ids.js';
import { route, type RouteSpec } from '../http/route.js';
import { routeRequester } from '../http/route-requester.js';
import { committed, committedSchema } from '../ledger/committed.js';
import { ProvenanceService, type ProvenanceDependencies } from './provenance-service.js';
import {
  answerWithPage,
  ledgerPageQuerySchema,
  ledgerPageShape,
  nextPageLinkHeader,
  readLedgerPage,
} from '../http/ledger-pages.js';

const tag = 'provenance';
const base = '/v1/provenance';

export const registerDatasetBodySchema = canonicalInput(
  registerDatasetRequestSchema.extend({
    requestId: optionalRequestIdSchema,
    /** Personal data about the dataset's subjects; sent to member peers in the transient map, never ordered. */
    subjectData: datasetSubjectDataSchema.optional(),
  }),
);
export const registerModelBodySchema = canonicalInput(
  registerModelRequestSchema.extend({ requestId: optionalRequestIdSchema }),
);
export const grantAccessBodySchema = canonicalInput(
  grantAccessRequestSchema.omit({ datasetId: true }).extend({ requestId: optionalRequestIdSchema }),
);
export const revokeAccessBodySchema = canonicalInput(
  commandBodySchema(provenanceTransactions.revokeAccess.request, ['grantId']),
);
export const recordAccessBodySchema = canonicalInput(
  recordAccessRequestSchema.omit({ grantId: true }).extend({ requestId: optionalRequestIdSchema }),
);
export const requestErasureBodySchema = canonicalInput(
  requestErasureRequestSchema.extend({ requestId: optionalRequestIdSchema }),
);

export const lineageQuerySchema = z.strictObject({
  direction: z.enum(lineageDirections),
  depth: wholeNumber(
    z.number().min(1, 'must be at least 1').max(maxLineageDepth, `must be at most ${maxLineageDepth}`),
  ).optional(),
});
const accessLogQuerySchema = z.strictObject({ grantId: provenanceIdSchema.optional(), ...ledgerPageShape });
const noQuery = z.strictObject({});
const recordParams = z.strictObject({ recordId: provenanceIdSchema });
const datasetParams = z.strictObject({ datasetId: provenanceIdSchema });
const grantParams = z.strictObject({ grantId: provenanceIdSchema });
const receiptParams = z.strictObject({ receiptId: provenanceIdSchema });

export const erasureVerificationResponseSchema = erasureVerificationSchema.extend({
  blockNumber: z.string().describe('Block holding the erasure transaction, as a decimal string'),
});

const commandErrors = [403, 404, 409, 503, 504] as const;
const readErrors = [404, 503] as const;

/**
 * Dataset and model provenance, lineage, access grants and their use log, and GDPR
 * erasure with receipts, over REST. Records and lineage are open to every signed-in
 * member; grants, the access log, subject data and receipts to those the chaincode
 * names (controller, grantee, data subject, auditors).
 */
export function provenanceRoutes(deps: ProvenanceDependencies): RouteSpec[] {
  const service = new ProvenanceService(deps);
  return [
    route({
      method: 'post',
      path: `${base}/datasets`,
      operationId: 'registerDataset',
      summary:
        'Register a dataset (role client or freelancer; the caller becomes its controller): content SHA-256, source, licence, GDPR Art. 6 basis, PII class, retention, and parents with the transformation when derived. A content hash registered before is refused 409 naming the earlier record',
      tag,
      command: true,
      access: 'provenance:write',
      body: registerDatasetBodySchema,
      response: committedSchema(datasetRecordSchema),
      status: 201,
      errors: commandErrors,
      handler: ({ body, setHeader, ...caller }) => {
        const { subjectData, ...fields } = body;
        setHeader('Location', `${base}/records/${encodeURIComponent(fields.recordId)}`);
        return service.registerDataset(routeRequester(caller), fields, subjectData);
      },
    }),
    route({
      method: 'post',
      path: `${base}/models`,
      operationId: 'registerModel',
      summary:
        'Register a model trained from registered datasets with code of the given SHA-256 hashes (role client or freelancer)',
      tag,
      command: true,
      access: 'provenance:write',
      body: registerModelBodySchema,
      response: committedSchema(modelRecordSchema),
      status: 201,
      errors: commandErrors,
      handler: async ({ body, setHeader, ...caller }) => {
        const request = body;
        const client = await service.commandClient(routeRequester(caller), 'registerModel');
        setHeader('Location', `${base}/records/${encodeURIComponent(request.recordId)}`);
        return committed(await client.registerModel(request), request.requestId);
      },
    }),
    route({
      method: 'get',
      path: `${base}/records/:recordId`,
      operationId: 'getProvenanceRecord',
      summary: 'A dataset or model record',
      tag,
      access: 'provenance:read',
      params: recordParams,
      query: noQuery,
      response: provenanceRecordSchema,
      errors: readErrors,
      handler: async ({ params, ...caller }) => (await service.client(routeRequester(caller))).getRecord(params),
    }),
    route({
      method: 'get',
      path: `${base}/records/:recordId/lineage`,
      operationId: 'getLineage',
      summary: `Ancestors or descendants of a record as a graph of nodes and parent-to-child edges, up to depth (3 by default, at most ${maxLineageDepth}); truncated says more lies beyond`,
      tag,
      access: 'provenance:read',
      params: recordParams,
      query: lineageQuerySchema,
      response: lineageGraphSchema,
      errors: readErrors,
      handler: async ({ params, query, ...caller }) =>
        (await service.client(routeRequester(caller))).getLineage({ ...params, ...query }),
    }),
    route({
      method: 'post',
      path: `${base}/datasets/:datasetId/grants`,
      operationId: 'grantDatasetAccess',
      summary: "The dataset's controller grants a party access for a purpose and scopes until an expiry",
      tag,
      command: true,
      access: 'provenance:write',
      params: datasetParams,
      body: grantAccessBodySchema,
      response: committedSchema(accessGrantRecordSchema),
      status: 201,
      errors: commandErrors,
      handler: async ({ params, body, ...caller }) => {
        const request = { ...body, ...params };
        return committed(await service.grantAccess(routeRequester(caller), request, 'body'), request.requestId);
      },
    }),
    route({
      method: 'get',
      path: `${base}/datasets/:datasetId/grants`,
      operationId: 'listDatasetGrants',
      summary:
        "A dataset's access grants: all of them for its controller and auditors, a grantee's own otherwise; in grant id order, one page at a time",
      tag,
      access: 'provenance:read',
      params: datasetParams,
      query: ledgerPageQuerySchema,
      response: z.array(accessGrantRecordSchema),
      responseHeaders: [nextPageLinkHeader],
      errors: readErrors,
      handler: async ({ params, query, setHeader, ...caller }) => {
        const client = await service.client(routeRequester(caller));
        const page = await readLedgerPage(query, 'query.after', (paging) =>
          client.listAccessGrants({ ...params, ...paging }),
        );
        const path = `${base}/datasets/${encodeURIComponent(params.datasetId)}/grants`;
        return answerWithPage(page, { path, query, setHeader });
      },
    }),
    route({
      method: 'get',
      path: `${base}/grants/:grantId`,
      operationId: 'getDatasetGrant',
      summary: "An access grant, for the dataset's controller, the grantee and auditors",
      tag,
      access: 'provenance:read',
      params: grantParams,
      query: noQuery,
      response: accessGrantRecordSchema,
      errors: readErrors,
      handler: ({ params, ...caller }) => service.getGrant(routeRequester(caller), params.grantId),
    }),
    route({
      method: 'post',
      path: `${base}/grants/:grantId/revocation`,
      operationId: 'revokeDatasetAccess',
      summary: "The dataset's controller revokes a grant with a reason; later uses are refused",
      tag,
      access: 'provenance:write',
      command: true,
      params: grantParams,
      body: revokeAccessBodySchema,
      response: committedSchema(accessGrantRecordSchema),
      errors: commandErrors,
      handler: async ({ params, body, ...caller }) => {
        const client = await service.commandClient(routeRequester(caller), 'revokeAccess');
        return committed(await client.revokeAccess({ ...body, ...params }), body.requestId);
      },
    }),
    route({
      method: 'post',
      path: `${base}/grants/:grantId/accesses`,
      operationId: 'recordDatasetAccess',
      summary:
        "The grantee logs one use of its grant in one of the grant's scopes; refused after expiry or revocation, and for anyone else",
      tag,
      command: true,
      access: 'provenance:write',
      params: grantParams,
      body: recordAccessBodySchema,
      response: committedSchema(accessLogEntrySchema),
      status: 201,
      errors: commandErrors,
      handler: async ({ params, body, ...caller }) => {
        const request = { ...body, ...params };
        const client = await service.commandClient(routeRequester(caller), 'recordAccess');
        return committed(await client.recordAccess(request), request.requestId);
      },
    }),
    route({
      method: 'get',
      path: `${base}/datasets/:datasetId/access-log`,
      operationId: 'getDatasetAccessLog',
      summary:
        "The logged uses of a dataset's grants (of one grant with grantId), for its controller and auditors only: by grant, then access id (the audit index answers them in time order), one page at a time",
      tag,
      access: 'provenance:read',
      params: datasetParams,
      query: accessLogQuerySchema,
      response: z.array(accessLogEntrySchema),
      responseHeaders: [nextPageLinkHeader],
      errors: [403, 404, 503],
      handler: async ({ params, query, setHeader, ...caller }) => {
        const client = await service.client(routeRequester(caller));
        const { first: _first, after: _after, ...filter } = query;
        const page = await readLedgerPage(query, 'query.after', (paging) =>
          client.listAccessLog({ ...params, ...filter, ...paging }),
        );
        const path = `${base}/datasets/${encodeURIComponent(params.datasetId)}/access-log`;
        return answerWithPage(page, { path, query, setHeader });
      },
    }),
    route({
      method: 'get',
      path: `${base}/datasets/:datasetId/subject-data`,
      operationId: 'getDatasetSubjectData',
      summary:
        "A dataset's subject data for its controller, from a peer of a member organisation; once erased, status erased with the receipt id",
      tag,
      access: 'provenance:read',
      params: datasetParams,
      query: noQuery,
      response: subjectDataResultSchema,
      errors: [403, 404, 503],
      handler: async ({ params, ...caller }) => (await service.client(routeRequester(caller))).getSubjectData(params),
    }),
    route({
      method: 'post',
      path: '/v1/erasure-requests',
      operationId: 'requestErasure',
      summary:
        "GDPR Art. 17 erasure by the data's controller (either party for agreement terms, the controller for dataset subject data): purges the private data on every member peer, keeps its hash, and answers the receipt. An agreement's terms are kept (409 naming target.agreementId) while it is accepted with a milestone not yet ended, and their data subject is one of its two parties (422 naming dataSubject otherwise); an offer whose terms were erased can no longer be accepted",
      tag: 'erasure',
      command: true,
      access: 'provenance:write',
      body: requestErasureBodySchema,
      response: committedSchema(erasureReceiptSchema),
      status: 201,
      errors: commandErrors,
      handler: async ({ body, setHeader, ...caller }) => {
        const request = body;
        const client = await service.commandClient(routeRequester(caller), 'requestErasure');
        const submitted = await client.requestErasure(request);
        setHeader('Location', `/v1/erasure-receipts/${encodeURIComponent(request.receiptId)}`);
        return committed(submitted, request.requestId);
      },
    }),
    route({
      method: 'get',
      path: '/v1/erasure-receipts/:receiptId',
      operationId: 'getErasureReceipt',
      summary: 'An erasure receipt, for whoever asked, the data subject and auditors',
      tag: 'erasure',
      access: 'provenance:read',
      params: receiptParams,
      query: noQuery,
      response: erasureReceiptSchema,
      errors: readErrors,
      handler: ({ params, ...caller }) => service.getReceipt(routeRequester(caller), params.receiptId),
    }),
    route({
      method: 'get',
      path: '/v1/erasure-receipts/:receiptId/verification',
      operationId: 'verifyErasure',
      summary:
        "Checks a receipt against the ledger now (the hash it names is the record's, the key is marked erased by it, the collection's hash is gone) and gives the erasure's block",
      tag: 'erasure',
      access: 'provenance:read',
      params: receiptParams,
      query: noQuery,
      response: erasureVerificationResponseSchema,
      errors: readErrors,
      handler: ({ params, ...caller }) => service.verifyReceipt(routeRequester(caller), params.receiptId),
    }),
  ];
}
