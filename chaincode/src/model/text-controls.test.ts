import fc from 'fast-check';
import { escapeControlText, findRefusedText, refusedTextReason } from './text-controls';

const refused = [
  ...Array.from({ length: 0x20 }, (_, code) => code).filter((code) => ![0x09, 0x0a, 0x0d].includes(code)),
  ...Array.from({ length: 0xa0 - 0x7f }, (_, offset) => 0x7f + offset),
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
];
const refusedSet = new Set(refused);

describe('characters refused in text a caller sends', () => {
  it.each(refused.map((code) => [code.toString(16).toUpperCase().padStart(4, '0'), code]))(
    'refuses U+%s and names it',
    (name, code) => {
      expect(refusedTextReason(`before ${String.fromCodePoint(code)} after`)).toContain(`U+${name}`);
    },
  );

  it('says which kind of character it refused', () => {
    expect(refusedTextReason('a\u0000b')).toBe(
      'holds U+0000, a control character (only tab, line feed and carriage return are allowed)',
    );
    expect(refusedTextReason('invoice \u202Efdp.exe')).toBe(
      'holds U+202E, a bidirectional formatting character, which could make the text display otherwise than it is stored',
    );
  });

  it('allows tab, line breaks, right-to-left text with its implicit marks, and any other character', () => {
    for (const text of [
      'Scope:\n\t- label\r\n',
      'מערך נתונים\u200F',
      'بيانات\u061C',
      '\u200E',
      'emoji 🧪',
      '\u2028',
      '',
    ]) {
      expect(refusedTextReason(text)).toBeUndefined();
    }
  });

  it('finds a refused character at any depth, in values and in keys, naming its path', () => {
    expect(findRefusedText({ title: 'ok', milestones: [{ title: 'ok' }, { title: 'x\u0007' }] })).toEqual({
      path: ['milestones', 1, 'title'],
      message: expect.stringContaining('U+0007') as unknown,
    });
    expect(findRefusedText({ terms: { 'na\u202Eme': 'ok' } })).toEqual({
      path: ['terms', 'na\\u202Eme'],
      message: expect.stringMatching(/^the key holds U\+202E/) as unknown,
    });
    expect(findRefusedText('\u009B')?.path).toEqual([]);
    expect(findRefusedText({ count: 3, flag: true, none: null, list: [1, 'two'] })).toBeUndefined();
  });

  it('escapes refused characters for display, leaving everything else', () => {
    expect(escapeControlText('a\u0000b\u202Ec\td\u200F')).toBe('a\\u0000b\\u202Ec\td\u200F');
    expect(escapeControlText('line\u2028paragraph\u2029end')).toBe('line\\u2028paragraph\\u2029end');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        expect(refusedTextReason(escapeControlText(text))).toBeUndefined();
      }),
    );
  });

  it('agrees with the list of refused code points for any text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (text) => {
        let holdsRefused = false;
        for (let index = 0; index < text.length; index += 1) {
          if (refusedSet.has(text.charCodeAt(index))) holdsRefused = true;
        }
        expect(refusedTextReason(text) !== undefined).toBe(holdsRefused);
      }),
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.constantFrom(...refused),
        fc.string({ maxLength: 20 }),
        (before, code, after) => {
          const text = `${before}${String.fromCodePoint(code)}${after}`;
          expect(findRefusedText({ deep: [{ text }] })?.path).toEqual(['deep', 0, 'text']);
        },
      ),
    );
  });
});
