import { GraphQLError, GraphQLScalarType, Kind, valueFromASTUntyped, type ValueNode } from 'graphql';
import { findNonCanonical } from '@gigledger/chaincode/model';
import { jsonLimitBreach, maxJsonDepth, maxJsonValues } from '../http/json-limits.js';

function refusal(where: string, what: string): GraphQLError {
  return new GraphQLError(`${where}: ${what}`, { extensions: { code: 'VALIDATION_FAILED', status: 422 } });
}

function assertWithinLimits(value: unknown): void {
  // Open-ended values end up hashed or stored: a part with no canonical encoding would be dropped or changed.
  const part = findNonCanonical(value);
  if (part !== undefined) throw refusal(['JSON value', ...part.path.map(String)].join('.'), part.message);
  const breach = jsonLimitBreach(value, { maxDepth: maxJsonDepth, maxValues: maxJsonValues });
  if (breach === undefined) return;
  // The count is the whole value's, so the value is named, not the place where counting passed the limit.
  const where = breach.limit === 'depth' ? ['JSON value', ...breach.path].join('.') : 'JSON value';
  throw refusal(
    where,
    breach.limit === 'depth'
      ? `nests deeper than ${String(maxJsonDepth)} levels`
      : `holds more than ${String(maxJsonValues)} values`,
  );
}

/** Nesting of an inline literal, measured without recursion before graphql-js converts it recursively. */
function literalDepth(node: ValueNode): number {
  let deepest = 0;
  const pending: [ValueNode, number][] = [[node, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [current, depth] = next;
    if (current.kind === Kind.LIST) {
      if (depth + 1 > deepest) deepest = depth + 1;
      for (const item of current.values) pending.push([item, depth + 1]);
    } else if (current.kind === Kind.OBJECT) {
      if (depth + 1 > deepest) deepest = depth + 1;
      for (const field of current.fields) pending.push([field.value, depth + 1]);
    }
  }
  return deepest;
}

/**
 * `JSON`: any JSON value a caller sends in a variable or inline, bounded in depth and
 * in number of values, since the code that receives it (validation, hashing) walks it
 * recursively. A value past either bound is refused with VALIDATION_FAILED (422 inline; in
 * a variable a request error, status 400, see variable-errors.ts); graphql-js prefixes the
 * message with the argument or variable at fault.
 */
export const jsonScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value; used for open-ended data such as claimed metrics.',
  serialize: (value) => value,
  parseValue: (value) => {
    assertWithinLimits(value);
    return value;
  },
  parseLiteral: (node, variables) => {
    if (literalDepth(node) > maxJsonDepth) {
      throw refusal('JSON value', `nests deeper than ${String(maxJsonDepth)} levels`);
    }
    const value: unknown = valueFromASTUntyped(node, variables);
    assertWithinLimits(value);
    return value;
  },
});
