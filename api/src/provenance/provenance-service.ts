import { withTermsSalt } from '../agreements/terms-salt.js';
import type { AccountService } from '../auth/account-service.js';
import { requireKnownParties } from '../auth/known-parties.js';
import type { LedgerBlocks } from '@gigledger/gateway';
import {
  datasetSubjectDataTransientKey,
  provenanceCommandRoles,
  type DatasetSubjectData,
  type ProvenanceCommand,
  type RequestOf,
  type provenanceTransactions,
} from '@gigledger/chaincode/model';
import { requireOneOfRoles } from '../agreements/agreement-gates.js';
import { ApiError } from '../errors/api-error.js';
import { fieldsUnder } from '../http/refusal-fields.js';
import { committed } from '../ledger/committed.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { Requester } from '../ledger/requester.js';
import { visible } from '../ledger/visible.js';

type Spec = typeof provenanceTransactions;

/** What each provenance command does, for the API's role refusal. */
const commandActions: Readonly<Record<ProvenanceCommand, string>> = {
  registerDataset: 'register a dataset',
  registerModel: 'register a model',
  grantAccess: 'grant access to a dataset',
  revokeAccess: 'revoke access to a dataset',
  recordAccess: 'use a dataset access grant',
  requestErasure: 'request the erasure of personal data',
};

export interface ProvenanceDependencies {
  readonly ledger: LedgerAccess;
  /** Who this server enrols: a grant's grantee in one of its organisations must exist. */
  readonly accounts: Pick<AccountService, 'roleOfIdentity'>;
  /** Looks up the block of an erasure; verification answers 503 without it. */
  readonly ledgerBlocks?: LedgerBlocks | undefined;
}

/**
 * Provenance over the ledger as the caller. Commands are refused at the edge to roles
 * the chaincode's table leaves out; the chaincode checks the person (controller,
 * grantee). Grant and receipt reads answer 404 to whoever may not read them.
 */
export class ProvenanceService {
  readonly #deps: ProvenanceDependencies;

  constructor(deps: ProvenanceDependencies) {
    this.#deps = deps;
  }

  async client(as: Requester) {
    return (await this.#deps.ledger.clientFor(as.principal, as.log)).provenance;
  }

  /** @throws ApiError 403 naming the roles the command needs. */
  async commandClient(as: Requester, command: ProvenanceCommand) {
    requireOneOfRoles(as.principal, provenanceCommandRoles[command], commandActions[command]);
    return this.client(as);
  }

  /**
   * Grants a party access to a dataset as its controller.
   *
   * @param part where the request's fields were sent: `body` (REST) or `input` (GraphQL).
   * @throws ApiError 403 for a role that may not grant; 422 `<part>.grantee.userId` for a
   *   grantee this server enrols who does not exist (see requireKnownParties).
   * @throws RefusedError from the chaincode (chaincode validation reported under `part`).
   */
  async grantAccess(
    as: Requester,
    request: RequestOf<Spec['grantAccess']> & { requestId: string },
    part: 'body' | 'input',
  ) {
    const client = await this.commandClient(as, 'grantAccess');
    await requireKnownParties(this.#deps.accounts, [{ party: request.grantee, field: `${part}.grantee` }]);
    return fieldsUnder(part, () => client.grantAccess(request));
  }

  /**
   * Registers a dataset; subject data travels in the transient map to member peers only,
   * with a salt added when it has none.
   * Chaincode validation is reported under `part` (`body` for REST, `input` for GraphQL).
   */
  async registerDataset(
    as: Requester,
    request: RequestOf<Spec['registerDataset']> & { requestId: string },
    subjectData: DatasetSubjectData | undefined,
    part = 'body',
  ) {
    const client = await this.commandClient(as, 'registerDataset');
    const submitted = await fieldsUnder(part, () =>
      client.registerDataset(
        request,
        subjectData === undefined
          ? {}
          : {
              // Salted as terms are (see withTermsSalt): the same request again keeps its hash.
              transient: {
                [datasetSubjectDataTransientKey]: withTermsSalt(subjectData, [
                  'dataset subject data',
                  as.principal.mspId,
                  as.principal.userId,
                  request.requestId,
                ]),
              },
            },
      ),
    );
    return committed(submitted, request.requestId);
  }

  async getGrant(as: Requester, grantId: string) {
    const client = await this.client(as);
    return visible(`access grant ${grantId}`, 'grantId', () => client.getAccessGrant({ grantId }));
  }

  async getReceipt(as: Requester, receiptId: string) {
    const client = await this.client(as);
    return visible(`erasure receipt ${receiptId}`, 'receiptId', () => client.getErasureReceipt({ receiptId }));
  }

  /**
   * A receipt checked against the ledger, with the block holding the erasure.
   *
   * @throws ApiError 404 unless the caller may read the receipt; 503 when blocks cannot be looked up.
   */
  async verifyReceipt(as: Requester, receiptId: string) {
    const client = await this.client(as);
    const verification = await visible(`erasure receipt ${receiptId}`, 'receiptId', () =>
      client.verifyErasure({ receiptId }),
    );
    const blocks = this.#deps.ledgerBlocks;
    if (blocks === undefined) {
      throw new ApiError(503, 'LEDGER_BLOCKS_UNAVAILABLE', 'this server is not configured to look up blocks');
    }
    const blockNumber = await blocks.blockNumberOf(verification.receipt.txId);
    return { ...verification, blockNumber: blockNumber.toString() };
  }
}
