import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { escapeControlText } from '@gigledger/chaincode/model';

/**
 * graphql-js reports a variable that does not fit its input type as
 * `Variable "$v" got invalid value <the whole value, printed> at "v.path"; <reason>`
 * (graphql-js `getVariableValues`). Echoing the value back helps nobody and can run to
 * megabytes; the reason and the path are what a client needs. The message keeps
 * graphql-js's own reason; the extensions name the field as REST refusals do.
 */
export function conciseVariableError(error: GraphQLError): GraphQLError {
  const match = /^Variable "\$([^"]+)" got invalid value /.exec(error.message);
  const reason = error.originalError?.message;
  if (match === null || reason === undefined || !error.message.endsWith(`; ${reason}`)) return error;
  const variable = match[1] ?? '';
  const printed = error.message.slice(match[0].length, error.message.length - reason.length - 2);
  const at = /(?:^| )at "([^"]*)"$/.exec(printed)?.[1];
  // graphql-js quotes the value it refused (an enum value, an unknown key): shown escaped if it holds control characters.
  const field = escapeControlText(`variables.${at ?? variable}`);
  const message = escapeControlText(`Variable "$${variable}"${at === undefined ? '' : ` at "${at}"`}: ${reason}`);
  return new GraphQLError(message, {
    nodes: error.nodes,
    // A scalar's own refusal already carries its code and field; keep them.
    extensions: { code: 'VALIDATION_FAILED', status: 422, field, ...error.extensions },
  });
}

/** Replaces a finished (not streamed) result whose variables were refused. */
function shortenRefusedVariables({
  result,
  setResult,
}: {
  result: ExecutionResult | AsyncIterable<ExecutionResult>;
  setResult: (result: ExecutionResult) => void;
}): void {
  if (Symbol.asyncIterator in result) return;
  if (result.errors === undefined || !result.errors.some((error) => error.message.startsWith('Variable "$'))) return;
  setResult({ ...result, errors: result.errors.map(conciseVariableError) });
}

/** Applies {@link conciseVariableError} to queries, mutations and subscriptions alike. */
export const conciseVariableErrors: Plugin = {
  onExecute: () => ({ onExecuteDone: shortenRefusedVariables }),
  onSubscribe: () => ({ onSubscribeResult: shortenRefusedVariables }),
};
