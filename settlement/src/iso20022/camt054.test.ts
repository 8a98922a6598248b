import { answerPain001, buildCamt054, parseCamt054, type Camt054EntryInput } from './camt054.js';
import { buildPain001 } from './pain001.js';
import { payout } from './test-support/payment-orders.js';
import { accounts, schemaErrors } from './test-support/xsd.js';

const base = {
  messageId: 'BANK-0001',
  createdAt: '2026-03-02T06:00:00Z',
  notificationId: 'NTF-0001',
  accountIban: accounts.escrow.iban,
};
const booked: Camt054EntryInput = {
  endToEndId: 'A-1/m1/release-1',
  amountMinor: 150000n,
  currency: 'EUR',
  creditDebit: 'DBIT',
  status: 'BOOK',
  bookingDate: '2026-03-02',
  accountServicerReference: 'REF-1',
};
const paidJpy: Camt054EntryInput = {
  ...booked,
  endToEndId: 'A-2',
  amountMinor: 5000n,
  currency: 'JPY',
  accountServicerReference: 'REF-2',
};

/** A credit that gives back a BHD payout the bank could not make (ISO reason AC04, account closed). */
function returnedBhd(additionalInformation: string): Camt054EntryInput {
  return {
    ...booked,
    endToEndId: 'A-3',
    amountMinor: 1234n,
    currency: 'BHD',
    creditDebit: 'CRDT',
    accountServicerReference: 'REF-3',
    returnReason: { code: 'AC04', additionalInformation },
  };
}

describe('camt.054', () => {
  it('builds notifications the official camt.054.001.08 schema accepts', async () => {
    const xml = buildCamt054({
      ...base,
      entries: [
        booked,
        paidJpy,
        returnedBhd('Account closed <2026>'),
        {
          ...booked,
          endToEndId: 'A-4',
          status: 'PDNG',
          accountServicerReference: 'REF-4',
          remittanceInformation: ['Fish & chips'],
        },
      ],
    });
    expect(await schemaErrors(xml, 'camt.054.001.08')).toEqual([]);
    expect(await schemaErrors(buildCamt054({ ...base, entries: [] }), 'camt.054.001.08')).toEqual([]);
  });

  it('reads booked debits as paid, returns and rejections as failed with the reason, the rest as pending', () => {
    const xml = buildCamt054({
      ...base,
      entries: [
        booked,
        paidJpy,
        returnedBhd('Account closed'),
        { ...booked, endToEndId: 'A-4', status: 'PDNG', accountServicerReference: 'REF-4' },
        { ...booked, endToEndId: 'A-5', status: 'RJCT', accountServicerReference: 'REF-5' },
      ],
    });
    const notification = parseCamt054(xml, 'n.xml');
    expect(notification.messageId).toBe('BANK-0001');
    expect(
      notification.transactions.map(({ endToEndId, outcome, amountMinor, currency, reason, providerReference }) => ({
        endToEndId,
        outcome,
        amountMinor,
        currency,
        reason,
        providerReference,
      })),
    ).toEqual([
      {
        endToEndId: 'A-1/m1/release-1',
        outcome: 'paid',
        amountMinor: 150000n,
        currency: 'EUR',
        reason: undefined,
        providerReference: 'REF-1',
      },
      {
        endToEndId: 'A-2',
        outcome: 'paid',
        amountMinor: 5000n,
        currency: 'JPY',
        reason: undefined,
        providerReference: 'REF-2',
      },
      {
        endToEndId: 'A-3',
        outcome: 'failed',
        amountMinor: 1234n,
        currency: 'BHD',
        reason: 'returned by the bank: AC04 closed account; Account closed',
        providerReference: 'REF-3',
      },
      {
        endToEndId: 'A-4',
        outcome: 'pending',
        amountMinor: 150000n,
        currency: 'EUR',
        reason: undefined,
        providerReference: 'REF-4',
      },
      {
        endToEndId: 'A-5',
        outcome: 'failed',
        amountMinor: 150000n,
        currency: 'EUR',
        reason: 'rejected by the bank',
        providerReference: 'REF-5',
      },
    ]);
  });

  it('reads a reversal and a batch entry written the way banks write them', () => {
    const xml = `<?xml version="1.0"?>
<ns:Document xmlns:ns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><ns:BkToCstmrDbtCdtNtfctn>
  <ns:GrpHdr><ns:MsgId>M1</ns:MsgId><ns:CreDtTm>2026-03-02T06:00:00Z</ns:CreDtTm></ns:GrpHdr>
  <ns:Ntfctn><ns:Id>N1</ns:Id><ns:Acct><ns:Id><ns:IBAN>${accounts.escrow.iban}</ns:IBAN></ns:Id></ns:Acct>
    <ns:Ntry><ns:NtryRef>E1</ns:NtryRef><ns:Amt Ccy="EUR">10.00</ns:Amt><ns:CdtDbtInd>CRDT</ns:CdtDbtInd><ns:RvslInd>true</ns:RvslInd>
      <ns:Sts><ns:Cd>BOOK</ns:Cd></ns:Sts><ns:BookgDt><ns:DtTm>2026-03-02T10:00:00Z</ns:DtTm></ns:BookgDt>
      <ns:BkTxCd/><ns:NtryDtls><ns:TxDtls><ns:Refs><ns:EndToEndId>A-9</ns:EndToEndId></ns:Refs></ns:TxDtls></ns:NtryDtls></ns:Ntry>
    <ns:Ntry><ns:Amt Ccy="JPY">300</ns:Amt><ns:CdtDbtInd>DBIT</ns:CdtDbtInd><ns:Sts><ns:Cd>BOOK</ns:Cd></ns:Sts><ns:AcctSvcrRef>B1</ns:AcctSvcrRef><ns:BkTxCd/>
      <ns:NtryDtls><ns:TxDtls><ns:Refs><ns:EndToEndId>A-10</ns:EndToEndId></ns:Refs><ns:Amt Ccy="JPY">100</ns:Amt></ns:TxDtls>
        <ns:TxDtls><ns:Refs><ns:EndToEndId>NOTPROVIDED</ns:EndToEndId></ns:Refs><ns:AmtDtls><ns:TxAmt><ns:Amt Ccy="JPY">200</ns:Amt></ns:TxAmt></ns:AmtDtls></ns:TxDtls></ns:NtryDtls></ns:Ntry>
  </ns:Ntfctn></ns:BkToCstmrDbtCdtNtfctn></ns:Document>`;
    expect(parseCamt054(xml).transactions).toEqual([
      {
        endToEndId: 'A-9',
        creditDebit: 'CRDT',
        amountMinor: 1000n,
        currency: 'EUR',
        outcome: 'failed',
        reason: 'reversed by the bank',
        providerReference: 'E1',
        bookedAt: '2026-03-02T10:00:00Z',
        returned: true,
        remittanceInformation: [],
      },
      {
        endToEndId: 'A-10',
        creditDebit: 'DBIT',
        amountMinor: 100n,
        currency: 'JPY',
        outcome: 'paid',
        providerReference: 'B1/1',
        bookedAt: '2026-03-02T06:00:00Z',
        returned: false,
        remittanceInformation: [],
      },
      {
        endToEndId: undefined,
        creditDebit: 'DBIT',
        amountMinor: 200n,
        currency: 'JPY',
        outcome: 'paid',
        providerReference: 'B1/2',
        bookedAt: '2026-03-02T06:00:00Z',
        returned: false,
        remittanceInformation: [],
      },
    ]);
  });

  it('reads the amount as instructed before the amount booked in the account currency', () => {
    // A USD payout from the EUR escrow account: the entry and the transaction's own amount are in EUR.
    const xml = `<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>
  <GrpHdr><MsgId>M2</MsgId><CreDtTm>2026-03-02T06:00:00Z</CreDtTm></GrpHdr>
  <Ntfctn><Id>N2</Id><Acct><Id><IBAN>${accounts.escrow.iban}</IBAN></Id></Acct>
    <Ntry><Amt Ccy="EUR">92.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><AcctSvcrRef>FX1</AcctSvcrRef><BkTxCd/>
      <NtryDtls><TxDtls><Refs><EndToEndId>A-11</EndToEndId></Refs><Amt Ccy="EUR">92.50</Amt>
        <AmtDtls><InstdAmt><Amt Ccy="USD">100.00</Amt></InstdAmt><TxAmt><Amt Ccy="EUR">92.50</Amt></TxAmt></AmtDtls></TxDtls></NtryDtls></Ntry>
  </Ntfctn></BkToCstmrDbtCdtNtfctn></Document>`;
    expect(parseCamt054(xml).transactions).toMatchObject([
      { endToEndId: 'A-11', amountMinor: 10000n, currency: 'USD', outcome: 'paid', providerReference: 'FX1' },
    ]);
  });

  it('refuses an amount with more decimals than its currency, naming file and entry', () => {
    const xml = buildCamt054({
      ...base,
      entries: [{ ...booked, currency: 'JPY', amountMinor: 5n, accountServicerReference: 'REF-JPY' }],
    }).replace(/<Amt Ccy="JPY">5<\/Amt>/g, '<Amt Ccy="JPY">5.5</Amt>');
    expect(xml).toContain('5.5');
    expect(() => parseCamt054(xml, 'camt054-20260302.xml')).toThrow(
      'INVALID_AMOUNT: camt054-20260302.xml: entry REF-JPY of notification NTF-0001: amount 5.5 JPY has more decimals than JPY allows (0)',
    );
  });

  it('refuses files that are not camt.054, naming the file', () => {
    expect(() => parseCamt054('<Document><BkToCstmrDbtCdtNtfctn>', 'broken.xml')).toThrow(
      'MALFORMED_FILE: broken.xml: not well-formed XML at line 1',
    );
    expect(() => parseCamt054('<!DOCTYPE x [<!ENTITY a "b">]><x/>', 'dtd.xml')).toThrow(
      'MALFORMED_FILE: dtd.xml: the document has a DTD',
    );
    expect(() =>
      parseCamt054(
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt/></Document>',
        'stmt.xml',
      ),
    ).toThrow(
      'MALFORMED_FILE: stmt.xml: not a camt.054 BankToCustomerDebitCreditNotification (namespace urn:iso:std:iso:20022:tech:xsd:camt.053.001.08)',
    );
  });

  it('answers a pain.001 file the way a bank would', async () => {
    const pain = buildPain001([payout('A-1', 100n, 'EUR'), payout('A-2', 250n, 'BHD')], {
      messageId: 'P1',
      createdAt: '2026-03-01T09:00:00Z',
      debtor: accounts.escrow,
    });
    const answer = answerPain001(pain.xml, {
      messageId: 'BANK-P1',
      createdAt: '2026-03-02T06:00:00Z',
      bookingDate: '2026-03-02',
      returns: { 'A-2': { code: 'AC01' } },
    });
    expect(await schemaErrors(answer, 'camt.054.001.08')).toEqual([]);
    expect(
      parseCamt054(answer).transactions.map((t) => [t.endToEndId, t.creditDebit, t.outcome, t.amountMinor]),
    ).toEqual([
      ['A-2', 'DBIT', 'paid', 250n],
      ['A-2', 'CRDT', 'failed', 250n],
      ['A-1', 'DBIT', 'paid', 100n],
    ]);
  });
});
