import { partySchema, type Party, type Reputation } from '@gigledger/chaincode/model';
import { resolverRequester, resolveWith, type GraphqlContext, type SchemaModule } from '../graphql/context.js';
import { fieldsUnder } from '../http/refusal-fields.js';
import { readForNode } from '../graphql/node-reads.js';
import { parseInput } from '../http/route.js';
import { ReputationService, type ReputationDependencies } from './reputation-service.js';

/**
 * Reputation for HR systems: a person's score with its components and the records it
 * rests on, also reachable from each match of `freelancersByCredential`.
 */
export function reputationSchema(deps: ReputationDependencies): SchemaModule {
  const service = new ReputationService(deps);
  const reputationOf = (subject: Party, context: GraphqlContext) =>
    resolveWith(context, () => service.reputationOf(resolverRequester(context, 'reputation:read'), subject));
  return {
    typeDefs: /* GraphQL */ `
      type ReputationCompletions {
        count: Int!
        "Plain mean of the ratings; null without completions."
        meanRating: Float
        "Recency-weighted rating with the prior (R)."
        weightedRating: Float!
        effectiveWeight: Float!
      }

      type ReputationOnTime {
        onTime: Int!
        late: Int!
        unknown: Int!
        "Recency-weighted on-time rate with the prior (T)."
        rate: Float!
      }

      type ReputationDisputes {
        won: Int!
        lost: Int!
        split: Int!
        "Points taken off the score (P)."
        penalty: Float!
      }

      type SkillLevel {
        skill: String!
        count: Int!
        weightedLevel: Float!
      }

      type ReputationAttestations {
        count: Int!
        "Weighted level with the prior (L)."
        weightedLevel: Float!
        effectiveWeight: Float!
        skills: [SkillLevel!]!
      }

      type ReputationComponents {
        completions: ReputationCompletions!
        onTime: ReputationOnTime!
        disputes: ReputationDisputes!
        attestations: ReputationAttestations!
      }

      "Each part on a scale of 0 to 1, before the shares and the penalty."
      type ReputationParts {
        rating: Float!
        onTime: Float!
        attestation: Float!
      }

      "A ledger record the score rests on."
      type ReputationRecordRef {
        kind: String!
        "The ledger key's object type, as over REST (e.g. a completion's)."
        objectType: String!
        "The ledger key's attributes: the subject's MSP id and user id, then the agreement id and, for a completion, the milestone id."
        attributes: [String!]!
        txId: String!
        recordedAt: String!
        countedFrom: String!
        "Recency weight at asOf."
        recency: Float!
      }

      type Reputation {
        subject: Party!
        "Transaction timestamp the score was computed at."
        asOf: String!
        "0 to 100."
        score: Float!
        formulaVersion: String!
        "Every constant of the formula."
        formula: JSON!
        components: ReputationComponents!
        parts: ReputationParts!
        basis: [ReputationRecordRef!]!
      }

      extend type FreelancerMatch {
        reputation: Reputation!
      }

      extend type Query {
        "A person's reputation; open to every reader of reputation."
        reputation(subject: PartyInput!): Reputation!
      }
    `,
    access: {
      Query: {
        reputation: 'reputation:read',
      },
    },
    resolvers: {
      Query: {
        reputation: (_parent: unknown, args: { subject: unknown }, context: GraphqlContext) =>
          resolveWith(context, () => {
            const subject = parseInput(partySchema, args.subject, 'subject');
            return fieldsUnder('subject', () =>
              service.reputationOf(resolverRequester(context, 'reputation:read'), subject),
            );
          }),
      },
      FreelancerMatch: {
        reputation: (parent: { subject: Party }, _args: unknown, context: GraphqlContext) =>
          resolveWith(context, () =>
            readForNode(context, 'reputation', 'fewer people', () => reputationOf(parent.subject, context)),
          ),
      },
      Reputation: {
        formulaVersion: (parent: Reputation) => parent.formula.version,
      },
    },
  };
}
