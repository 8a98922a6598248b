import { z } from 'zod';
import { issueReason } from './missing-input';

/** The reason a refusal gives for `input` against `schema`. */
function reasonFor(schema: z.ZodType, input: unknown): string {
  const parsed = schema.safeParse(input);
  if (parsed.success) throw new Error('expected a refusal');
  return issueReason(parsed.error.issues[0], input);
}

describe('issueReason', () => {
  it("puts zod's default messages in the refusals' words", () => {
    expect(reasonFor(z.object({ bps: z.number().int().min(0) }), { bps: -1 })).toBe('must be at least 0');
    expect(reasonFor(z.object({ bps: z.number().int().max(10_000) }), { bps: 10_001 })).toBe('must be at most 10000');
    expect(reasonFor(z.object({ bps: z.number().int() }), { bps: 1.5 })).toBe('must be a whole number');
    expect(reasonFor(z.object({ bps: z.number() }), { bps: '12' })).toBe('must be a number');
    expect(reasonFor(z.object({ on: z.boolean() }), { on: 'yes' })).toBe('must be true or false');
    expect(reasonFor(z.object({ direction: z.enum(['ASC', 'DESC']) }), { direction: 'UP' })).toBe(
      'must be one of "ASC", "DESC"',
    );
    expect(reasonFor(z.object({ kind: z.literal('setParameter') }), { kind: 'other' })).toBe('must be "setParameter"');
    expect(reasonFor(z.object({ name: z.string().min(1) }), { name: '' })).toBe('must not be empty');
    expect(reasonFor(z.object({ name: z.string().max(3) }), { name: 'abcd' })).toBe('must have at most 3 characters');
    expect(reasonFor(z.object({ list: z.array(z.string()).min(2) }), { list: ['a'] })).toBe(
      'must have at least 2 items',
    );
    expect(reasonFor(z.object({ share: z.number().positive() }), { share: 0 })).toBe('must be more than 0');
    expect(reasonFor(z.object({ step: z.number().multipleOf(5) }), { step: 7 })).toBe('must be a multiple of 5');
  });

  it("keeps a schema's own message, and says a missing field is required", () => {
    expect(reasonFor(z.object({ bps: z.number().min(0, 'must not be negative') }), { bps: -1 })).toBe(
      'must not be negative',
    );
    expect(reasonFor(z.object({ name: z.string() }), {})).toBe('is required');
  });
});
