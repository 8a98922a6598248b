import { callbackFieldOf, confirmationFromCallback, paymentOrderCallbackSchema } from './protocol.js';

describe('callbackFieldOf', () => {
  it('names where a callback holds each confirmation member, as the refusal of that member says', () => {
    const callback = paymentOrderCallbackSchema.parse({
      type: 'payment_order.paid',
      timestamp: '2026-12-05T07:00:00.000Z',
      data: { instructionId: 'A-1/m1/fund-escrow-1', providerReference: 'sbx_1', amount: '150000', currency: 'EUR' },
    });
    const confirmation = confirmationFromCallback(callback);
    for (const member of ['instructionId', 'amountMinor', 'currency', 'providerReference'] as const) {
      const field = callbackFieldOf(member);
      const [, ...path] = field.split('.');
      const held = path.reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], callback);
      expect([member, field, String(held)]).toEqual([member, field, String(confirmation[member])]);
    }
  });
});
