/** A REST answer refusing one field of the input with 422, its message starting with the field's name. */
export function expectRefusedNaming(answer: { status: number; body: unknown }, field: string, message: string): void {
  expect([field, answer.status, answer.body]).toMatchObject([
    field,
    422,
    { code: 'VALIDATION_FAILED', field, message: `${field}: ${message}` },
  ]);
}

/** The field the first error of a GraphQL response names, if any. */
export function firstErrorField(body: unknown): string | undefined {
  return (body as { errors?: { extensions?: { field?: string } }[] }).errors?.[0]?.extensions?.field;
}

/**
 * The refusal of a GraphQL request refused before execution, flattened as a REST refusal
 * reads (`message` beside its `extensions`: `status`, `code`, `field`, `requestId`).
 * Fails the test unless the body is a GraphQL response holding that one error and no data.
 */
export function graphqlRefusalIn(body: unknown): Record<string, unknown> {
  expect(body).toEqual({
    errors: [
      {
        message: expect.any(String) as string,
        extensions: expect.objectContaining({
          code: expect.any(String) as string,
          status: expect.any(Number) as number,
          requestId: expect.any(String) as string,
        }) as Record<string, unknown>,
      },
    ],
  });
  const [error] = (body as { errors: [{ message: string; extensions: Record<string, unknown> }] }).errors;
  return { message: error.message, ...error.extensions };
}

/** A refusal's parts wherever its endpoint puts them: a GraphQL response's one error, or a REST body as it is. */
export function refusalAt(path: string, body: unknown): Record<string, unknown> {
  return /^\/graphql(\/|\?|$)/.test(path) ? graphqlRefusalIn(body) : (body as Record<string, unknown>);
}
