import {
  getNamedType,
  getOperationAST,
  GraphQLError,
  isInputObjectType,
  isObjectType,
  Kind,
  OperationTypeNode,
  type ExecutionArgs,
  parse,
  type DocumentNode,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { Request } from 'express';
import type { Plugin } from 'graphql-yoga';
import type { IdempotencyKeyHeader } from '../http/request-ids.js';
import type { GraphqlContext } from './context.js';

/** The interface every command mutation's payload implements. */
const commandPayload = 'CommandPayload';

function isCommand(field: GraphQLField<unknown, unknown>): boolean {
  const payload = getNamedType(field.type);
  return isObjectType(payload) && payload.getInterfaces().some((face) => face.name === commandPayload);
}

/** Where a command mutation takes its request id: an argument of its own, or a field of its input. */
function requestIdField(field: GraphQLField<unknown, unknown>): string {
  if (field.args.some((arg) => arg.name === 'requestId')) return 'requestId';
  const input = field.args.find((arg) => {
    const type = getNamedType(arg.type);
    return isInputObjectType(type) && 'requestId' in type.getFields();
  });
  return input === undefined ? 'input.requestId' : `${input.name}.requestId`;
}

/** The command mutations a document's chosen operation runs, top-level fragments followed. */
function commandMutations(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): GraphQLField<unknown, unknown>[] {
  const operation = getOperationAST(document, operationName);
  const mutationType = schema.getMutationType();
  if (operation?.operation !== OperationTypeNode.MUTATION || mutationType === null || mutationType === undefined)
    return [];
  const fragments = new Map(
    document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition.selectionSet] as const] : [],
    ),
  );
  const fields = mutationType.getFields();
  const found: GraphQLField<unknown, unknown>[] = [];
  const visit = (selectionSet: SelectionSetNode, seen: ReadonlySet<string>) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = fields[selection.name.value];
        if (field !== undefined && isCommand(field)) found.push(field);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, seen);
      } else if (!seen.has(selection.name.value)) {
        const fragment = fragments.get(selection.name.value);
        if (fragment !== undefined) visit(fragment, new Set([...seen, selection.name.value]));
      }
    }
  };
  visit(operation.selectionSet, new Set());
  return found;
}

/**
 * The command mutations of every operation of a batched request (one HTTP request, so one
 * header for all); a document that does not parse runs none.
 */
function batchedCommands(schema: GraphQLSchema, batch: readonly unknown[]): GraphQLField<unknown, unknown>[] {
  return batch.flatMap((entry: unknown) => {
    const { query, operationName } = (entry ?? {}) as { query?: unknown; operationName?: unknown };
    if (typeof query !== 'string') return [];
    try {
      const document = parse(query, { maxTokens: 4000 });
      return commandMutations(schema, document, typeof operationName === 'string' ? operationName : undefined);
    } catch {
      return [];
    }
  });
}

/**
 * The `Idempotency-Key` header for GraphQL, as REST commands take it: an HTTP request
 * holding exactly one command mutation runs it under the header's id when its own
 * arguments carry no requestId (a different one is refused 422 naming
 * `header.idempotency-key`, see withRequestId). A header on a request holding several
 * command mutations (in one operation or across a batch) is refused, naming the header:
 * which of them it was meant for is not for the server to guess. Elsewhere (queries,
 * mutations that are no commands) there is nothing for it to key, and it is left alone.
 */
export const idempotencyKeyPlugin: Plugin<GraphqlContext> = {
  onExecute({ args: untyped, extendContext, setResultAndStopExecution }) {
    const args = untyped as ExecutionArgs & { contextValue: GraphqlContext };
    // Yoga's server context (the Express request) is part of every operation's context.
    const request = (args.contextValue as unknown as { req: Request }).req;
    const key = request.get('idempotency-key');
    if (key === undefined) return;
    const own = commandMutations(args.schema, args.document, args.operationName);
    const body: unknown = request.body;
    const all = Array.isArray(body) && body.length > 1 ? batchedCommands(args.schema, body) : own;
    if (all.length > 1) {
      const names = all.map((field) => field.name).join(', ');
      setResultAndStopExecution({
        errors: [
          new GraphQLError(
            `header.idempotency-key: names one command, but the request holds ${String(all.length)} command mutations (${names}); give each its own requestId instead`,
            {
              extensions: {
                code: 'VALIDATION_FAILED',
                status: 422,
                requestId: args.contextValue.requestId,
                field: 'header.idempotency-key',
              },
            },
          ),
        ],
      });
      return;
    }
    const [command] = own;
    if (command === undefined) return;
    const header: IdempotencyKeyHeader = { key, requestIdField: requestIdField(command) };
    extendContext({ idempotencyKey: header });
  },
};
