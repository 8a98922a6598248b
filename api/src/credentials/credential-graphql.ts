import { z } from 'zod';
import {
  canonicalInput,
  credentialIdSchema,
  credentialStatuses,
  credentialStatusSchema,
  credentialTypes,
  credentialTypeSchema,
  partySchema,
  verifyPresentationRequestSchema,
  type CredentialRecord,
} from '@gigledger/chaincode/model';
import { resolverRequester, resolveWith, type GraphqlContext, type SchemaModule } from '../graphql/context.js';
import { withoutNulls } from '../graphql/input-arguments.js';
import { parseArguments, parseInput } from '../http/route.js';
import { withRequestId } from '../http/request-ids.js';
import { fieldsUnder } from '../http/refusal-fields.js';
import { graphqlPage, ledgerPageShape, ledgerPageTypeDefs } from '../http/ledger-pages.js';
import { inputFields } from '../graphql/input-arguments.js';
import { CredentialService, issueCredentialBodySchema, type CredentialDependencies } from './credential-service.js';
import { claimLedgerRecords } from '../graphql/ledger-list-fields.js';
import { readForNode } from '../graphql/node-reads.js';

const holderSearchSchema = z.strictObject({
  type: credentialTypeSchema,
  issuer: partySchema.nullish(),
  status: credentialStatusSchema.nullish(),
  includeExpired: z.boolean(),
  limit: z.number().int().min(1, 'must be 1 to 200').max(200, 'must be 1 to 200'),
});

const subjectArgsSchema = z.strictObject({
  subject: partySchema,
  type: credentialTypeSchema.nullish(),
  status: credentialStatusSchema.nullish(),
  ...ledgerPageShape,
});

/**
 * Credentials for HR systems and verifiers. Claim values never appear here: a
 * credential shows its claim names and commitments only, and values come back only in
 * the verdict on a presentation the caller supplies.
 */
export function credentialSchema(deps: CredentialDependencies): SchemaModule {
  const service = new CredentialService(deps);
  /** @throws ApiError 422 naming the argument at fault. */
  const credentialsOf = (context: GraphqlContext, args: unknown) => {
    const as = resolverRequester(context, 'credentials:read');
    const query = parseArguments(subjectArgsSchema, withoutNulls(args));
    claimLedgerRecords(context, query.first);
    return service.listOf(
      as,
      query.subject,
      { type: query.type ?? undefined, status: query.status ?? undefined },
      query,
      'after',
    );
  };
  return {
    typeDefs: /* GraphQL */ `
      enum CredentialType {
        ${credentialTypes.join('\n        ')}
      }

      enum CredentialStatus {
        ${credentialStatuses.join('\n        ')}
      }

      "An identity on the channel: an organisation's MSP id and the person's userId."
      type Party {
        mspId: String!
        userId: String!
      }

      input PartyInput {
        mspId: String!
        userId: String!
      }

      "A claim as the ledger holds it: its name and salted SHA-256 commitment, never its value."
      type ClaimCommitment {
        name: String!
        commitment: String!
      }

      type StatusChange {
        from: CredentialStatus!
        to: CredentialStatus!
        reason: String!
        at: String!
        txId: String!
      }

      type VerificationReason {
        "NOT_FOUND, CLAIM_MISMATCH, UNKNOWN_CLAIM, SUBJECT_MISMATCH, EXPIRED, REVOKED, SUSPENDED, ISSUER_NOT_AUTHORISED or COMMITMENTS_MISMATCH."
        code: String!
        message: String!
        claim: String
      }

      "The ledger's verdict on a credential with no claim disclosed: status, expiry and issuer authorisation."
      type CredentialCheck {
        valid: Boolean!
        checkedAt: String!
        reasons: [VerificationReason!]!
      }

      type Credential {
        credentialId: ID!
        type: CredentialType!
        issuer: Party!
        issuerVersion: Int!
        "The holder; only when the presentation is bound to them (a disclosed claim verified, or expectedSubject is the subject)."
        subject: Party
        issuanceDate: String!
        expirationDate: String
        status: CredentialStatus!
        statusHistory: [StatusChange!]!
        "Claim names and commitments; values are disclosed only by the holder, in a presentation."
        claims: [ClaimCommitment!]!
        issuedAt: String!
        issuedTxId: String!
        "Checked on the ledger when asked for."
        verification: CredentialCheck!
      }

      "A person holding credentials that matched a search, with those credentials."
      type FreelancerMatch {
        subject: Party!
        credentials: [Credential!]!
      }

      type DisclosedClaim {
        name: String!
        value: String!
        "The value and salt open the commitment stored for this name."
        verified: Boolean!
      }

      type CredentialSummary {
        credentialId: ID!
        type: CredentialType!
        issuer: Party!
        issuerDisplayName: String
        issuerVersion: Int!
        "The holder; only when the presentation is bound to them (a disclosed claim verified, or expectedSubject is the subject)."
        subject: Party
        issuanceDate: String!
        expirationDate: String
        status: CredentialStatus!
        issuedAt: String!
        issuedTxId: String!
      }

      type PresentationVerdict {
        credentialId: ID!
        valid: Boolean!
        checkedAt: String!
        reasons: [VerificationReason!]!
        credential: CredentialSummary
        disclosedClaims: [DisclosedClaim!]!
        "Names of the claims the holder did not disclose; empty unless the presentation is bound to the holder."
        undisclosedClaims: [String!]!
        "Whether the claim commitments presented are exactly the record's (names, commitments, order); null when none were presented or the credential does not exist."
        claimCommitmentsMatch: Boolean
      }

      input RevealedClaimInput {
        name: String!
        value: String!
        salt: String!
      }

      input PresentationInput {
        credentialId: ID!
        revealedClaims: [RevealedClaimInput!]!
        "The person the verifier expects the credential to belong to."
        expectedSubject: PartyInput
        "The claim commitments a document presents (a W3C credential's credentialSubject.claimCommitments), to compare with the record's."
        claimCommitments: [ClaimCommitmentInput!]
      }

      input ClaimCommitmentInput {
        name: String!
        commitment: String!
      }

      input ClaimInput {
        name: String!
        value: String!
      }

      input IssueCredentialInput {
        "Makes the request safe to repeat; generated when left out. A repeat with new claims is refused (REQUEST_ID_REUSED)."
        requestId: String
        "urn:uuid:<random> when left out."
        credentialId: ID
        subject: PartyInput!
        type: CredentialType!
        "ISO 8601 instant; the transaction time when left out."
        issuanceDate: String
        expirationDate: String
        claims: [ClaimInput!]!
      }

      "A claim with the salt its ledger commitment was computed with."
      type SaltedClaim {
        name: String!
        value: String!
        salt: String!
      }

      type IssueCredentialPayload implements CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
        credential: Credential!
        "Returned once, to the issuer, who hands them to the holder; the ledger keeps only their commitments."
        claims: [SaltedClaim!]!
      }

      extend type Mutation {
        "Role issuer, accredited by governance for the type; the same command as POST /v1/credentials."
        issueCredential(input: IssueCredentialInput!): IssueCredentialPayload!
      }

      ${ledgerPageTypeDefs('CredentialPage', 'Credential', 'One page of the credentials a person holds, in credential id order.')}
      extend type Query {
        "People holding credentials of a type (optionally from one issuer), active and unexpired unless told otherwise."
        freelancersByCredential(
          type: CredentialType!
          issuer: PartyInput
          status: CredentialStatus = active
          includeExpired: Boolean = false
          limit: Int = 50
        ): [FreelancerMatch!]!
        "One credential record; NOT_FOUND unless the caller is its subject or issuer, hr, an auditor under a grant, or an admin of the subject's or issuer's organisation."
        credential(credentialId: ID!): Credential!
        "The credentials one person holds: one page, at most first (1 to 500, 100 when left out) from the cursor after; credentialPage says where the next starts."
        credentialsOf(
          subject: PartyInput!
          type: CredentialType
          status: CredentialStatus
          first: Int
          after: String
        ): [Credential!]!
        "The same list as credentialsOf, one page at a time: pass pageInfo.endCursor as after for the next. The status filters each page, so a page may be short, even empty, with more to follow."
        credentialPage(
          subject: PartyInput!
          type: CredentialType
          status: CredentialStatus
          first: Int
          after: String
        ): CredentialPage!
        "Checks a presentation on the ledger; open to anyone."
        verifyPresentation(presentation: PresentationInput!): PresentationVerdict!
      }
    `,
    access: {
      Query: {
        freelancersByCredential: 'credentials:read',
        credential: 'credentials:read',
        credentialsOf: 'credentials:read',
        credentialPage: 'credentials:read',
        verifyPresentation: 'public',
      },
      Mutation: {
        issueCredential: 'credentials:write',
      },
    },
    // A presentation carries the claims as issued, which may predate the rule on text.
    verbatimText: { Query: ['verifyPresentation'] },
    resolvers: {
      Mutation: {
        issueCredential: (_parent: unknown, args: { input: unknown }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const as = resolverRequester(context, 'credentials:write');
            const body = parseInput(canonicalInput(issueCredentialBodySchema), inputFields(args.input), 'input');
            const { result, ...done } = await fieldsUnder('input', () =>
              service.issue(as, withRequestId(body), 'input'),
            );
            return { ...done, credential: result.credential, claims: result.claims };
          }),
      },
      Query: {
        freelancersByCredential: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, () => {
            const as = resolverRequester(context, 'credentials:read');
            const query = parseArguments(holderSearchSchema, args);
            // Each match is a record the request asks for, as a page's are.
            claimLedgerRecords(context, query.limit, 'limit');
            // A search reads every page of every issuer's credentials of the type: each page
            // counts and waits as a node's read does, so aliased searches cannot multiply them.
            return service.findHolders(
              as,
              {
                type: query.type,
                issuer: query.issuer ?? undefined,
                status: query.status ?? undefined,
                includeExpired: query.includeExpired,
                limit: query.limit,
              },
              (read) => readForNode(context, 'freelancersByCredential', 'fewer searches, or name an issuer', read),
            );
          }),
        credential: (_parent: unknown, args: { credentialId: string }, context: GraphqlContext) =>
          resolveWith(context, () => {
            const as = resolverRequester(context, 'credentials:read');
            const credentialId = parseInput(credentialIdSchema, args.credentialId, 'credentialId');
            return service.getCredential(as, credentialId);
          }),
        credentialsOf: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => (await credentialsOf(context, args)).items),
        credentialPage: (_parent: unknown, args: unknown, context: GraphqlContext) =>
          resolveWith(context, async () => graphqlPage(await credentialsOf(context, args))),
        verifyPresentation: (_parent: unknown, args: { presentation: unknown }, context: GraphqlContext) =>
          resolveWith(context, () => {
            const presentation = parseInput(
              canonicalInput(verifyPresentationRequestSchema),
              withoutNulls(args.presentation),
              'presentation',
            );
            return service.verify(context, presentation);
          }),
      },
      Credential: {
        verification: (parent: CredentialRecord, _args: unknown, context: GraphqlContext) =>
          resolveWith(context, () =>
            readForNode(context, 'verification', 'fewer people or credentials', () =>
              service.verify(context, { credentialId: parent.credentialId, revealedClaims: [] }),
            ),
          ),
      },
    },
  };
}
