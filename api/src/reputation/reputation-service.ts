import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  agreementIdSchema,
  attestationRecordSchema,
  attestRequestSchema,
  completionRecordSchema,
  milestoneIdSchema,
  partySchema,
  ratingSchema,
  skillLevelSchema,
  skillSchema,
  type AttestationRecord,
  type CompletionRecord,
  type Party,
  type Reputation,
} from '@gigledger/chaincode/model';
import type { LedgerClient, SigningIdentity } from '@gigledger/gateway';
import type { LedgerBlocks } from '@gigledger/gateway';
import { ApiError, forbidden } from '../errors/api-error.js';
import { optionalRequestIdSchema } from '../http/request-ids.js';
import { parseInput } from '../http/route.js';
import { committed, committedSchema, type Committed } from '../ledger/committed.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { Requester } from '../ledger/requester.js';
import { visible } from '../ledger/visible.js';
import {
  signStatement,
  statementType,
  statementVersion,
  verifyStatement,
  type ReputationStatement,
  type StatementVerdict,
} from './statement.js';

export const completionBodySchema = z.strictObject({
  requestId: optionalRequestIdSchema,
  agreementId: agreementIdSchema,
  milestoneId: milestoneIdSchema,
  rating: ratingSchema,
});

export const attestationBodySchema = z.strictObject({
  requestId: optionalRequestIdSchema,
  subject: partySchema,
  agreementId: agreementIdSchema,
  attesterAgreementId: agreementIdSchema,
  /** Folded to lower case, so `PyTorch` and `pytorch` count as one skill. */
  skill: z.string().trim().toLowerCase().pipe(skillSchema),
  level: skillLevelSchema,
  comment: z.string().optional(),
});

export const recordedCompletionSchema = committedSchema(completionRecordSchema);
export const recordedAttestationSchema = committedSchema(attestationRecordSchema);

/** What the reputation features need from the application. */
export interface ReputationDependencies {
  readonly ledger: LedgerAccess;
  /** The channel height for statements; without it statements answer 503. */
  readonly ledgerBlocks?: LedgerBlocks | undefined;
  /** The organisation operator's identity, which signs statements; without it statements answer 503. */
  readonly statementSigner?: SigningIdentity | undefined;
  /**
   * CA certificates (PEM) of the consortium's organisations by MSP id, which a statement's
   * signer must chain to; without them statement verification answers 503.
   */
  readonly statementAuthorities?: ReadonlyMap<string, string> | undefined;
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

  async #client(as: Requester): Promise<LedgerClient> {
    return this.#deps.ledger.clientFor(as.principal, as.log);
  }

  /**
   * The client rates a finished milestone from 1 to 5.
   *
   * @throws ApiError 404 when the caller cannot read the agreement.
   * @throws RefusedError FORBIDDEN unless the agreement's client calls; INVALID_STATE before
   *   the work is finished; ALREADY_EXISTS when already rated.
   */
  async recordCompletion(
    as: Requester,
    body: z.output<typeof completionBodySchema> & { requestId: string },
  ): Promise<Committed<CompletionRecord>> {
    const client = await this.#client(as);
    // Someone else's agreement is answered like a missing one.
    await visible(`agreement ${body.agreementId}`, 'agreementId', () =>
      client.agreements.getAgreement({ agreementId: body.agreementId }),
    );
    const submitted = await client.reputation.recordCompletion(body);
    return committed(submitted, body.requestId);
  }

  /**
   * A freelancer vouches for another's skill on work they shared.
   *
   * @throws ApiError 404 when the caller cannot read the agreement named as their own; 422 naming the field.
   * @throws RefusedError FORBIDDEN unless a freelancer calls and the work was shared.
   */
  async attest(
    as: Requester,
    body: z.output<typeof attestationBodySchema> & { requestId: string },
  ): Promise<Committed<AttestationRecord>> {
    const request = parseInput(
      attestRequestSchema,
      {
        requestId: body.requestId,
        subject: body.subject,
        agreementId: body.agreementId,
        attesterAgreementId: body.attesterAgreementId,
        skill: body.skill,
        level: body.level,
        ...(body.comment === undefined ? {} : { comment: body.comment }),
      },
      'body',
    );
    const client = await this.#client(as);
    await visible(`agreement ${body.attesterAgreementId}`, 'attesterAgreementId', () =>
      client.agreements.getAgreement({ agreementId: body.attesterAgreementId }),
    );
    const submitted = await client.reputation.attest(request);
    return committed(submitted, request.requestId);
  }

  /**
   * The score with its components and the records it rests on; reputation is open to every reader.
   *
   * @throws RefusedError VALIDATION_FAILED (`mspId`) for a subject without records of an
   *   organisation that is no member of the consortium.
   */
  async reputationOf(as: Requester, subject: Party): Promise<Reputation> {
    return (await this.#client(as)).reputation.reputationOf(subject);
  }

  /**
   * Verifies a statement against the CA of the organisation its signature names, as
   * `verify-statement` does offline with a CA file: for verifiers who would rather ask
   * this server than hold the consortium's CA certificates.
   *
   * @param statement the statement exactly as received (keys the schema does not know
   *   still count: they break the signature).
   * @throws ApiError 503 when the server holds no organisation's CA certificate.
   */
  verifyStatement(statement: unknown): StatementVerdict {
    const authorities = this.#deps.statementAuthorities;
    if (authorities === undefined || authorities.size === 0) {
      throw new ApiError(
        503,
        'STATEMENT_VERIFICATION_UNAVAILABLE',
        'this server holds no CA certificate to verify with',
      );
    }
    const signature = (statement as { signature?: { mspId?: unknown } } | null)?.signature;
    const mspId = typeof signature?.mspId === 'string' ? signature.mspId : undefined;
    const authority = mspId === undefined ? undefined : authorities.get(mspId);
    if (mspId !== undefined && authority === undefined) {
      return {
        valid: false,
        reasons: [
          {
            code: 'UNKNOWN_ORGANISATION',
            message: `the signature names ${mspId}, which is not an organisation of this consortium`,
          },
        ],
      };
    }
    // Without an MSP id the statement is malformed; any CA lets verifyStatement say so in its words.
    return verifyStatement(statement, authority ?? [...authorities.values()][0] ?? '');
  }

  /**
   * The caller's own reputation as a statement signed by this server's organisation,
   * which anyone holding the organisation's CA certificate can verify offline.
   *
   * @throws ApiError 403 unless a freelancer calls; 503 when the server has no signer or cannot read the height.
   */
  async exportStatement(as: Requester): Promise<ReputationStatement> {
    const { principal, log } = as;
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
    const reputation = await this.reputationOf(as, subject);
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
