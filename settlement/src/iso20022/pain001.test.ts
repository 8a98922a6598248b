import { endToEndIdFor } from './identifiers.js';
import { buildPain001, readPain001, type Pain001Options } from './pain001.js';
import { payout } from './test-support/payment-orders.js';
import { accounts, schemaErrors } from './test-support/xsd.js';

const options: Pain001Options = {
  messageId: 'GL-2026-03-01-0001',
  createdAt: '2026-03-01T09:30:00Z',
  debtor: accounts.escrow,
};

describe('buildPain001', () => {
  it('writes a file the official pain.001.001.09 schema accepts, with exponents per currency', async () => {
    const file = buildPain001(
      [
        payout('A-1/m1/release-1', 150000n, 'EUR'),
        payout('A-2/m1/release-1', 5000n, 'JPY'),
        payout('A-3/m2/release-1', 1234n, 'BHD'),
        payout('A-4/m1/refund-1', 7n, 'EUR'),
      ],
      options,
    );
    expect(await schemaErrors(file.xml, 'pain.001.001.09')).toEqual([]);
    expect(file.xml).toContain('<InstdAmt Ccy="EUR">1500.00</InstdAmt>');
    expect(file.xml).toContain('<InstdAmt Ccy="EUR">0.07</InstdAmt>');
    expect(file.xml).toContain('<InstdAmt Ccy="JPY">5000</InstdAmt>');
    expect(file.xml).toContain('<InstdAmt Ccy="BHD">1.234</InstdAmt>');
    expect(file.controlSum).toBe('6501.304');
    expect(file.xml).toContain('<NbOfTxs>4</NbOfTxs>\n      <CtrlSum>6501.304</CtrlSum>');
    expect(file.xml).toContain('<NbOfTxs>2</NbOfTxs>\n      <CtrlSum>1500.07</CtrlSum>');
    expect(file.transactions.map((t) => [t.instructionId, t.paymentInformationId])).toEqual([
      ['A-3/m2/release-1', 'GL-2026-03-01-0001/BHD'],
      ['A-1/m1/release-1', 'GL-2026-03-01-0001/EUR'],
      ['A-4/m1/refund-1', 'GL-2026-03-01-0001/EUR'],
      ['A-2/m1/release-1', 'GL-2026-03-01-0001/JPY'],
    ]);
  });

  it("writes a SEPA creditor's name in the SEPA character set, and other currencies' as registered", async () => {
    const named = (instructionId: string, currency: string, holderName: string) => {
      const order = payout(instructionId, 100n, currency);
      return { ...order, counterparty: { ...order.counterparty, holderName } };
    };
    const file = buildPain001(
      [
        named('A-1/m1/release-1', 'EUR', 'Tära Ø 💥 & <x>'),
        named('A-2/m1/release-1', 'EUR', '北京 Ærøskøbing'),
        named('A-3/m1/release-1', 'EUR', '💥'),
        named('A-4/m1/release-1', 'JPY', 'Tära Ø'),
      ],
      options,
    );
    expect(await schemaErrors(file.xml, 'pain.001.001.09')).toEqual([]);
    const names = [...file.xml.matchAll(/<Cdtr>\s*<Nm>([^<]*)<\/Nm>/g)].map((match) => match[1]);
    expect(names).toEqual(['Tara O :boom: + x', 'BeiJing Aeroskobing', ':boom:', 'Tära Ø']);
  });

  it('is deterministic: the same orders and options give the same bytes', () => {
    const orders = [payout('A-1/m1/release-1', 150000n, 'EUR')];
    expect(buildPain001(orders, options).xml).toBe(buildPain001(orders, options).xml);
  });

  it('escapes names and texts instead of letting them become markup', async () => {
    const name = 'Smith <&"> Sons\' "Data" & <Labs>';
    // Outside SEPA, where a creditor's name is written as registered.
    const file = buildPain001(
      [
        payout('A-5/m1/release-1', 100n, 'USD', {
          counterparty: { kind: 'iban', holderName: name, ...accounts.germany },
          remittanceInformation: '</Ustrd><Ustrd>injected',
        }),
      ],
      { ...options, debtor: { ...accounts.escrow, name: 'Escrow & <Co>' } },
    );
    expect(await schemaErrors(file.xml, 'pain.001.001.09')).toEqual([]);
    expect(file.xml).not.toContain('<Labs>');
    expect(file.xml).toContain('<Nm>Escrow &amp; &lt;Co&gt;</Nm>');
    const read = readPain001(file.xml);
    expect(read.transactions[0]?.creditorName).toBe(name);
    expect(read.transactions[0]?.remittanceInformation).toEqual(['</Ustrd><Ustrd>injected']);
  });

  it('shortens instruction ids over 35 characters deterministically and keeps the full id in the remittance', async () => {
    const long = `A-1000/milestone-with-a-long-name/release-${'9'.repeat(150)}`;
    const file = buildPain001([payout(long, 100n, 'EUR', { remittanceInformation: 'Release' })], options);
    expect(await schemaErrors(file.xml, 'pain.001.001.09')).toEqual([]);
    const endToEndId = endToEndIdFor(long);
    expect(endToEndId).toMatch(/^[A-Z2-7]{35}$/);
    expect(endToEndIdFor(long)).toBe(endToEndId);
    expect(file.transactions[0]?.endToEndId).toBe(endToEndId);
    const read = readPain001(file.xml);
    expect(read.transactions[0]?.endToEndId).toBe(endToEndId);
    expect(read.transactions[0]?.remittanceInformation.join('').slice('Release'.length)).toBe(long);
    expect(endToEndIdFor('A-1/m1/release-1')).toBe('A-1/m1/release-1');
  });

  it('refuses a counterparty that is not an IBAN, naming the instruction', () => {
    expect(() =>
      buildPain001(
        [
          payout('A-6/m1/release-1', 100n, 'EUR', {
            counterparty: { kind: 'iban', holderName: 'Bob', iban: '000123456789', bic: 'COBADEFFXXX' },
          }),
        ],
        options,
      ),
    ).toThrow(
      'INVALID_PAYMENT: instruction A-6/m1/release-1: counterparty account: iban does not start with a known IBAN country code',
    );
    expect(() =>
      buildPain001(
        [
          payout('A-7/m1/release-1', 100n, 'EUR', {
            counterparty: { kind: 'provider', holderName: 'Bob', reference: 'wallet-1' },
          }),
        ],
        options,
      ),
    ).toThrow('the counterparty is a provider account, not a bank account with an IBAN');
  });

  it('refuses orders a credit transfer cannot carry', () => {
    expect(() => buildPain001([payout('A-8', 100n, 'EUR', { direction: 'collect' })], options)).toThrow(
      'a collection cannot be paid',
    );
    expect(() => buildPain001([payout('A-8', 0n, 'EUR')], options)).toThrow('amount must be positive, not 0');
    expect(() => buildPain001([payout('A-8', 100n, 'XTS')], options)).toThrow(
      '"XTS" is not an active ISO 4217 currency code',
    );
    expect(() => buildPain001([payout('A-8', 100n, 'EUR'), payout('A-8', 100n, 'EUR')], options)).toThrow(
      'instruction A-8: given twice in one file',
    );
    expect(() =>
      buildPain001([payout('A-8', 100n, 'EUR', { remittanceInformation: 'x'.repeat(141) })], options),
    ).toThrow('remittance information must be at most 140 characters');
    expect(() => buildPain001([], options)).toThrow('at least one order');
    expect(() => buildPain001([payout('A-8', 100n, 'EUR')], { ...options, messageId: 'x'.repeat(36) })).toThrow(
      'message id must be at most 35 characters',
    );
    expect(() =>
      buildPain001([payout('A-8', 100n, 'EUR')], {
        ...options,
        debtor: { ...accounts.escrow, iban: 'GB00WEST12345698765432' },
      }),
    ).toThrow('debtor account: iban check digits do not match');
  });

  it('refuses a batch whose control sum has more than 18 digits', () => {
    const big = 999999999999999999n;
    expect(() => buildPain001([payout('A-9', big, 'EUR'), payout('A-10', big, 'EUR')], options)).toThrow(
      'INVALID_PAYMENT: control sum: amount 1999999999999999998 has more than 18 digits',
    );
  });

  it('names the file when reading something that is not a pain.001', () => {
    expect(() => readPain001('<Document xmlns="urn:x"><A/></Document>', 'outbox/x.xml')).toThrow(
      'MALFORMED_FILE: outbox/x.xml: not a pain.001',
    );
    expect(() => readPain001('<Document><A></Document>', 'y.xml')).toThrow(
      'MALFORMED_FILE: y.xml: not well-formed XML at line 1',
    );
  });
});
