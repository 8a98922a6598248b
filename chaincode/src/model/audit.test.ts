import { grantAuditAccessRequestSchema, scopeOf, type AuditGrantRecord } from './audit.js';

/*
 * ISO 8601 instants arrive in any precision (`…00Z`, `…00.5Z`, `…00.000Z`), and their
 * text does not sort as their time: `…00.5Z` sorts before `…00Z` though it is later.
 * Audit grants compare them as times.
 */
describe("an audit grant's time window", () => {
  /** What every grant below has in common besides its window. */
  const terms = {
    auditor: { mspId: 'AuditOrgMSP', userId: 'ava' },
    kinds: ['agreement' as const],
    expiresAt: '2027-01-01T00:00:00Z',
    purpose: 'annual audit',
  };
  const request = (from: string, to: string) =>
    grantAuditAccessRequestSchema.safeParse({ grantId: 'AG-1', ...terms, from, to });

  it.each([
    ['a to half a second before from, written with fewer digits', '2026-06-01T00:00:00.5Z', '2026-06-01T00:00:00Z'],
    ['the same instant written with and without milliseconds', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00Z'],
    ['a to before from', '2026-06-02T00:00:00Z', '2026-06-01T00:00:00Z'],
  ])('refuses %s, naming to', (_case, from, to) => {
    const parsed = request(from, to);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['to', 'must be after from'],
    ]);
  });

  it('takes a to later than from whatever the precision of either', () => {
    expect(request('2026-06-01T00:00:00Z', '2026-06-01T00:00:00.5Z').success).toBe(true);
    expect(request('2026-06-01T00:00:00.999Z', '2026-06-01T00:00:01Z').success).toBe(true);
  });

  it("gives the scope the earliest from and the latest to of the auditor's live grants, by time", () => {
    const grant = (grantId: string, from: string, to: string): AuditGrantRecord => ({
      grantId,
      organisation: 'ClientOrgMSP',
      ...terms,
      from,
      to,
      grantedBy: { mspId: 'ClientOrgMSP', userId: 'ada', role: 'admin' },
      grantedAt: '2026-01-01T00:00:00.000Z',
      txId: `tx-${grantId}`,
      status: 'active',
      updatedAt: '2026-01-01T00:00:00.000Z',
      updatedTxId: `tx-${grantId}`,
    });
    const scope = scopeOf({ mspId: 'AuditOrgMSP', userId: 'ava' }, '2026-07-01T00:00:00.000Z', [
      grant('AG-1', '2026-06-01T00:00:00.5Z', '2026-06-30T00:00:00Z'),
      grant('AG-2', '2026-06-01T00:00:00Z', '2026-06-30T00:00:00.5Z'),
    ]);
    expect([scope.from, scope.to]).toEqual(['2026-06-01T00:00:00Z', '2026-06-30T00:00:00.5Z']);
  });
});
