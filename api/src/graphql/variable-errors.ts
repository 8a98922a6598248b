import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { escapeControlText } from '@gigledger/chaincode/model';

/**
 * graphql-js reports a variable that does not fit its input type as
 * `Variable "$v" got invalid value <the whole value, printed> at "v.path"; <reason>`
 * (graphql-js `getVariableValues`). Echoing the value back helps nobody and can run to
 * megabytes; the reason and the path are what a client needs. The message keeps
 * graphql-js's own reason; the extensions name the field as REST refusals do. A required
 * variable left out or sent as null (`Variable "$v" of required type "Int!" was not
 * provided.`) is named the same way.
 */
export function conciseVariableError(error: GraphQLError): GraphQLError {
  const absent =
    /^Variable "\$([^"]+)" of (?:required|non-null) type "([^"]+)" (was not provided|must not be null)\.$/.exec(
      error.message,
    );
  if (absent !== null) {
    const [, variable = '', type = '', how = ''] = absent;
    const reason = how === 'was not provided' ? 'is required and was not provided' : 'must not be null';
    return variableRefusal(error, `variables.${variable}`, `Variable "$${variable}" (${type}) ${reason}`);
  }
  const match = /^Variable "\$([^"]+)" got invalid value /.exec(error.message);
  const reason = error.originalError?.message;
  if (match === null || reason === undefined || !error.message.endsWith(`; ${reason}`)) return error;
  const variable = match[1] ?? '';
  const printed = error.message.slice(match[0].length, error.message.length - reason.length - 2);
  // graphql-js prints a path inside the value as `i.owners[0].shareBps`; fields are named with dots, as REST names them.
  const inside = /(?:^| )at "([^"]*)"$/.exec(printed)?.[1]?.replace(/\[(\d+)\]/g, '.$1');
  // A required input field left out is reported at its object: name the field itself.
  const missing = /^Field "(\w+)" of required type "[^"]+" was not provided/.exec(reason)?.[1];
  const at = `${inside ?? variable}${missing === undefined ? '' : `.${missing}`}`;
  return variableRefusal(
    error,
    `variables.${at}`,
    `Variable "$${variable}"${inside === undefined ? '' : ` at "${inside}"`}: ${reason}`,
  );
}

/**
 * A variable refused before anything ran is a request error of GraphQL over HTTP, as a
 * document that does not validate is: status 400 in `extensions` (a scalar's own code and
 * field are kept), and the HTTP status yoga gives such errors, 400 for
 * `application/graphql-response+json` and 200 for `application/json` (`http.spec`).
 */
function variableRefusal(error: GraphQLError, field: string, message: string): GraphQLError {
  // The executor's subscribe path marks every refused variable with its generic code;
  // queries and mutations carry none, and both are named as REST names them.
  const { code, ...extensions } = error.extensions;
  // graphql-js quotes the value it refused (an enum value, an unknown key): shown escaped if it holds control characters.
  return new GraphQLError(escapeControlText(message), {
    nodes: error.nodes,
    extensions: {
      code: code === undefined || code === 'BAD_USER_INPUT' ? 'VALIDATION_FAILED' : code,
      field: escapeControlText(field),
      ...extensions,
      status: 400,
      http: { status: 400, spec: true },
    },
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
