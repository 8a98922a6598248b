/**
 * Brackets (`{`, `[`, `(`) a GraphQL document may nest. graphql-js parses by recursive
 * descent and runs out of stack on a few thousand nested list literals, well inside the
 * token limit; selections (depth limit) plus JSON arguments (JSON depth) need far less.
 */
export const maxDocumentNesting = 64;

/**
 * How deeply a GraphQL document nests its brackets, read in one pass without recursion;
 * brackets inside strings, block strings and comments do not count.
 */
export function documentNesting(source: string): number {
  let depth = 0;
  let deepest = 0;
  let index = 0;
  while (index < source.length) {
    const char = source[index];
    if (char === '#') {
      const end = source.indexOf('\n', index);
      index = end === -1 ? source.length : end + 1;
    } else if (source.startsWith('"""', index)) {
      let end = index + 3;
      // A block string ends at the first `"""` not escaped as `\"""`.
      while (end < source.length && !(source.startsWith('"""', end) && source[end - 1] !== '\\')) end += 1;
      index = end + 3;
    } else if (char === '"') {
      let end = index + 1;
      while (end < source.length && source[end] !== '"' && source[end] !== '\n') end += source[end] === '\\' ? 2 : 1;
      index = end + 1;
    } else {
      if (char === '{' || char === '[' || char === '(') {
        depth += 1;
        if (depth > deepest) deepest = depth;
      } else if (char === '}' || char === ']' || char === ')') {
        depth -= 1;
      }
      index += 1;
    }
  }
  return deepest;
}
