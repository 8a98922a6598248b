import type { LedgerClient } from '@gigledger/gateway';
import { passwordCredentialsSchema, type AccountService } from '../auth/account-service.js';
import { parseArguments } from '../http/route.js';
import type { TokenService } from '../auth/tokens.js';
import { requireAuthenticated, resolveWith, type GraphqlContext, type SchemaModule } from './context.js';
import { jsonScalar } from './json-scalar.js';
import { ledgerPageInfoTypeDefs } from '../http/ledger-pages.js';

/** The root types every other module extends: the caller, the chaincode version, login. */
export function baseSchema(deps: {
  accounts: AccountService;
  tokens: TokenService;
  serviceLedger: LedgerClient;
}): SchemaModule {
  return {
    typeDefs: /* GraphQL */ `
      "Any JSON value; used for open-ended data such as claimed metrics."
      scalar JSON
      ${ledgerPageInfoTypeDefs}
      type Principal {
        kind: String!
        userId: String!
        org: String!
        mspId: String!
        role: String!
        scopes: [String!]!
      }

      type ChaincodeVersion {
        name: String!
        version: String!
        packageId: String!
      }

      "What every command mutation answers besides its result, as REST commands do: the request id it ran under (the input's, or one generated when none was given), the transaction that acted and its block (a decimal string); a repeat of the request answers the same transaction."
      interface CommandPayload {
        requestId: String!
        transactionId: String!
        blockNumber: String!
      }

      type Token {
        accessToken: String!
        tokenType: String!
        expiresIn: Int!
      }

      type Query {
        "The authenticated caller."
        me: Principal!
        "The chaincode version and package id, read through the ledger."
        chaincodeVersion: ChaincodeVersion!
      }

      type Mutation {
        "Exchange a user id and password for a bearer token."
        createToken(userId: String!, password: String!): Token!
      }
    `,
    access: {
      Query: {
        me: 'signed-in',
        chaincodeVersion: 'public',
      },
      Mutation: {
        createToken: 'public',
      },
    },
    // A password is taken as typed; it is stored only as a hash.
    verbatimText: { Mutation: ['createToken'] },
    resolvers: {
      JSON: jsonScalar,
      Query: {
        me: (_parent: unknown, _args: unknown, context: GraphqlContext) =>
          resolveWith(context, () => requireAuthenticated(context)),
        chaincodeVersion: (_parent: unknown, _args: unknown, context: GraphqlContext) =>
          resolveWith(context, () => deps.serviceLedger.system.version()),
      },
      Mutation: {
        createToken: (_parent: unknown, args: { userId: string; password: string }, context: GraphqlContext) =>
          resolveWith(context, async () => {
            const { userId, password } = parseArguments(passwordCredentialsSchema, args);
            const principal = await deps.accounts.checkPassword(userId, password);
            const { token, expiresIn } = await deps.tokens.issue(principal.userId);
            return { accessToken: token, tokenType: 'Bearer', expiresIn };
          }),
      },
    },
  };
}
