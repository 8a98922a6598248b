import fc from 'fast-check';
import { duplicateMemberName } from './member-names.js';

describe('duplicateMemberName', () => {
  it.each([
    ['{"a":1,"a":2}', ['a']],
    ['{"a":{"b":1},"c":[{"d":1,"d":2}]}', ['c', 0, 'd']],
    // The same name written two ways is one name to JSON.parse, so it is a duplicate.
    ['{"a":1,"\\u0061":2}', ['a']],
    ['{"":1,"":2}', ['']],
    ['{"__proto__":1,"__proto__":2}', ['__proto__']],
    ['{"x":{"y":{"z":1,"z":1}},"x2":1}', ['x', 'y', 'z']],
  ])('finds the repeated name in %s', (text, path) => {
    expect(duplicateMemberName(text)).toEqual(path);
  });

  it.each([['[{"x":1},{"x":2}]'], ['{"a":1,"b":{"a":2}}'], ['"a"'], ['[]'], ['{"a":"\\"a\\":1"}']])(
    'finds none in %s, where each object names each member once',
    (text) => {
      expect(duplicateMemberName(text)).toBeUndefined();
    },
  );

  it('reads nesting as deep as a megabyte allows without running out of stack', () => {
    const depth = 200_000;
    expect(duplicateMemberName(`${'['.repeat(depth)}${']'.repeat(depth)}`)).toBeUndefined();
    const nested = `${'{"a":'.repeat(depth)}{"b":1,"b":2}${'}'.repeat(depth)}`;
    const path = duplicateMemberName(nested);
    expect([path?.length, path?.at(-2), path?.at(-1)]).toEqual([depth + 1, 'a', 'b']);
  });

  it('finds none in anything JSON.stringify writes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(duplicateMemberName(JSON.stringify(value))).toBeUndefined();
      }),
    );
  });

  it('finds a name written again into any object, at its path', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }),
        fc.string(),
        fc.jsonValue(),
        (object, outer, repeated) => {
          const name = Object.keys(object)[0] ?? '';
          const inner = JSON.stringify(object);
          // `{"<outer>":{...,"<name>":<repeated>}}`: the first name of the inner object, again.
          const text = `{${JSON.stringify(outer)}:${inner.slice(0, -1)},${JSON.stringify(name)}:${JSON.stringify(repeated)}}}`;
          expect(duplicateMemberName(text)).toEqual([outer, name]);
        },
      ),
    );
  });
});
