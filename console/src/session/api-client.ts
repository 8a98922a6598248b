import { createClient as createSseClient } from 'graphql-sse';
import { cacheExchange, Client, fetchExchange, mapExchange, subscriptionExchange } from 'urql';

/** Whether an answer came with errors and without some root field's value (or with no data at all). */
function refusedInPart(result: { data?: unknown; error?: unknown }): boolean {
  if (result.data === null) return true;
  if (result.error === undefined || typeof result.data !== 'object') return false;
  return Object.values(result.data).some((value) => value === null);
}

/** The API is the origin that served the console; the page talks to nothing else. */
const graphqlPath = '/graphql';

/**
 * A GraphQL client for one caller: queries and mutations as JSON POSTs, subscriptions
 * over server-sent events (graphql-sse, one stream per subscription), each with the
 * caller's bearer token when signed in.
 */
export function apiClient(token: string | undefined): Client {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const events = createSseClient({ url: graphqlPath, headers, retryAttempts: 5 });
  return new Client({
    url: graphqlPath,
    fetchOptions: { headers },
    // The API runs queries from JSON POSTs only, so a link or an <img> can never run one.
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    exchanges: [
      // The API answers each root field on its own (a refused one is null beside its error,
      // the others keep their values); a page shows one answer whole, so an answer with a
      // root field refused reads as "no data" (undefined) and the page shows the refusal
      // instead of reading fields of null.
      mapExchange({ onResult: (result) => (refusedInPart(result) ? { ...result, data: undefined } : result) }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({
            unsubscribe: events.subscribe(
              { query: request.query ?? '', variables: request.variables ?? {} },
              {
                next: (value) => {
                  sink.next(value as Parameters<typeof sink.next>[0]);
                },
                error: (error: unknown) => {
                  sink.error(error);
                },
                complete: () => {
                  sink.complete();
                },
              },
            ),
          }),
        }),
      }),
    ],
  });
}

/** An API refusal as the console shows it: the rule's code and the API's own sentence. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/**
 * A REST call to the public API, for what GraphQL does not carry (a holder's claim salts,
 * presentations, W3C documents).
 *
 * @param extraHeaders e.g. an Idempotency-Key for a command.
 * @throws ApiProblem with the API's code and message on any non-2xx answer.
 */
export async function rest<T>(
  method: 'GET' | 'POST',
  path: string,
  token: string | undefined,
  body?: unknown,
  extraHeaders: Readonly<Record<string, string>> = {},
): Promise<T> {
  const headers: Record<string, string> = { ...extraHeaders, accept: 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const parsed: unknown = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) {
    const problem = (parsed ?? {}) as { code?: string; message?: string; field?: string };
    throw new ApiProblem(
      response.status,
      problem.code ?? `HTTP_${String(response.status)}`,
      problem.message ?? response.statusText,
      problem.field,
    );
  }
  return parsed as T;
}
