import fc from 'fast-check';
import { agreementTermsSchema, agreementTermsSha256 } from './agreement';
import { canonicalJson, findNonCanonical, NonCanonicalValueError } from './canonical-json';
import { credentialClaimsSchema } from './credential';

/** JSON values as a parser produces them: well-formed strings, finite numbers, any keys but `__proto__`. */
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.string({ unit: 'grapheme' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(
      fc.string({ unit: 'grapheme' }).filter((key) => key !== '__proto__'),
      tie('value'),
      { maxKeys: 5 },
    ),
  ),
})).value;

describe('canonical JSON', () => {
  it('round-trips: parsing the encoding and encoding again gives the same bytes', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('is stable under reordering keys at every depth', () => {
    const reversed = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(reversed);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(
        Object.entries(value)
          .reverse()
          .map(([key, entry]) => [key, reversed(entry)]),
      );
    };
    fc.assert(
      fc.property(jsonValue, (value) => {
        expect(canonicalJson(reversed(value))).toBe(canonicalJson(value));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a __proto__ key wherever it is, naming its path', () => {
    const parsed = JSON.parse('{"a":[{"b":1,"__proto__":{"x":1}}]}') as unknown;
    expect(() => canonicalJson(parsed)).toThrow(NonCanonicalValueError);
    expect(findNonCanonical(parsed)).toEqual({
      path: ['a', 0, '__proto__'],
      message: 'the key __proto__ cannot be encoded canonically',
    });
  });

  it('refuses lone surrogates in values and keys, but not surrogate pairs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0xd800, max: 0xdfff }), fc.string(), (unit, rest) => {
        const lone = String.fromCharCode(unit);
        expect(findNonCanonical({ text: `${rest}${lone}` })?.path).toEqual(['text']);
        expect(findNonCanonical({ [`${rest}${lone}`]: 1 })?.message).toMatch(/lone surrogate/);
      }),
    );
    expect(findNonCanonical({ text: '\u{1F600}' })).toBeUndefined();
  });

  it('refuses non-finite numbers, undefined in arrays, non-plain objects and deep nesting', () => {
    expect(findNonCanonical({ n: Number.NaN })?.path).toEqual(['n']);
    expect(findNonCanonical([1, undefined])?.path).toEqual([1]);
    expect(findNonCanonical({ at: new Date(0) })?.path).toEqual(['at']);
    let deep: unknown = 1;
    for (let depth = 0; depth < 10_000; depth += 1) deep = [deep];
    expect(findNonCanonical(deep)?.message).toMatch(/deeper than/);
  });

  it('refuses terms whose personal data holds a __proto__ key, instead of hashing them without it', () => {
    const terms = JSON.parse(
      '{"scope":"Label 1,000 images","personalData":{"legalName":"Tara T","__proto__":"hidden"}}',
    ) as unknown;
    const parsed = agreementTermsSchema.safeParse(terms);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['personalData', '__proto__']);
    const plain = agreementTermsSchema.parse({ scope: 'Label 1,000 images', personalData: { legalName: 'Tara T' } });
    expect(agreementTermsSha256(plain)).toMatch(/^[0-9a-f]{64}$/);
    expect(agreementTermsSchema.safeParse({ scope: 'Label \ud800 images' }).error?.issues[0]?.path).toEqual(['scope']);
  });

  it('refuses claims that are not well-formed Unicode', () => {
    const salt = 'a'.repeat(64);
    const parsed = credentialClaimsSchema.safeParse([{ name: 'degree', value: 'MSc \udc00', salt }]);
    expect(parsed.error?.issues[0]?.path).toEqual([0, 'value']);
  });
});
