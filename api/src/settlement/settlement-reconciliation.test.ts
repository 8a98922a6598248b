import {
  discrepancyKinds,
  reconcile,
  type DiscrepancyKind,
  type LedgerInstructionView,
  type SettlementOutboxTable,
  type StatementEntry,
} from '@gigledger/settlement';

const from = new Date('2026-03-01T00:00:00.000Z');
const to = new Date('2026-03-02T00:00:00.000Z');
const now = new Date('2026-03-01T12:00:00.000Z');
const requestedAt = '2026-03-01T10:00:00.000Z';
const id = 'A-7/m1/release-1';

function onLedger(overrides: Partial<LedgerInstructionView> = {}): LedgerInstructionView {
  return { instructionId: id, amountMinor: 146_250n, currency: 'EUR', status: 'paid', requestedAt, ...overrides };
}

function inOutbox(overrides: Partial<SettlementOutboxTable> = {}): SettlementOutboxTable {
  return {
    instruction_id: id,
    source: 'agreement',
    agreement_id: 'A-7',
    milestone_id: 'm1',
    kind: 'release',
    direction: 'payout',
    provider: 'sandbox',
    counterparty_msp: 'TalentOrgMSP',
    counterparty_user: 'tara',
    amount: '146250',
    platform_fee: '3750',
    currency: 'EUR',
    request_tx_id: 'tx000042',
    block_number: '42',
    requested_at: requestedAt,
    state: 'confirmed',
    attempts: 1,
    next_attempt_at: null,
    last_error: null,
    provider_reference: 'sbx_1',
    outcome: 'paid',
    outcome_reason: null,
    confirm_tx_id: 'tx000050',
    payout_account_id: 'pa_test',
    reissue_of: null,
    created_at: '2026-03-01T10:00:01.000Z',
    updated_at: '2026-03-01T10:05:00.000Z',
    ...overrides,
  };
}

function booked(overrides: Partial<StatementEntry> = {}): StatementEntry {
  return {
    instructionId: id,
    providerReference: 'sbx_1',
    direction: 'payout',
    amountMinor: 146_250n,
    currency: 'EUR',
    status: 'paid',
    bookedAt: '2026-03-01T10:01:00.000Z',
    ...overrides,
  };
}

interface Sides {
  readonly ledger: readonly LedgerInstructionView[];
  readonly outbox: readonly SettlementOutboxTable[];
  readonly statements: readonly StatementEntry[];
}

/** A-7's escrow, collected the week before: what the release pays out was paid in. */
const escrowCollected = inOutbox({
  instruction_id: 'A-7/m1/fund-escrow-1',
  kind: 'fund-escrow',
  direction: 'collect',
  counterparty_msp: 'ClientOrgMSP',
  counterparty_user: 'carol',
  amount: '150000',
  platform_fee: '0',
  requested_at: '2026-02-22T10:00:00.000Z',
  created_at: '2026-02-22T10:00:01.000Z',
});

const check = (sides: Sides, stuckAfterSeconds = 3600) =>
  reconcile({
    organisation: 'ClientOrgMSP',
    from,
    to,
    now,
    stuckAfterSeconds,
    ...sides,
    outbox: [escrowCollected, ...sides.outbox],
  });

describe('reconcile', () => {
  it('reports nothing when ledger, outbox and statement agree, and ignores held payouts and other periods', () => {
    const earlier = 'A-1/m1/release-1';
    const report = check({
      ledger: [
        onLedger(),
        onLedger({ instructionId: 'A-8/m1/release-1', status: 'held' }),
        // Requested before the period: none of its absences are this report's business.
        onLedger({ instructionId: earlier, status: 'pending', requestedAt: '2026-02-27T10:00:00.000Z' }),
      ],
      outbox: [inOutbox()],
      statements: [booked(), booked({ instructionId: 'A-9/m1/fund-escrow-1', bookedAt: '2026-02-28T09:00:00.000Z' })],
    });

    expect(report).toEqual({
      from: from.toISOString(),
      to: to.toISOString(),
      checkedAt: now.toISOString(),
      counts: { ledger: 2, outbox: 1, provider: 1 },
      discrepancies: [],
    });
  });

  const cases: [DiscrepancyKind, string, Sides][] = [
    [
      'missing-in-outbox',
      'requested on the ledger, never taken in',
      { ledger: [onLedger({ status: 'pending' })], outbox: [], statements: [] },
    ],
    [
      'missing-at-provider',
      'sent, but absent from the statement',
      {
        ledger: [onLedger({ status: 'pending' })],
        outbox: [inOutbox({ state: 'sent', outcome: null, created_at: '2026-03-01T11:59:00.000Z' })],
        statements: [],
      },
    ],
    ['missing-on-ledger', 'in the outbox only', { ledger: [], outbox: [inOutbox()], statements: [booked()] }],
    ['missing-on-ledger', 'booked by the provider only', { ledger: [], outbox: [], statements: [booked()] }],
    [
      'duplicated-at-provider',
      'booked twice',
      { ledger: [onLedger()], outbox: [inOutbox()], statements: [booked(), booked({ providerReference: 'sbx_2' })] },
    ],
    [
      'amount-mismatch',
      'the outbox amount differs from the ledger',
      { ledger: [onLedger({ amountMinor: 146_000n })], outbox: [inOutbox()], statements: [booked()] },
    ],
    [
      'amount-mismatch',
      'the provider booked another amount',
      { ledger: [onLedger()], outbox: [inOutbox()], statements: [booked({ amountMinor: 146_249n })] },
    ],
    [
      'currency-mismatch',
      'the outbox currency differs from the ledger',
      { ledger: [onLedger({ currency: 'USD' })], outbox: [inOutbox()], statements: [booked()] },
    ],
    [
      'currency-mismatch',
      'the provider booked another currency',
      { ledger: [onLedger()], outbox: [inOutbox()], statements: [booked({ currency: 'CHF' })] },
    ],
    [
      'status-mismatch',
      'the ledger recorded another outcome',
      { ledger: [onLedger({ status: 'failed' })], outbox: [inOutbox()], statements: [booked()] },
    ],
    [
      'status-mismatch',
      'the provider reports another outcome',
      { ledger: [onLedger()], outbox: [inOutbox()], statements: [booked({ status: 'failed' })] },
    ],
    [
      'stuck',
      'open for longer than allowed',
      {
        ledger: [onLedger({ status: 'pending' })],
        outbox: [inOutbox({ state: 'retry', outcome: null, last_error: 'HTTP 503' })],
        statements: [],
      },
    ],
    [
      'pending-elsewhere',
      "another organisation's is still pending on the ledger after the limit",
      { ledger: [onLedger({ status: 'pending', settlingOrganisation: 'TalentOrgMSP' })], outbox: [], statements: [] },
    ],
    [
      'paid-beyond-collected',
      'a payout leaves before its collection was paid',
      {
        ledger: [onLedger()],
        outbox: [
          inOutbox(),
          // A second release of the same escrow, sent to the provider: 292 500 out for 150 000 in.
          inOutbox({
            instruction_id: 'A-7/m1/release-2',
            state: 'sent',
            outcome: null,
            reissue_of: 'A-7/m1/release-1',
            created_at: '2026-02-28T10:00:00.000Z',
            requested_at: '2026-02-28T10:00:00.000Z',
          }),
        ],
        statements: [booked()],
      },
    ],
    [
      'dead-letter',
      'given up on',
      {
        ledger: [onLedger({ status: 'pending' })],
        outbox: [inOutbox({ state: 'dead', outcome: null, last_error: 'HTTP 422 ACCOUNT_CLOSED: closed' })],
        statements: [],
      },
    ],
  ];

  it.each(cases)('reports %s when %s, and nothing else', (kind, _when, sides) => {
    const instructionId = kind === 'paid-beyond-collected' ? 'A-7/m1/release-1' : id;
    expect(check(sides).discrepancies).toEqual([{ kind, instructionId, detail: expect.any(String) as string }]);
  });

  it("leaves out instructions another organisation's settlement service sends, and keeps those naming none", () => {
    const sides = {
      ledger: [
        onLedger({ settlingOrganisation: 'ClientOrgMSP' }),
        onLedger({ instructionId: 'A-8/m1/release-1', status: 'pending', settlingOrganisation: 'TalentOrgMSP' }),
        onLedger({ instructionId: 'A-9/m1/release-1', status: 'pending' }),
      ],
      outbox: [inOutbox()],
      statements: [booked()],
    };
    const missing = (organisation: string | undefined) =>
      reconcile({
        ...(organisation === undefined ? {} : { organisation }),
        from,
        to,
        now,
        stuckAfterSeconds: 3600,
        ...sides,
        outbox: [escrowCollected, ...sides.outbox],
      })
        .discrepancies.filter((discrepancy) => discrepancy.kind === 'missing-in-outbox')
        .map((discrepancy) => discrepancy.instructionId);
    expect(missing('ClientOrgMSP')).toEqual(['A-9/m1/release-1']);
    expect(missing(undefined)).toEqual(['A-8/m1/release-1', 'A-9/m1/release-1']);
  });

  it("reports another organisation's instruction still pending after the stuck limit: its service may not run", () => {
    const elsewhere = (stuckAfterSeconds: number) =>
      check(
        {
          ledger: [
            onLedger({ instructionId: 'A-8/m1/release-1', status: 'pending', settlingOrganisation: 'TalentOrgMSP' }),
            onLedger({ instructionId: 'A-6/m1/release-1', status: 'paid', settlingOrganisation: 'TalentOrgMSP' }),
          ],
          outbox: [],
          statements: [],
        },
        stuckAfterSeconds,
      ).discrepancies;
    const age = Math.round((now.getTime() - Date.parse(onLedger().requestedAt)) / 1000);
    expect(elsewhere(age - 1)).toEqual([
      {
        kind: 'pending-elsewhere',
        instructionId: 'A-8/m1/release-1',
        detail: `pending for ${age} s, left to the settlement service of TalentOrgMSP, which has recorded no answer`,
      },
    ]);
    expect(elsewhere(age + 1)).toEqual([]);
  });

  it('counts a collection another organisation made before a hand-over as paid in for the payout made here', () => {
    // A-7's escrow was collected by ClientOrg's service; TalentOrg's service, listed first since, pays the release.
    const collectedByClientOrg = onLedger({
      instructionId: 'A-7/m1/fund-escrow-1',
      amountMinor: 150_000n,
      requestedAt: '2026-02-22T10:00:00.000Z',
      settlingOrganisation: 'ClientOrgMSP',
      record: { source: 'agreement', recordId: 'A-7', itemId: 'm1', direction: 'collect' },
    });
    const release = onLedger({ settlingOrganisation: 'TalentOrgMSP' });
    const overdrawn = (ledger: LedgerInstructionView[]) =>
      reconcile({
        organisation: 'TalentOrgMSP',
        from,
        to,
        now,
        stuckAfterSeconds: 3600,
        ledger,
        outbox: [inOutbox()],
        statements: [booked()],
      }).discrepancies.map((discrepancy) => discrepancy.kind);
    expect(overdrawn([collectedByClientOrg, release])).toEqual([]);
    // Without that collection on the ledger the release here is money out that nobody paid in.
    expect(overdrawn([release])).toEqual(['paid-beyond-collected']);
  });

  it('balances each record: payouts paid or with a provider never above what was collected for it', () => {
    // A royalty month paid to its owners with nothing collected from the licensee.
    const royalty = (n: number, overrides: Partial<SettlementOutboxTable> = {}) =>
      inOutbox({
        instruction_id: `G-1/2026-02/royalty-${String(n)}`,
        source: 'licensing',
        agreement_id: 'G-1',
        milestone_id: '2026-02',
        kind: 'royalty',
        amount: '600',
        platform_fee: '0',
        ...overrides,
      });
    const ledgerOf = (rows: SettlementOutboxTable[]) =>
      rows.map((row) =>
        onLedger({ instructionId: row.instruction_id, amountMinor: BigInt(row.amount), status: 'pending' }),
      );
    const uncollected = [royalty(1, { state: 'confirmed' }), royalty(2, { state: 'sent', outcome: null })];
    const [overdrawn] = check({
      ledger: ledgerOf(uncollected),
      outbox: uncollected,
      statements: [],
    }).discrepancies.filter((item) => item.kind === 'paid-beyond-collected');
    expect(overdrawn).toEqual({
      kind: 'paid-beyond-collected',
      instructionId: 'G-1/2026-02/royalty-1',
      detail: 'licensing G-1 2026-02: 600 EUR paid or sent out, 0 collected (minor units)',
    });
    // Collected first, the same payouts balance; a failed or dead payout moves nothing.
    const collected = [
      royalty(0, {
        instruction_id: 'G-1/2026-02/collect-1',
        kind: 'collection',
        direction: 'collect',
        amount: '1200',
      }),
      ...uncollected,
      royalty(3, { outcome: 'failed' }),
      royalty(4, { state: 'dead', outcome: null }),
    ];
    expect(
      check({ ledger: ledgerOf(collected), outbox: collected, statements: [] }).discrepancies.filter(
        (item) => item.kind === 'paid-beyond-collected',
      ),
    ).toEqual([]);
  });

  it('has a case for every kind of discrepancy', () => {
    expect(new Set(cases.map(([kind]) => kind))).toEqual(new Set(discrepancyKinds));
  });

  it('does not call an instruction requested before the period unknown because the provider booked it inside', () => {
    // Requested just before midnight, executed just after: on the ledger and in the outbox, only out of scope.
    const lateEvening = '2026-02-28T23:59:00.000Z';
    const report = check({
      ledger: [onLedger({ requestedAt: lateEvening })],
      outbox: [inOutbox({ requested_at: lateEvening, created_at: lateEvening })],
      statements: [booked({ bookedAt: '2026-03-01T00:01:00.000Z' })],
    });
    expect(report.discrepancies).toEqual([]);
  });

  it('says what differs in the detail', () => {
    const [stuck] = check({
      ledger: [onLedger({ status: 'pending' })],
      outbox: [inOutbox({ state: 'retry', outcome: null, last_error: 'HTTP 503' })],
      statements: [],
    }).discrepancies;
    expect(stuck?.detail).toBe('retry for 7199 s: HTTP 503');
    const [amount] = check({
      ledger: [onLedger()],
      outbox: [inOutbox()],
      statements: [booked({ amountMinor: 146_249n })],
    }).discrepancies;
    expect(amount?.detail).toBe('outbox 146250, sandbox booked 146249 (minor units)');
  });
});

describe('reconcile: outcomes no provider answer backs', () => {
  it('flags a payment the ledger calls paid while the outbox never heard from the provider', () => {
    const report = reconcile({
      from,
      to,
      now,
      ledger: [onLedger({ status: 'paid' })],
      outbox: [inOutbox({ state: 'retry', outcome: null, provider_reference: null, confirm_tx_id: null })],
      statements: [],
      stuckAfterSeconds: 86_400,
    });
    expect(report.discrepancies.map((item) => item.kind)).toEqual(['status-mismatch', 'missing-at-provider']);
  });
});
