import type { Logger } from 'pino';
import type { ProofExporter } from '@gigledger/gateway';
import { ApiError } from '../errors/api-error.js';
import { resolveWith, type GraphqlContext, type SchemaModule } from '../graphql/context.js';
import { parseInput } from '../http/route.js';
import type { LedgerAccess } from '../ledger/ledger-access.js';
import { proofService, transactionIdSchema } from './proof-routes.js';
import { provableKindNames, provableKinds, type ProvableKindName } from './record-proofs.js';

/**
 * Proof bundles one GraphQL request (every operation of a batch together) may export. A
 * bundle is about 85 KiB (the configuration's and the chaincode definition's block data),
 * and where an orderer's signature of an older block is no longer accepted it carries a
 * header per block from there to the newest (about 10 MB at 100,000 blocks): aliases and
 * batches of them would otherwise hold dozens in a worker's memory at once for one caller.
 */
export const proofsPerRequest = 5;

/**
 * Counts one bundle against the request's {@link proofsPerRequest}.
 *
 * @throws ApiError 422 naming `field` once the request has exported as many.
 */
function claimProof(context: GraphqlContext, field: string): void {
  const share = context.httpRequest;
  if (share.proofsExported >= proofsPerRequest) {
    throw new ApiError(
      422,
      'VALIDATION_FAILED',
      `${field}: one request may export ${String(proofsPerRequest)} proofs; ask for the others in requests of their own`,
      field,
    );
  }
  share.proofsExported += 1;
}

/** GraphQL enum values are names: `licence-offer` is served as `licence_offer`. */
const enumValueOf = (kind: ProvableKindName) => kind.replaceAll('-', '_');

/**
 * Proofs over GraphQL, under the REST rules: `transactionProof` as
 * `GET /v1/proofs/{transactionId}`, `recordProof` as `GET /v1/proofs/records/{kind}/{id}`.
 * A bundle is one JSON document (the file `npm run verify-proof` reads), not a typed
 * tree: its parts are bytes a verifier checks, not fields a query picks.
 */
export function proofSchema(deps: {
  proofs?: ProofExporter | undefined;
  ledger: LedgerAccess;
  log: Logger;
}): SchemaModule {
  const service = proofService(deps);
  return {
    typeDefs: /* GraphQL */ `
      "A kind of record whose last write can be proven."
      enum ProvableRecordKind {
        ${provableKindNames.map(enumValueOf).join('\n        ')}
      }

      extend type Query {
        "The offline-verifiable proof bundle of a committed transaction (auditors under a grant naming transaction; admins, their organisation's); check it with npm run verify-proof."
        transactionProof(transactionId: String!): JSON!
        "The proof bundle of the last transaction that wrote a record, naming the key it wrote (record); for those who may read the record, otherwise NOT_FOUND."
        recordProof(kind: ProvableRecordKind!, id: String!): JSON!
      }
    `,
    access: {
      Query: {
        transactionProof: 'proofs:read',
        recordProof: 'proofs:read',
      },
    },
    resolvers: {
      ProvableRecordKind: Object.fromEntries(provableKindNames.map((kind) => [enumValueOf(kind), kind])),
      Query: {
        transactionProof: (_parent: unknown, args: { transactionId: string }, context: GraphqlContext) =>
          resolveWith(context, () => {
            claimProof(context, 'transactionProof');
            return service.proofOf(
              context.principal,
              parseInput(transactionIdSchema, args.transactionId, 'transactionId'),
              context.log,
            );
          }),
        recordProof: (_parent: unknown, args: { kind: ProvableKindName; id: string }, context: GraphqlContext) =>
          resolveWith(context, () => {
            claimProof(context, 'recordProof');
            return service.proofOfRecord(
              context.principal,
              args.kind,
              parseInput(provableKinds[args.kind].id, args.id, 'id'),
              (reader) => deps.ledger.clientFor(reader, context.log),
              context.log,
            );
          }),
      },
    },
  };
}
