import { z } from 'zod';
import { agreementIdSchema, proofReaderRoles, type AuditScope } from '@gigledger/chaincode/model';
import { proofBundleSchema, TransactionNotFoundError, type ProofBundle, type ProofExporter } from '@gigledger/gateway';
import type { Logger } from 'pino';
import { ApiError, forbidden, notFound, unauthenticated } from '../errors/api-error.js';
import { route, type RouteSpec } from '../http/route.js';
import type { Principal } from '../auth/principal.js';
import { AgreementService } from '../agreements/agreement-service.js';
import { routeRequester } from '../http/route-requester.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { AuditScopes } from '../audit/audit-scopes.js';
import { bundleTransaction } from './bundle-transaction.js';
import { reachesTransaction, transactionReach } from './transaction-reach.js';

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
 * Exports proof bundles for callers allowed to hold them, under the block explorer's
 * rule (`transactionReach`): an auditor only proofs of transactions created by members of
 * an organisation whose live audit grant names `transaction`, at a time within the grant's
 * range (403 NO_AUDIT_GRANT otherwise, as the chaincode answers an ungranted read); an
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
    if (this.exporter === undefined)
      throw new ApiError(503, 'PROOFS_UNAVAILABLE', 'this server is not configured to read blocks');
    let bundle: ProofBundle;
    try {
      bundle = await this.exporter.exportProof(transactionId);
    } catch (error) {
      if (error instanceof TransactionNotFoundError) throw notFound(`transaction ${transactionId}`);
      log.error({ err: error, transactionId }, 'proof export failed');
      throw new ApiError(503, 'PROOFS_UNAVAILABLE', `the proof of ${transactionId} could not be read; try again later`);
    }
    const transaction = bundleTransaction(bundle);
    const reach = transactionReach(reader, reader.role === 'auditor' ? await this.scopeOf?.(reader) : undefined);
    if (reachesTransaction(reach, transaction)) return bundle;
    // An auditor outside its grants meets the same 404 as for an unknown id, as in the
    // explorer: a refusal naming the creator and the time would tell which ids exist.
    throw notFound(`transaction ${transactionId}`);
  }
}

/**
 * Proof bundles over REST: `GET /v1/proofs/{transactionId}`, and the proof of the last
 * transaction that wrote an agreement (`GET /v1/proofs/records/agreement/{agreementId}`,
 * from the record's key history read as the caller, so a record the caller cannot read
 * is 404 as well).
 */
export function proofRoutes(deps: {
  proofs?: ProofExporter | undefined;
  ledger: LedgerAccess;
  log: Logger;
}): RouteSpec[] {
  const scopes = new AuditScopes(deps.ledger);
  const service = new ProofService(deps.proofs, (principal) => scopes.scopeFor(principal, deps.log));
  const agreements = new AgreementService(deps.ledger);
  return [
    route({
      method: 'get',
      path: '/v1/proofs/:transactionId',
      operationId: 'getTransactionProof',
      summary:
        'The offline-verifiable proof bundle of a committed transaction (auditors: any; admins: their organisation’s); check it with `npm run verify-proof`',
      tag,
      access: 'proofs:read',
      params: z.strictObject({ transactionId: transactionIdSchema }),
      query: noQuery,
      response: proofBundleSchema,
      errors: [404, 503],
      handler: ({ params, principal, log }) => service.proofOf(principal, params.transactionId, log),
    }),
    route({
      method: 'get',
      path: '/v1/proofs/records/agreement/:agreementId',
      operationId: 'getAgreementProof',
      summary: 'The proof bundle of the last transaction that wrote an agreement (same rules as a transaction’s proof)',
      tag,
      access: 'proofs:read',
      params: z.strictObject({ agreementId: agreementIdSchema }),
      query: noQuery,
      response: proofBundleSchema,
      errors: [404, 503],
      handler: async ({ params, principal, log }) => {
        const reader = proofReader(principal);
        const view = await agreements.getAgreement(routeRequester({ principal: reader, log }), params.agreementId);
        const [latest] = view.history;
        if (latest === undefined) throw notFound(`agreement ${params.agreementId}`);
        try {
          return await service.proofOf(reader, latest.txId, log);
        } catch (error) {
          // Named by the record the caller asked for, not by a transaction id it may not see.
          if (error instanceof ApiError && error.status === 404) {
            throw notFound(`the last transaction of agreement ${params.agreementId}`);
          }
          throw error;
        }
      },
    }),
  ];
}
