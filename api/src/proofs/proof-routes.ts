import { z } from 'zod';
import { proofReaderRoles, type AuditScope } from '@gigledger/chaincode/model';
import {
  proofBundleSchema,
  TransactionNotFoundError,
  UnprovableTransactionError,
  type BlockContents,
  type LedgerClient,
  type LocatedTransaction,
  type ProofBundle,
  type ProofExporter,
} from '@gigledger/gateway';
import type { Logger } from 'pino';
import { ApiError, forbidden, invalidInput, notFound, unauthenticated } from '../errors/api-error.js';
import { errorBody } from '../errors/error-handler.js';
import { route, type RouteSpec } from '../http/route.js';
import type { Principal } from '../auth/principal.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { AuditScopes } from '../audit/audit-scopes.js';
import {
  provableKindNames,
  provableKinds,
  withRecord,
  type ProvableKindName,
  type RecordWriter,
} from './record-proofs.js';
import { reachesTransaction, transactionReach, type TransactionReach } from './transaction-reach.js';

const tag = 'proofs';
/** Fabric transaction ids are the hex SHA-256 of nonce and creator. */
export const transactionIdSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be a Fabric transaction id: 64 lowercase hexadecimal characters');
const noQuery = z.strictObject({});

/**
 * The caller, when its role may export proofs at all.
 *
 * @throws ApiError 401 without a caller, 403 for a role outside `proofReaderRoles`.
 */
function proofReader(principal: Principal | undefined): Principal {
  if (principal === undefined) throw unauthenticated();
  if (!proofReaderRoles.includes(principal.role))
    throw forbidden(`role ${principal.role} may not export proofs (roles: ${proofReaderRoles.join(', ')})`);
  return principal;
}

/**
 * Refuses a bundle whose block holds a transaction outside the caller's reach. A bundle
 * carries its whole block's data (Fabric hashes a block's envelopes as one), so handing it
 * over shows every transaction of the block, arguments and public writes in clear.
 *
 * @param field where the caller named the transaction or record (`transactionId`, `id`).
 * @throws ApiError 403 BLOCK_NOT_COVERED naming the block, not whose transactions it holds.
 */
function assertBlockWithinReach(block: BlockContents, reach: TransactionReach, field: string): void {
  const outside = block.transactions.filter((transaction) => !reachesTransaction(reach, transaction));
  if (outside.length === 0) return;
  throw new ApiError(
    403,
    'BLOCK_NOT_COVERED',
    `the proof carries the whole of block ${String(block.blockNumber)}, and ${String(outside.length)} of its transactions are outside what you may read` +
      (reach.kind === 'granted'
        ? ' (your live grants naming transaction do not cover their organisations and times)'
        : ' (an admin reads only its own organisation’s transactions)'),
    field,
  );
}

/**
 * Exports proof bundles for callers allowed to hold them, under the block explorer's
 * rule (`transactionReach`): an auditor only proofs of transactions created by members of
 * an organisation whose live audit grant names `transaction`, at a time within the grant's
 * range (otherwise the 404 of an unknown id, as every read by id outside the grants); an
 * organisation's admin only those of transactions created by an identity of its own
 * MSP; for anyone else (and for unknown ids) the transaction does not exist, so that the
 * answer does not reveal which ids are on the ledger.
 */
export class ProofService {
  /** @param scopeOf an auditor's live grants (`AuditScopes`); without it no auditor may export. */
  constructor(
    private readonly exporter: ProofExporter | undefined,
    private readonly scopeOf?: (principal: Principal) => Promise<AuditScope | undefined>,
  ) {}

  /**
   * @throws ApiError 401/403 for callers without a proof-reading role, 404 for an unknown
   * or invisible transaction, 503 when the server has no exporter or the peer cannot be read.
   */
  async proofOf(principal: Principal | undefined, transactionId: string, log: Logger): Promise<ProofBundle> {
    const reader = proofReader(principal);
    const reach = await this.reachOf(reader);
    // Judged on the transaction's block alone, before the bundle (several more blocks read,
    // and at times every block from there up) is built: a refusal costs
    // one block read, near an unknown id's one failed look-up, whatever the chain's height.
    // An auditor outside its grants meets the same 404 as for an unknown id, as in the explorer.
    const { block, transaction } = await this.located(transactionId, log);
    if (!reachesTransaction(reach, transaction)) throw notFound(`transaction ${transactionId}`, 'transactionId');
    assertBlockWithinReach(block, reach, 'transactionId');
    return this.exported(transactionId, log);
  }

  private async reachOf(reader: Principal): Promise<TransactionReach> {
    return transactionReach(reader, reader.role === 'auditor' ? await this.scopeOf?.(reader) : undefined);
  }

  /**
   * The proof of the transaction that last wrote a record, for a caller that may read the
   * record through the chaincode (the chaincode judges, audit grants included): the
   * bundle's `record` names the record and the key it is held under. The record's own
   * visibility governs, not the transaction's: what the bundle shows is that record's write.
   *
   * @throws ApiError 401/403 for callers without a proof-reading role, 404 for a record
   * the caller cannot read or that does not exist (one answer for both), 503 as `proofOf`.
   */
  async proofOfRecord(
    principal: Principal | undefined,
    kind: ProvableKindName,
    id: string,
    client: (reader: Principal) => Promise<LedgerClient>,
    log: Logger,
  ): Promise<ProofBundle> {
    const reader = proofReader(principal);
    let writer: RecordWriter;
    try {
      writer = await provableKinds[kind].writer(await client(reader), id);
    } catch (error) {
      const { status } = errorBody(error, '');
      // Refused and unknown alike: a refusal naming a grant would tell that the record exists.
      if (status === 403 || status === 404) throw notFound(`${kind} ${id}`, 'id');
      throw error;
    }
    // The record's visibility lets the caller see the record; the bundle shows its whole block besides.
    assertBlockWithinReach((await this.located(writer.transactionId, log)).block, await this.reachOf(reader), 'id');
    const bundle = await this.exported(writer.transactionId, log);
    const proven = withRecord(bundle, kind, id);
    if (proven === undefined) {
      log.error({ kind, id, transactionId: writer.transactionId }, 'the record’s last writer holds no value of it');
      throw new ApiError(
        503,
        'PROOFS_UNAVAILABLE',
        `the proof of ${kind} ${id} could not be assembled; try again later`,
      );
    }
    return proven;
  }

  /** @throws ApiError 404 for an unknown transaction, 503 without an exporter or a readable peer. */
  private async located(transactionId: string, log: Logger): Promise<LocatedTransaction> {
    return this.fromExporter(transactionId, log, (exporter) => exporter.locate(transactionId));
  }

  /** @throws ApiError 404 for an unknown transaction, 422 for one no proof of the chaincode covers, 503 without an exporter or a readable peer. */
  private async exported(transactionId: string, log: Logger): Promise<ProofBundle> {
    return this.fromExporter(transactionId, log, (exporter) => exporter.exportProof(transactionId));
  }

  private async fromExporter<T>(
    transactionId: string,
    log: Logger,
    read: (exporter: ProofExporter) => Promise<T>,
  ): Promise<T> {
    if (this.exporter === undefined)
      throw new ApiError(503, 'PROOFS_UNAVAILABLE', 'this server is not configured to read blocks');
    try {
      return await read(this.exporter);
    } catch (error) {
      if (error instanceof TransactionNotFoundError) throw notFound(`transaction ${transactionId}`, 'transactionId');
      if (error instanceof UnprovableTransactionError)
        throw new ApiError(422, 'TRANSACTION_NOT_PROVABLE', error.message, 'path.transactionId');
      log.error({ err: error, transactionId }, 'proof export failed');
      throw new ApiError(503, 'PROOFS_UNAVAILABLE', `the proof of ${transactionId} could not be read; try again later`);
    }
  }
}

/** The proof service of an app: the exporter, and auditors' scopes read from their grants on the ledger. */
export function proofService(deps: {
  proofs?: ProofExporter | undefined;
  ledger: LedgerAccess;
  log: Logger;
}): ProofService {
  const scopes = new AuditScopes(deps.ledger);
  return new ProofService(deps.proofs, (principal) => scopes.scopeFor(principal, deps.log));
}

/**
 * Proof bundles over REST: `GET /v1/proofs/{transactionId}`, and the proof of the last
 * transaction that wrote a record (`GET /v1/proofs/records/{kind}/{id}`, the record read
 * through the chaincode as the caller, so a record the caller cannot read is 404 as well).
 */
export function proofRoutes(deps: {
  proofs?: ProofExporter | undefined;
  ledger: LedgerAccess;
  log: Logger;
}): RouteSpec[] {
  const service = proofService(deps);
  return [
    route({
      method: 'get',
      path: '/v1/proofs/:transactionId',
      operationId: 'getTransactionProof',
      summary:
        'The offline-verifiable proof bundle of a committed transaction (auditors: under grants naming transaction; admins: their organisation’s); it carries the whole block, so 403 BLOCK_NOT_COVERED unless the caller may read every transaction of it; check it with `npm run verify-proof`',
      tag,
      access: 'proofs:read',
      params: z.strictObject({ transactionId: transactionIdSchema }),
      query: noQuery,
      response: proofBundleSchema,
      errors: [403, 404, 503],
      handler: ({ params, principal, log }) => service.proofOf(principal, params.transactionId, log),
    }),
    route({
      method: 'get',
      path: '/v1/proofs/records/:kind/:id',
      operationId: 'getRecordProof',
      summary: `The proof bundle of the last transaction that wrote a record, with the key it wrote (\`record\`); kinds: ${provableKindNames.join(', ')}. Visible to those who may read the record (auditors under a grant covering it); otherwise 404. Like every bundle it carries its whole block, so it is refused 403 BLOCK_NOT_COVERED unless the caller may read every transaction of that block`,
      tag,
      access: 'proofs:read',
      params: z.strictObject({ kind: z.enum(provableKindNames), id: z.string().min(1).max(200) }),
      query: noQuery,
      response: proofBundleSchema,
      errors: [403, 404, 422, 503],
      handler: async ({ params, principal, log }) => {
        const id = provableKinds[params.kind].id.safeParse(params.id);
        if (!id.success) throw invalidInput('path.id', id.error.issues[0]?.message ?? `not a ${params.kind} id`);
        return service.proofOfRecord(
          principal,
          params.kind,
          id.data,
          (reader) => deps.ledger.clientFor(reader, log),
          log,
        );
      },
    }),
  ];
}
