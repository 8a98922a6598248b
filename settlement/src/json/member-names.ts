import { visit } from 'jsonc-parser';

/**
 * The path of the first member name that appears twice in one object of a JSON text
 * (`["terms", "milestones", 0, "amount"]`), or undefined when every object's names are
 * unique. JSON.parse keeps the last of two equal names silently, while other parsers keep
 * the first or refuse: a body that means one thing here and another to a proxy, a signer
 * or an auditor's tool is refused instead, as I-JSON (RFC 7493 §2.3) requires of its
 * receivers. The text is expected to be valid JSON already (parse it first).
 */
export function duplicateMemberName(text: string): (string | number)[] | undefined {
  const open: Set<string>[] = [];
  let duplicate: (string | number)[] | undefined;
  visit(text, {
    onObjectBegin: () => {
      open.push(new Set());
    },
    onObjectEnd: () => {
      open.pop();
    },
    onObjectProperty: (name, _offset, _length, _line, _column, pathOfObject) => {
      const names = open.at(-1);
      if (names === undefined || duplicate !== undefined) return;
      if (names.has(name)) duplicate = [...pathOfObject(), name];
      names.add(name);
    },
  });
  return duplicate;
}
