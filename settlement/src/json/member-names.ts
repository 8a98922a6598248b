import { createScanner, SyntaxKind } from 'jsonc-parser';

/** An object or array the scan is inside, and where in it the scan is. */
type Open =
  | { readonly kind: 'object'; readonly names: Set<string>; name: string | undefined; expectsName: boolean }
  | { readonly kind: 'array'; index: number };

/**
 * The path of the first member name that appears twice in one object of a JSON text
 * (`["terms", "milestones", 0, "amount"]`), or undefined when every object's names are
 * unique. JSON.parse keeps the last of two equal names silently, while other parsers keep
 * the first or refuse: a body that means one thing here and another to a proxy, a signer
 * or an auditor's tool is refused instead, as I-JSON (RFC 7493 §2.3) requires of its
 * receivers. The text is expected to be valid JSON already (parse it first).
 *
 * Reads the text token by token without recursion, so that nesting as deep as the text's
 * length allows costs memory in proportion, never the call stack (a recursive walk fails
 * with a RangeError on ten thousand levels).
 */
export function duplicateMemberName(text: string): (string | number)[] | undefined {
  const scanner = createScanner(text, true);
  const open: Open[] = [];
  const pathTo = (name: string): (string | number)[] => [
    ...open.slice(0, -1).map((entry) => (entry.kind === 'object' ? (entry.name ?? '') : entry.index)),
    name,
  ];
  for (let token = scanner.scan(); token !== SyntaxKind.EOF; token = scanner.scan()) {
    const inside = open.at(-1);
    switch (token) {
      case SyntaxKind.OpenBraceToken:
        open.push({ kind: 'object', names: new Set(), name: undefined, expectsName: true });
        break;
      case SyntaxKind.OpenBracketToken:
        open.push({ kind: 'array', index: 0 });
        break;
      case SyntaxKind.CloseBraceToken:
      case SyntaxKind.CloseBracketToken:
        open.pop();
        break;
      case SyntaxKind.CommaToken:
        if (inside?.kind === 'object') inside.expectsName = true;
        else if (inside?.kind === 'array') inside.index += 1;
        break;
      case SyntaxKind.StringLiteral:
        if (inside?.kind === 'object' && inside.expectsName) {
          // The scanner answers a string's value with its escapes resolved: "\u0061" is "a".
          const name = scanner.getTokenValue();
          if (inside.names.has(name)) return pathTo(name);
          inside.names.add(name);
          inside.name = name;
          inside.expectsName = false;
        }
        break;
      default:
        break;
    }
  }
  return undefined;
}
