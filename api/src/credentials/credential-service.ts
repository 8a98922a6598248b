import type { AccountService } from '../auth/account-service.js';
import { requirePersonFor } from '../auth/person-only.js';
import { requireKnownParties } from '../auth/known-parties.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ClaimSalts } from './claim-salts.js';
import {
  credentialOrganisationReaderRoles,
  credentialReaderRoles,
  claimNameSchema,
  claimValueSchema,
  credentialClaimsSchema,
  credentialClaimsTransientKey,
  credentialIdSchema,
  credentialRecordSchema,
  credentialStatusSchema,
  credentialTypeSchema,
  issueCredentialRequestSchema,
  isoInstantSchema,
  listIssuersRequestSchema,
  maxClaimsPerCredential,
  partySchema,
  presentationVerdictSchema,
  registerIssuerRequestSchema,
  credentialTransactions,
  saltedClaimSchema,
  verificationReasonCodeSchema,
  type CredentialRecord,
  type CredentialStatus,
  type CredentialType,
  type IssuerDetails,
  type IssuerRecord,
  type Party,
  type PresentationVerdict,
  type Role,
  type SaltedClaim,
  type VerifyPresentationRequest,
} from '@gigledger/chaincode/model';
import type { LedgerClient } from '@gigledger/gateway';
import type { LedgerBlocks } from '@gigledger/gateway';
import { ApiError, forbidden, invalidInput } from '../errors/api-error.js';
import { commandBodySchema, optionalRequestIdSchema } from '../http/request-ids.js';
import { parseInput } from '../http/route.js';
import { committed, committedSchema, type Committed, type CommandRequest } from '../ledger/committed.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import type { PublicRequester, Requester } from '../ledger/requester.js';
import { visible, visibleToReaders } from '../ledger/visible.js';
import {
  ledgerPageShape,
  readEveryLedgerPage,
  readLedgerPage,
  type LedgerPage,
  type LedgerPageQuery,
} from '../http/ledger-pages.js';
import {
  documentMismatches,
  partyOfUrn,
  toVerifiableCredential,
  type DocumentMismatch,
  type ImportedCredential,
  type VerifiableCredential,
} from './w3c-credential.js';

/** Names given in a list must not repeat. */
function uniqueNames<T>(name: (item: T) => string, what: string) {
  return (items: readonly T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      if (seen.has(name(item)))
        ctx.addIssue({ code: 'custom', message: `repeats ${what} ${name(item)}`, path: [index] });
      seen.add(name(item));
    });
  };
}

export const registerIssuerBodySchema = z.strictObject({
  requestId: optionalRequestIdSchema,
  displayName: registerIssuerRequestSchema.shape.displayName,
  credentialTypes: registerIssuerRequestSchema.shape.credentialTypes,
});

export const removeIssuerBodySchema = commandBodySchema(credentialTransactions.removeIssuer.request, ['issuer']);

/** A status change's body: why, and the request id that makes it safe to repeat. */
export const statusChangeBodySchema = commandBodySchema(credentialTransactions.suspendCredential.request, [
  'credentialId',
]);

/** The chaincode's own filter: by status, and by a type the current grant includes. */
export const issuerFilterSchema = listIssuersRequestSchema;

/** A claim as the issuer states it; the API adds the salt. */
export const claimInputSchema = z.strictObject({ name: claimNameSchema, value: claimValueSchema });

export const issueCredentialBodySchema = z.strictObject({
  /**
   * Salts are drawn afresh for every call, so repeating an issuance with the same request
   * id is refused (409 REQUEST_ID_REUSED) rather than replayed; after a lost response, the
   * subject can still read the claims of the credential that was issued.
   */
  requestId: optionalRequestIdSchema,
  /** `urn:uuid:<random>` when left out. */
  credentialId: credentialIdSchema.optional(),
  subject: partySchema,
  type: credentialTypeSchema,
  issuanceDate: isoInstantSchema.optional(),
  expirationDate: isoInstantSchema.optional(),
  claims: z
    .array(claimInputSchema)
    .min(1, 'must have at least one claim')
    .max(maxClaimsPerCredential, `must have at most ${maxClaimsPerCredential} claims`)
    .superRefine(uniqueNames((claim) => claim.name, 'claim name')),
});
export type IssueCredentialBody = z.output<typeof issueCredentialBodySchema>;

export const credentialListQuerySchema = z.strictObject({
  /** Credentials the caller holds (default) or issued. */
  as: z.enum(['holder', 'issuer']).default('holder'),
  type: credentialTypeSchema.optional(),
  status: credentialStatusSchema.optional(),
  ...ledgerPageShape,
});

export const presentationBodySchema = z.strictObject({
  /** Names of the claims to disclose; may be empty to prove only that the credential is valid. */
  reveal: z
    .array(claimNameSchema)
    .max(maxClaimsPerCredential, `must name at most ${maxClaimsPerCredential} claims`)
    .superRefine(uniqueNames((name) => name, 'claim name'))
    .meta({ uniqueItems: true }),
});

/** What issuing a credential returns: the ledger record and, this once, the claims with their salts. */
export const issuedCredentialSchema = z.object({
  /** The ledger record: commitments only. */
  credential: credentialRecordSchema,
  /** Every claim with its salt. Shown once; afterwards only the subject can read them again. */
  claims: z.array(saltedClaimSchema),
});
export type IssuedCredential = z.output<typeof issuedCredentialSchema>;
export const issuedCredentialCommandSchema = committedSchema(issuedCredentialSchema);

export const documentReasonSchema = z.object({
  code: z.union([verificationReasonCodeSchema, z.literal('DOCUMENT_MISMATCH')]),
  message: z.string(),
  claim: z.string().optional(),
  /** The property of the document at fault, for DOCUMENT_MISMATCH. */
  field: z.string().optional(),
});

export const documentVerdictSchema = z.object({
  credentialId: z.string(),
  valid: z.boolean(),
  checkedAt: z.string(),
  /** The chaincode's reasons, then each document property that disagrees with the ledger record. */
  reasons: z.array(documentReasonSchema),
  /** The chaincode's verdict on the disclosed claims, status, expiry and issuer. */
  presentation: presentationVerdictSchema,
});
export type DocumentVerdict = z.output<typeof documentVerdictSchema>;

export type StatusAction = 'suspend' | 'reinstate' | 'revoke';

/** What the credential features need from the application. */
export interface CredentialDependencies {
  readonly ledger: LedgerAccess;
  /** The server's own identity (an organisation operator with role admin): for anonymous verifiers. */
  readonly serviceLedger: LedgerClient;
  /** Block lookups for W3C exports; without them exports answer 503. */
  readonly ledgerBlocks?: LedgerBlocks | undefined;
  /** Salts and credential ids derived per request, so an issuance can be retried. */
  readonly claimSalts: ClaimSalts;
  /** Who this server enrols: a credential's subject in one of its organisations must exist. */
  readonly accounts: Pick<AccountService, 'roleOfIdentity'>;
}

/** Subjects holding credentials that matched a search, with those credentials. */
export interface FreelancerMatch {
  readonly subject: Party;
  readonly credentials: readonly CredentialRecord[];
}

const credentialLabel = (credentialId: string) => `credential ${credentialId}`;

/** Who may search every issuer's credentials: what each finds is what the ledger lets it list. */
const holderSearchRoles: readonly Role[] = [...credentialReaderRoles, ...credentialOrganisationReaderRoles];

/**
 * Issuers, credentials, selective disclosure and W3C exports over the credential
 * contract, for the REST routes and the GraphQL resolvers alike. Every call runs with
 * the caller's own Fabric identity, so the chaincode decides who may do what; reads the
 * chaincode refuses answer 404, as for an object that does not exist.
 */
export class CredentialService {
  readonly #deps: CredentialDependencies;

  constructor(deps: CredentialDependencies) {
    this.#deps = deps;
  }

  /** The caller's ledger client; the server's own for anonymous calls to public operations. */
  async client(as: PublicRequester): Promise<LedgerClient> {
    return as.principal === undefined ? this.#deps.serviceLedger : this.#deps.ledger.clientFor(as.principal, as.log);
  }

  /**
   * Registers an issuer or replaces its grant (a new version each time).
   *
   * @throws ApiError 403 FORBIDDEN when an API key calls (see requirePersonFor).
   * @throws RefusedError FORBIDDEN unless an admin calls; ALREADY_EXISTS when nothing would change.
   */
  async registerIssuer(
    as: Requester,
    issuer: Party,
    body: z.output<typeof registerIssuerBodySchema> & { requestId: string },
  ): Promise<Committed<IssuerRecord>> {
    requirePersonFor(as.principal, 'register an issuer');
    const client = await this.client(as);
    const submitted = await client.credentials.registerIssuer({
      requestId: body.requestId,
      issuer,
      displayName: body.displayName,
      credentialTypes: body.credentialTypes,
    });
    return committed(submitted, body.requestId);
  }

  /**
   * Removes an issuer; what it issued before stays valid.
   *
   * @throws RefusedError NOT_FOUND for an identity that was never an issuer; INVALID_STATE when already removed.
   */
  async removeIssuer(
    as: Requester,
    issuer: Party,
    body: CommandRequest<z.output<typeof removeIssuerBodySchema>>,
  ): Promise<Committed<IssuerRecord>> {
    const client = await this.client(as);
    const submitted = await client.credentials.removeIssuer({ requestId: body.requestId, issuer, reason: body.reason });
    return committed(submitted, body.requestId);
  }

  /** @throws RefusedError NOT_FOUND when the identity was never an issuer. */
  async getIssuer(as: Requester, issuer: Party): Promise<IssuerDetails> {
    return (await this.client(as)).credentials.getIssuer(issuer);
  }

  async listIssuers(as: Requester, filter: z.output<typeof issuerFilterSchema>): Promise<IssuerRecord[]> {
    return (await this.client(as)).credentials.listIssuers(filter);
  }

  /**
   * Issues a credential. The API derives a 32-byte salt per claim from the request id
   * under a server secret ({@link ClaimSalts}: unguessable, and the same on a retry) and
   * sends claims and salts in the transient map, so neither reaches the ordered
   * transaction; the result carries them back to the issuer.
   *
   * @param part Where the caller sent the fields, named in refusals: `body` (REST) or `input` (GraphQL).
   * @throws ApiError 422 naming the field (`<part>.expirationDate` when the dates are out of order;
   *   `<part>.subject.userId` when the subject's organisation is enrolled here and has no
   *   active identity of that user id: the ledger cannot know who exists, this server can).
   * @throws RefusedError FORBIDDEN unless an active issuer whose grant includes the type calls.
   */
  async issue(
    as: Requester,
    body: IssueCredentialBody & { requestId: string },
    part: 'body' | 'input' = 'body',
  ): Promise<Committed<IssuedCredential>> {
    const issuerKey = `${as.principal.mspId}/${as.principal.userId}`;
    const request = parseInput(
      issueCredentialRequestSchema,
      {
        requestId: body.requestId,
        credentialId: body.credentialId ?? this.#deps.claimSalts.credentialId(issuerKey, body.requestId),
        subject: body.subject,
        type: body.type,
        ...(body.issuanceDate === undefined ? {} : { issuanceDate: body.issuanceDate }),
        ...(body.expirationDate === undefined ? {} : { expirationDate: body.expirationDate }),
      },
      part,
    );
    const claims: SaltedClaim[] = parseInput(
      credentialClaimsSchema,
      body.claims.map((claim, index) => ({
        name: claim.name,
        value: claim.value,
        salt: this.#deps.claimSalts.salt(issuerKey, request.requestId, index, claim.name),
      })),
      `${part}.claims`,
    );
    await requireKnownParties(this.#deps.accounts, [{ party: request.subject, field: `${part}.subject` }]);
    const client = await this.client(as);
    const submitted = await client.credentials.issueCredential(request, {
      transient: { [credentialClaimsTransientKey]: claims },
    });
    return committed({ ...submitted, result: { credential: submitted.result, claims } }, request.requestId);
  }

  /**
   * Suspends, reinstates or revokes a credential with a reason.
   *
   * @throws ApiError 404 when the caller cannot read the credential.
   * @throws RefusedError FORBIDDEN unless its issuer calls; INVALID_STATE when the status does not allow it.
   */
  async changeStatus(
    as: Requester,
    action: StatusAction,
    credentialId: string,
    body: CommandRequest<z.output<typeof statusChangeBodySchema>>,
  ): Promise<Committed<CredentialRecord>> {
    const client = await this.client(as);
    // Someone who may not even read the credential learns nothing, not even that it exists.
    await visible(credentialLabel(credentialId), 'credentialId', () =>
      client.credentials.getCredential({ credentialId }),
    );
    const transactions = {
      suspend: client.credentials.suspendCredential,
      reinstate: client.credentials.reinstateCredential,
      revoke: client.credentials.revokeCredential,
    };
    const submitted = await transactions[action]({ requestId: body.requestId, credentialId, reason: body.reason });
    return committed(submitted, body.requestId);
  }

  /** @throws ApiError 404 unless the caller is its subject or issuer, hr, an auditor under a grant, or an admin of the subject's or issuer's organisation. */
  async getCredential(as: Requester, credentialId: string): Promise<CredentialRecord> {
    const client = await this.client(as);
    return visible(credentialLabel(credentialId), 'credentialId', () =>
      client.credentials.getCredential({ credentialId }),
    );
  }

  /**
   * @throws ApiError 404 unless the caller may read the credential; 403 FORBIDDEN, with the
   *   reason, for a reader who is not its subject (its issuer, an overseer).
   */
  async getClaims(as: Requester, credentialId: string): Promise<{ credentialId: string; claims: SaltedClaim[] }> {
    const client = await this.client(as);
    return visibleToReaders(credentialLabel(credentialId), 'credentialId', () =>
      client.credentials.getCredentialSecrets({ credentialId }),
    );
  }

  /**
   * One page of the caller's own credentials, as holder or as issuer (the status filter
   * applies within the page, so a page may be short, even empty, with more to follow).
   *
   * @throws ApiError 422 naming `query.after` for a cursor that is not this list's.
   */
  async listOwn(
    as: Requester,
    query: z.output<typeof credentialListQuerySchema>,
  ): Promise<LedgerPage<CredentialRecord>> {
    const client = await this.client(as);
    const request = {
      mspId: as.principal.mspId,
      userId: as.principal.userId,
      ...(query.type === undefined ? {} : { type: query.type }),
      ...(query.status === undefined ? {} : { status: query.status }),
    };
    return readLedgerPage(query, 'query.after', (page) =>
      query.as === 'issuer'
        ? client.credentials.listCredentialsByIssuer({ ...request, ...page })
        : client.credentials.listCredentialsBySubject({ ...request, ...page }),
    );
  }

  /**
   * One page of the credentials of one person, for HR and auditors.
   *
   * @throws RefusedError FORBIDDEN unless the caller is that person, or hr, auditor or
   *   admin; ApiError 422 naming `afterField` for a cursor that is not this list's.
   */
  async listOf(
    as: Requester,
    subject: Party,
    filter: { type?: CredentialType | undefined; status?: CredentialStatus | undefined },
    page: LedgerPageQuery,
    afterField: string,
  ): Promise<LedgerPage<CredentialRecord>> {
    const client = await this.client(as);
    return readLedgerPage(page, afterField, (paging) =>
      client.credentials.listCredentialsBySubject({
        ...subject,
        ...(filter.type === undefined ? {} : { type: filter.type }),
        ...(filter.status === undefined ? {} : { status: filter.status }),
        ...paging,
      }),
    );
  }

  /**
   * The holder discloses a subset of their claims: the presentation to hand to a
   * verifier, and the same as a W3C document with those claims revealed.
   *
   * @throws ApiError 404 unless the caller is the subject; 422 naming a claim the credential lacks.
   */
  async present(
    as: Requester,
    credentialId: string,
    reveal: readonly string[],
  ): Promise<{
    presentation: { credentialId: string; revealedClaims: SaltedClaim[] };
    undisclosedClaims: string[];
    verifiableCredential: VerifiableCredential;
  }> {
    const client = await this.client(as);
    const secrets = await visibleToReaders(credentialLabel(credentialId), 'credentialId', () =>
      client.credentials.getCredentialSecrets({ credentialId }),
    );
    const byName = new Map(secrets.claims.map((claim) => [claim.name, claim]));
    const revealedClaims = reveal.map((name, index) => {
      const claim = byName.get(name);
      if (claim === undefined)
        throw invalidInput(`body.reveal.${index}`, `credential ${credentialId} has no claim ${name}`);
      return claim;
    });
    const credential = await client.credentials.getCredential({ credentialId });
    return {
      presentation: { credentialId, revealedClaims },
      undisclosedClaims: secrets.claims.map((claim) => claim.name).filter((name) => !reveal.includes(name)),
      verifiableCredential: await this.#document(client, as.log, credential, revealedClaims),
    };
  }

  /** Checks a presentation on the ledger; never throws for a forged one, whose verdict lists the reasons. */
  async verify(as: PublicRequester, presentation: VerifyPresentationRequest): Promise<PresentationVerdict> {
    return (await this.client(as)).credentials.verifyPresentation(presentation);
  }

  /**
   * The credential as a W3C VCDM 2.0 document with its claim commitments.
   *
   * @throws ApiError 404 unless the caller may read the credential; 503 when blocks cannot be looked up.
   */
  async exportCredential(as: Requester, credentialId: string): Promise<VerifiableCredential> {
    const client = await this.client(as);
    const credential = await visible(credentialLabel(credentialId), 'credentialId', () =>
      client.credentials.getCredential({ credentialId }),
    );
    return this.#document(client, as.log, credential, undefined);
  }

  /**
   * Verifies an imported W3C document: the chaincode checks the revealed claims, the
   * subject the document names, expiry, status and issuer; then every property the
   * ledger determines is compared with the document the ledger record gives.
   *
   * @throws ApiError 503 when blocks cannot be looked up.
   */
  async verifyDocument(as: PublicRequester, document: ImportedCredential): Promise<DocumentVerdict> {
    const client = await this.client(as);
    const credentialId = document.credentialStatus.credentialId;
    const subject = partyOfUrn(document.credentialSubject.id);
    const presented = document.credentialSubject.claimCommitments;
    // The chaincode compares the hidden claims' commitments and the subject with the record
    // itself, so the document is checked without anyone here reading the record: a verifier
    // needs no reader role, and learns only which properties differ.
    const presentation = await client.credentials.verifyPresentation({
      credentialId,
      revealedClaims: document.credentialSubject.revealedClaims ?? [],
      ...(subject === undefined ? {} : { expectedSubject: subject }),
      claimCommitments: presented.map((claim) => ({ name: claim.name, commitment: claim.commitment })),
    });
    let mismatches: DocumentMismatch[] = [];
    const summary = presentation.credential;
    if (summary !== undefined) {
      const expected = toVerifiableCredential({
        // A subject the summary does not name is never compared (it is unconfirmed below).
        credential: { ...summary, subject: summary.subject ?? summary.issuer, claims: presented },
        issuerDisplayName: summary.issuerDisplayName,
        blockNumber: await this.#blockOf(as.log, summary.issuedTxId),
      });
      mismatches = documentMismatches(document, expected, [
        // The summary names the subject only once the presentation is bound to the record's.
        ...(summary.subject === undefined ? ['credentialSubject.id'] : []),
        ...(presentation.claimCommitmentsMatch === true ? [] : ['credentialSubject.claimCommitments']),
      ]);
    }
    // The document's own mismatch names the property (credentialSubject.claimCommitments).
    const reasons = [...presentation.reasons.filter((reason) => reason.code !== 'COMMITMENTS_MISMATCH'), ...mismatches];
    return {
      credentialId,
      valid: reasons.length === 0,
      checkedAt: presentation.checkedAt,
      reasons,
      presentation,
    };
  }

  /**
   * Credential holders by type, optionally of one issuer, grouped by holder. Without an
   * issuer every issuer record is searched, removed ones too, because what they issued
   * while authorised stays valid.
   *
   * @param readLedger runs each call to the peer (the list of issuers, each page of an
   *   issuer's credentials), so that a caller can bound how many run at once and in all;
   *   whatever it throws is thrown.
   * An admin finds the credentials whose subject or issuer is of its organisation, an
   * auditor those its grants cover: the ledger leaves the others out of each page.
   *
   * @throws ApiError 403 FORBIDDEN when a caller other than hr, auditor or admin names no
   *   issuer (the ledger would refuse it for whichever issuer it lists first).
   * @throws RefusedError FORBIDDEN unless hr, auditor or admin (or the issuer itself) calls.
   */
  async findHolders(
    as: Requester,
    query: {
      type: CredentialType;
      issuer?: Party | undefined;
      status?: CredentialStatus | undefined;
      includeExpired: boolean;
      limit: number;
    },
    readLedger: <Value>(read: () => Promise<Value>) => Promise<Value> = (read) => read(),
  ): Promise<FreelancerMatch[]> {
    if (query.issuer === undefined && !holderSearchRoles.includes(as.principal.role)) {
      throw forbidden(
        `only ${holderSearchRoles.join(', ')} may search the holders of every issuer; an issuer names itself as issuer; the caller has role ${as.principal.role}`,
      );
    }
    const client = await this.client(as);
    const issuers =
      query.issuer === undefined
        ? (await readLedger(() => client.credentials.listIssuers({}))).map((record) => record.issuer)
        : [query.issuer];
    // Every page of every issuer: this search spans the ledger's credentials of the type,
    // each call to the peer bounded to one page.
    const lists = await Promise.all(
      issuers.map((issuer) =>
        readEveryLedgerPage((page) =>
          readLedger(() =>
            client.credentials.listCredentialsByIssuer({
              ...issuer,
              type: query.type,
              ...(query.status === undefined ? {} : { status: query.status }),
              ...page,
            }),
          ),
        ),
      ),
    );
    const now = Date.now();
    const bySubject = new Map<string, { subject: Party; credentials: CredentialRecord[] }>();
    for (const credential of lists.flat()) {
      if (
        !query.includeExpired &&
        credential.expirationDate !== undefined &&
        Date.parse(credential.expirationDate) <= now
      ) {
        continue;
      }
      const key = `${credential.subject.mspId}\u0000${credential.subject.userId}`;
      const entry = bySubject.get(key) ?? { subject: credential.subject, credentials: [] };
      entry.credentials.push(credential);
      bySubject.set(key, entry);
    }
    return [...bySubject.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, query.limit)
      .map(([, match]) => match);
  }

  /** @throws ApiError 503 LEDGER_BLOCKS_UNAVAILABLE when the block cannot be looked up. */
  async #blockOf(log: Logger, transactionId: string): Promise<bigint> {
    const blocks = this.#deps.ledgerBlocks;
    if (blocks === undefined) {
      throw new ApiError(503, 'LEDGER_BLOCKS_UNAVAILABLE', 'this server is not configured to look up blocks');
    }
    try {
      return await blocks.blockNumberOf(transactionId);
    } catch (error) {
      log.error({ err: error, transactionId }, 'block lookup failed');
      throw new ApiError(
        503,
        'LEDGER_BLOCKS_UNAVAILABLE',
        `the block of transaction ${transactionId} could not be looked up; try again later`,
      );
    }
  }

  async #document(
    client: LedgerClient,
    log: Logger,
    credential: CredentialRecord,
    revealedClaims: readonly SaltedClaim[] | undefined,
  ): Promise<VerifiableCredential> {
    const blockNumber = await this.#blockOf(log, credential.issuedTxId);
    const details = await client.credentials.getIssuer(credential.issuer);
    const version = details.versions.find((candidate) => candidate.version === credential.issuerVersion);
    return toVerifiableCredential({
      credential,
      issuerDisplayName: version?.displayName,
      blockNumber,
      ...(revealedClaims === undefined ? {} : { revealedClaims }),
    });
  }
}
