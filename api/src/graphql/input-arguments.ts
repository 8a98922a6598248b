/**
 * An input object as the model schemas expect it. GraphQL clients send `null` for an
 * optional field they leave empty, while the schemas accept a missing field but not
 * `null`, so nulls are dropped at every level (no model field gives `null` a meaning).
 */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, entry]) => entry !== null)
      .map(([key, entry]) => [key, withoutNulls(entry)]),
  );
}

/** An input object's fields, nulls dropped. GraphQL has already checked it is an object. */
export function inputFields(value: unknown): Record<string, unknown> {
  const cleaned = withoutNulls(value);
  return typeof cleaned === 'object' && cleaned !== null ? (cleaned as Record<string, unknown>) : {};
}
