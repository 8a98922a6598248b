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
