import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  agreementIdSchema,
  attestationRecordSchema,
  attestRequestSchema,
  completionRecordSchema,
  milestoneIdSchema,
  partySchema,
  ratingSchema,
  requestIdSchema,
  skillLevelSchema,
  skillSchema,
  type Party,
  type Reputation,
} from '@gigledger/chaincode/model';
import type { LedgerClient, SigningIdentity } from '@gigledger/gateway';
import type { Principal } from '../auth/principal.js';
import { ApiError, forbidden } from '../errors/api-error.js';
import { parseInput } from '../http/route.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { LedgerBlocks } from '@gigledger/gateway';
import { transactionOf, transactionRefSchema, visible } from '../credentials/ledger-results.js';
import { signStatement, statementType, statementVersion, type ReputationStatement } from './statement.js';

export const completionBodySchema = z.strictObject({
  /** Makes the call safe to repeat; one is generated when left out. */
  requestId: requestIdSchema.optional(),
  agreementId: agreementIdSchema,
  milestoneId: milestoneIdSchema,
  rating: ratingSchema,
});

export const attestationBodySchema = z.strictObject({
  requestId: requestIdSchema.optional(),
  subject: partySchema,
  agreementId: agreementIdSchema,
  attesterAgreementId: agreementIdSchema,
  /** Folded to lower case, so `PyTorch` and `pytorch` count as one skill. */
  skill: z.string().trim().toLowerCase().pipe(skillSchema),
  level: skillLevelSchema,
  comment: z.string().optional(),
});

export const recordedCompletionSchema = z.object({
  completion: completionRecordSchema,
  transaction: transactionRefSchema,
});
export const recordedAttestationSchema = z.object({
  attestation: attestationRecordSchema,
  transaction: transactionRefSchema,
});

/** What the reputation features need from the application. */
export interface ReputationDependencies {
  readonly ledger: LedgerAccess;
  /** The channel height for statements; without it statements answer 503. */
  readonly ledgerBlocks?: LedgerBlocks | undefined;
  /** The organisation operator's identity, which signs statements; without it statements answer 503. */
  readonly statementSigner?: SigningIdentity | undefined;
}

/**
 * Completions, attestations, scores and signed portable statements over the reputation
 * contract. Calls run with the caller's own Fabric identity.
 */
export class ReputationService {
  readonly #deps: ReputationDependencies;

  constructor(deps: ReputationDependencies) {
    this.#deps = deps;
  }

  async #client(principal: Principal, log: Logger): Promise<LedgerClient> {
    return this.#deps.ledger.clientFor(principal, log);
  }

  /**
   * The client rates a finished milestone from 1 to 5.
   *
   * @throws ApiError 404 when the caller cannot read the agreement.
   * @throws RefusedError FORBIDDEN unless the agreement's client calls; INVALID_STATE before
   *   the work is finished; ALREADY_EXISTS when already rated.
   */
  async recordCompletion(
    principal: Principal,
    log: Logger,
    body: z.output<typeof completionBodySchema>,
  ): Promise<z.output<typeof recordedCompletionSchema>> {
    const client = await this.#client(principal, log);
    // Someone else's agreement is answered like a missing one.
    await visible(`agreement ${body.agreementId}`, () =>
      client.agreements.getAgreement({ agreementId: body.agreementId }),
    );
    const submitted = await client.reputation.recordCompletion({ ...body, requestId: body.requestId ?? randomUUID() });
    return { completion: submitted.result, transaction: transactionOf(submitted) };
  }

  /**
   * A freelancer vouches for another's skill on work they shared.
   *
   * @throws ApiError 404 when the caller cannot read the agreement named as their own; 422 naming the field.
   * @throws RefusedError FORBIDDEN unless a freelancer calls and the work was shared.
   */
  async attest(
    principal: Principal,
    log: Logger,
    body: z.output<typeof attestationBodySchema>,
  ): Promise<z.output<typeof recordedAttestationSchema>> {
    const request = parseInput(
      attestRequestSchema,
      {
        requestId: body.requestId ?? randomUUID(),
        subject: body.subject,
        agreementId: body.agreementId,
        attesterAgreementId: body.attesterAgreementId,
        skill: body.skill,
        level: body.level,
        ...(body.comment === undefined ? {} : { comment: body.comment }),
      },
      'body',
    );
    const client = await this.#client(principal, log);
    await visible(`agreement ${body.attesterAgreementId}`, () =>
      client.agreements.getAgreement({ agreementId: body.attesterAgreementId }),
    );
    const submitted = await client.reputation.attest(request);
    return { attestation: submitted.result, transaction: transactionOf(submitted) };
  }

  /** The score with its components and the records it rests on; reputation is open to every reader. */
  async reputationOf(principal: Principal, log: Logger, subject: Party): Promise<Reputation> {
    return (await this.#client(principal, log)).reputation.reputationOf(subject);
  }

  /**
   * The caller's own reputation as a statement signed by this server's organisation,
   * which anyone holding the organisation's CA certificate can verify offline.
   *
   * @throws ApiError 403 unless a freelancer calls; 503 when the server has no signer or cannot read the height.
   */
  async exportStatement(principal: Principal, log: Logger): Promise<ReputationStatement> {
    if (principal.role !== 'freelancer') {
      throw forbidden(
        `reputation statements are exported by freelancers about themselves; the caller has role ${principal.role}`,
      );
    }
    const signer = this.#deps.statementSigner;
    const blocks = this.#deps.ledgerBlocks;
    if (signer === undefined || blocks === undefined) {
      throw new ApiError(
        503,
        'STATEMENT_SIGNING_UNAVAILABLE',
        'this server is not configured to sign reputation statements',
      );
    }
    const subject = { mspId: principal.mspId, userId: principal.userId };
    const reputation = await this.reputationOf(principal, log, subject);
    let height: bigint;
    try {
      // Read after the score, so every record the score rests on lies below this height.
      height = await blocks.height();
    } catch (error) {
      log.error({ err: error }, 'reading the ledger height failed');
      throw new ApiError(503, 'LEDGER_BLOCKS_UNAVAILABLE', 'the ledger height could not be read; try again later');
    }
    return signStatement(
      {
        type: statementType,
        version: statementVersion,
        statementId: `urn:uuid:${randomUUID()}`,
        issuedAt: new Date().toISOString(),
        issuer: { mspId: signer.mspId },
        subject,
        reputation,
        ledger: { blockHeight: height.toString() },
      },
      signer,
    );
  }
}
