import {
  auditEvents,
  subjectRecordKinds,
  type AuditGrantRecord,
  type AuditScope,
  type ReadLogAnchor,
} from '../model/audit';
import {
  AgreementDriver,
  admin,
  agreementId,
  auditor,
  client,
  clientParty,
  freelancer,
  settlement,
} from '../test-support/agreement-fixtures';
import { testIdentity, type TestIdentity } from '../test-support/in-memory-ledger';

const talentAdmin = testIdentity('TalentOrgMSP', 'talent-ops', 'admin');
const otherAuditor = testIdentity('AuditOrgMSP', 'otto', 'auditor');
const outsideAuditor = testIdentity('OutsideOrgMSP', 'olga', 'auditor');
const day = 24 * 3600;
const headHash = (digit: string) => digit.repeat(64);

describe('AuditContract', () => {
  let driver: AgreementDriver;

  const call = <Result>(as: TestIdentity, name: string, request?: unknown): Promise<Result> =>
    driver.ledger.transact(as, driver.audit, name, request);
  const inDays = (days: number) => new Date((driver.ledger.nowSeconds + days * day) * 1000).toISOString();
  const grant = (overrides: Record<string, unknown> = {}, as: TestIdentity = admin) =>
    call<AuditGrantRecord>(as, 'grantAuditAccess', {
      grantId: 'AG-1',
      auditor: { mspId: 'AuditOrgMSP', userId: 'audrey' },
      kinds: ['agreement'],
      expiresAt: inDays(30),
      purpose: 'statutory audit 2026',
      ...overrides,
    });
  const readAgreement = (as: TestIdentity = auditor) => driver.getAgreement(as);

  beforeEach(async () => {
    driver = new AgreementDriver();
    await driver.active();
  });

  describe('grants', () => {
    it('records the grant for the admin organisation, with the transaction time, and emits it', async () => {
      const granted = await grant({ kinds: ['agreement', 'credential'], from: '2026-01-01T00:00:00.000Z' });
      expect(granted).toMatchObject({
        grantId: 'AG-1',
        organisation: 'ClientOrgMSP',
        auditor: { mspId: 'AuditOrgMSP', userId: 'audrey' },
        kinds: ['agreement', 'credential'],
        from: '2026-01-01T00:00:00.000Z',
        status: 'active',
        grantedBy: { mspId: 'ClientOrgMSP', userId: 'ops', role: 'admin' },
        grantedAt: new Date(driver.ledger.nowSeconds * 1000).toISOString(),
      });
      expect(driver.ledger.lastEvent).toEqual({
        name: auditEvents.accessGranted.name,
        payload: expect.objectContaining({ grant: granted }) as unknown,
      });
    });

    it('refuses other roles, a taken id, a past expiry, an empty or repeated kind list and to before from', async () => {
      await grant();
      for (const as of [client, auditor, settlement]) {
        await driver.expectRefusal(
          () => grant({ grantId: 'AG-2' }, as),
          /^FORBIDDEN: only admin may grant audit access/,
        );
      }
      await driver.expectRefusal(
        () => grant(),
        'ALREADY_EXISTS[grantId]: the audit grant id AG-1 is already taken; choose another id',
      );
      await driver.expectRefusal(
        () => grant({ grantId: 'AG-2', expiresAt: inDays(0) }),
        /^VALIDATION_FAILED\[expiresAt\]: expiresAt: must be after the transaction time/,
      );
      await driver.expectRefusal(() => grant({ grantId: 'AG-2', kinds: [] }), /^VALIDATION_FAILED\[kinds\]/);
      await driver.expectRefusal(
        () => grant({ grantId: 'AG-2', kinds: ['ip', 'ip'] }),
        /^VALIDATION_FAILED\[kinds\]: kinds: must not repeat a kind/,
      );
      await driver.expectRefusal(
        () => grant({ grantId: 'AG-2', kinds: ['payroll'] }),
        /^VALIDATION_FAILED\[kinds\.0\]/,
      );
      await driver.expectRefusal(
        () => grant({ grantId: 'AG-2', from: '2026-02-01T00:00:00.000Z', to: '2026-01-01T00:00:00.000Z' }),
        /^VALIDATION_FAILED\[to\]: to: must be after from/,
      );
    });

    it('refuses an expiry later than auditGrantMaxSeconds after the transaction time, and follows the parameter', async () => {
      const now = driver.ledger.nowSeconds;
      const latest = new Date((now + 366 * day) * 1000).toISOString();
      await driver.expectRefusal(
        () => grant({ expiresAt: new Date((now + 366 * day + 1) * 1000).toISOString() }),
        `VALIDATION_FAILED[expiresAt]: expiresAt: must be at most ${String(366 * day)} seconds ` +
          `(auditGrantMaxSeconds) after the transaction time, no later than ${latest}`,
      );
      await driver.expectRefusal(
        () => grant({ expiresAt: '2999-01-01T00:00:00.000Z' }),
        /^VALIDATION_FAILED\[expiresAt\]: expiresAt: must be at most/,
      );
      expect(await grant({ expiresAt: latest })).toMatchObject({ expiresAt: latest, status: 'active' });
      await driver.setParameter('auditGrantMaxSeconds', 30 * day);
      await driver.expectRefusal(
        () => grant({ grantId: 'AG-2', expiresAt: inDays(31) }),
        /^VALIDATION_FAILED\[expiresAt\]: expiresAt: must be at most 2592000 seconds/,
      );
      expect(await grant({ grantId: 'AG-2', expiresAt: inDays(30) })).toMatchObject({ status: 'active' });
    });

    it('refuses an auditor organisation that is no member of the consortium, naming the field', async () => {
      await driver.applyGenesis(
        ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'].map((mspId) => ({
          type: 'setMemberRights' as const,
          mspId,
          voting: true,
          veto: false,
        })),
      );
      await expect(grant({ auditor: { mspId: 'OutsideOrgMSP', userId: 'olga' } })).rejects.toThrow(
        'VALIDATION_FAILED[auditor.mspId]: auditor.mspId: OutsideOrgMSP is no member organisation of the consortium; ' +
          'members are AuditOrgMSP, ClientOrgMSP, TalentOrgMSP',
      );
      // An organisation whose rights were taken away is no member any more.
      await driver.applyGenesis([{ type: 'setMemberRights', mspId: 'LabelOrgMSP', voting: true, veto: false }]);
      expect(await grant({ grantId: 'AG-label', auditor: { mspId: 'LabelOrgMSP' } })).toMatchObject({
        status: 'active',
      });
      await driver.applyGenesis([{ type: 'setMemberRights', mspId: 'LabelOrgMSP', voting: false, veto: false }]);
      await expect(grant({ auditor: { mspId: 'LabelOrgMSP' } })).rejects.toThrow(
        /^VALIDATION_FAILED\[auditor\.mspId\]/,
      );
      expect(await grant()).toMatchObject({ grantId: 'AG-1', auditor: { mspId: 'AuditOrgMSP', userId: 'audrey' } });
    });

    it('is revoked by an admin of the granting organisation only, once', async () => {
      await grant();
      await driver.expectRefusal(
        () => call(talentAdmin, 'revokeAuditAccess', { grantId: 'AG-1', reason: 'not ours' }),
        'NOT_FOUND[grantId]: audit grant AG-1 does not exist',
      );
      await driver.expectRefusal(
        () => call(auditor, 'revokeAuditAccess', { grantId: 'AG-1', reason: 'done' }),
        /^FORBIDDEN: only admin may revoke audit access/,
      );
      const revoked = await call<AuditGrantRecord>(admin, 'revokeAuditAccess', {
        grantId: 'AG-1',
        reason: 'engagement ended',
      });
      expect(revoked).toMatchObject({ status: 'revoked', revocation: { reason: 'engagement ended' } });
      expect(driver.ledger.lastEvent?.name).toBe(auditEvents.accessRevoked.name);
      await driver.expectRefusal(
        () => call(admin, 'revokeAuditAccess', { grantId: 'AG-1', reason: 'again' }),
        /^INVALID_STATE\[grantId\]: audit grant AG-1 was already revoked at /,
      );
    });

    it('lists grants given to the admin and received to the auditor, and nothing to others', async () => {
      await grant();
      await grant({ grantId: 'AG-2', auditor: { mspId: 'AuditOrgMSP' } }, talentAdmin);
      await grant({ grantId: 'AG-3', auditor: { mspId: 'AuditOrgMSP', userId: 'otto' } });
      const ids = (grants: { items: AuditGrantRecord[] }) => grants.items.map((entry) => entry.grantId);
      expect(ids(await call(admin, 'listAuditGrants', {}))).toEqual(['AG-1', 'AG-3']);
      expect(ids(await call(talentAdmin, 'listAuditGrants', {}))).toEqual(['AG-2']);
      expect(ids(await call(auditor, 'listAuditGrants', {}))).toEqual(['AG-1', 'AG-2']);
      expect(ids(await call(otherAuditor, 'listAuditGrants', {}))).toEqual(['AG-2', 'AG-3']);
      expect(await call(outsideAuditor, 'listAuditGrants', {})).toEqual({ items: [], bookmark: '' });
      await expect(call(client, 'listAuditGrants', {})).rejects.toThrow(
        /^FORBIDDEN: only admin or auditor may list audit grants/,
      );
      await expect(call(otherAuditor, 'getAuditGrant', { grantId: 'AG-1' })).rejects.toThrow(
        'NOT_FOUND[grantId]: audit grant AG-1 does not exist',
      );
      expect((await call<AuditGrantRecord>(auditor, 'getAuditGrant', { grantId: 'AG-1' })).grantId).toBe('AG-1');
    });

    it('gives the auditor a scope of live grants only, with their union', async () => {
      await grant({ to: inDays(10) });
      await grant(
        { grantId: 'AG-2', auditor: { mspId: 'AuditOrgMSP' }, kinds: ['credential'], from: inDays(-5), to: inDays(20) },
        talentAdmin,
      );
      await grant({ grantId: 'AG-3', kinds: ['ip'], expiresAt: inDays(1) });
      await grant({ grantId: 'AG-4', kinds: ['licensing'] });
      await call(admin, 'revokeAuditAccess', { grantId: 'AG-4', reason: 'ended' });
      driver.ledger.advanceSeconds(2 * day);
      const scope = await call<AuditScope>(auditor, 'getAuditScope');
      expect(scope.grants.map((entry) => entry.grantId)).toEqual(['AG-1', 'AG-2']);
      expect(scope).toMatchObject({
        organisations: ['ClientOrgMSP', 'TalentOrgMSP'],
        kinds: ['agreement', 'credential'],
      });
      expect(scope.from).toBeUndefined();
      expect(scope.to).toBe(inDays(18));
      await expect(call(admin, 'getAuditScope')).rejects.toThrow(/^FORBIDDEN: only auditor may read an audit scope/);
    });
  });

  describe('auditor reads', () => {
    it('refuses an auditor without a grant exactly as for an id naming no agreement', async () => {
      const missing = { code: 'NOT_FOUND', message: `agreement ${agreementId} does not exist`, field: 'agreementId' };
      await expect(readAgreement()).rejects.toMatchObject({ refusal: missing });
      // Other overseeing roles read as before.
      await expect(readAgreement(admin)).resolves.toMatchObject({ agreement: { agreementId } });
    });

    it('lets the named auditor read within the grant, and nobody else through it', async () => {
      await grant();
      await expect(readAgreement()).resolves.toMatchObject({ agreement: { agreementId } });
      await expect(readAgreement(otherAuditor)).rejects.toThrow(
        /^NOT_FOUND\[agreementId\]: agreement .+ does not exist$/,
      );
      await expect(readAgreement(outsideAuditor)).rejects.toThrow(
        /^NOT_FOUND\[agreementId\]: agreement .+ does not exist$/,
      );
    });

    it('covers the agreement from either party organisation, for every auditor of a named organisation', async () => {
      await grant({ auditor: { mspId: 'AuditOrgMSP' } }, talentAdmin);
      await expect(readAgreement(otherAuditor)).resolves.toMatchObject({ agreement: { agreementId } });
    });

    it('refuses another kind, a time range missing the record, an expired and a revoked grant', async () => {
      await grant({ grantId: 'AG-kind', kinds: ['credential', 'ip'] });
      await grant({ grantId: 'AG-later', from: inDays(1) });
      await grant({ grantId: 'AG-earlier', to: inDays(-1) });
      await grant({ grantId: 'AG-short', expiresAt: inDays(1) });
      await expect(readAgreement()).resolves.toMatchObject({ agreement: { agreementId } });
      driver.ledger.advanceSeconds(2 * day);
      await expect(readAgreement()).rejects.toThrow(/^NOT_FOUND\[agreementId\]: agreement .+ does not exist$/);

      await grant({ grantId: 'AG-revoked' });
      await expect(readAgreement()).resolves.toMatchObject({ agreement: { agreementId } });
      await call(admin, 'revokeAuditAccess', { grantId: 'AG-revoked', reason: 'engagement ended' });
      await expect(readAgreement()).rejects.toThrow(/^NOT_FOUND\[agreementId\]: agreement .+ does not exist$/);
    });

    it('drops uncovered agreements from an auditor list rather than refusing it', async () => {
      const list = async () =>
        (await driver.call(auditor, (c, ctx) => c.listAgreementsByParty(ctx, JSON.stringify({ ...clientParty }))))
          .items;
      expect(await list()).toEqual([]);
      await grant();
      expect((await list()).map((entry) => entry.agreement.agreementId)).toEqual([agreementId]);
      // The parties themselves never need a grant.
      await expect(driver.getAgreement(freelancer)).resolves.toMatchObject({ agreement: { agreementId } });
    });
  });

  describe('whom a record concerns', () => {
    it("tells an admin an agreement's parties' organisations, and nobody for an unknown id, by one call each", async () => {
      const organisationsOf = (as: TestIdentity, kind: string, id: string) =>
        call<string[]>(as, 'recordOrganisations', { kind, id });
      expect(await organisationsOf(talentAdmin, 'agreement', agreementId)).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);
      for (const kind of subjectRecordKinds) {
        expect([kind, await organisationsOf(admin, kind, 'never-made')]).toEqual([kind, []]);
      }
      await expect(organisationsOf(auditor, 'agreement', agreementId)).rejects.toThrow(/^FORBIDDEN/);
    });
  });

  describe('read-log anchors', () => {
    const anchor = (sequence: number, digit: string, as: TestIdentity = settlement) =>
      call<ReadLogAnchor>(as, 'anchorReadLog', { sequence, headHash: headHash(digit) });

    it('keeps each head of the service organisation and lists them in sequence order', async () => {
      const first = await anchor(3, 'a');
      expect(first).toMatchObject({ mspId: 'AuditOrgMSP', sequence: 3, headHash: headHash('a') });
      expect(driver.ledger.lastEvent?.name).toBe(auditEvents.readLogAnchored.name);
      await anchor(12, 'b');
      // Repeating the latest head is answered with the stored anchor.
      expect(await anchor(12, 'b')).toMatchObject({ sequence: 12, txId: expect.any(String) as unknown });
      const anchors = await call<{ items: ReadLogAnchor[] }>(client, 'listReadLogAnchors', { mspId: 'AuditOrgMSP' });
      expect(anchors.items.map((entry) => entry.sequence)).toEqual([3, 12]);
      expect(await call(client, 'listReadLogAnchors', { mspId: 'ClientOrgMSP' })).toEqual({ items: [], bookmark: '' });
    });

    it("keeps each of an organisation's read logs apart: one log's head does not hold another's back", async () => {
      const logA = headHash('e');
      const logB = headHash('f');
      const anchorOf = (logId: string, sequence: number, digit: string) =>
        call<ReadLogAnchor>(settlement, 'anchorReadLog', { sequence, headHash: headHash(digit), logId });
      expect(await anchorOf(logA, 40, 'a')).toMatchObject({ logId: logA, sequence: 40 });
      // A second deployment's log starts from its own first rows.
      expect(await anchorOf(logB, 3, 'b')).toMatchObject({ logId: logB, sequence: 3 });
      await anchorOf(logB, 7, 'c');
      await driver.expectRefusal(
        () => anchorOf(logA, 39, 'd'),
        `READ_LOG_ANCHOR_CONFLICT[sequence]: the read log ${logA.slice(0, 12)} of AuditOrgMSP was anchored at sequence 40; a head at 39 would go back`,
      );
      // An anchor from before logs had ids keeps its own head.
      await anchor(2, 'd');
      const list = async (logId?: string) =>
        (
          await call<{ items: ReadLogAnchor[] }>(client, 'listReadLogAnchors', {
            mspId: 'AuditOrgMSP',
            ...(logId === undefined ? {} : { logId }),
          })
        ).items;
      expect((await list(logB)).map((entry) => [entry.logId, entry.sequence])).toEqual([
        [logB, 3],
        [logB, 7],
      ]);
      expect((await list(logA)).map((entry) => entry.sequence)).toEqual([40]);
      expect((await list()).map((entry) => entry.sequence).sort((a, b) => a - b)).toEqual([2, 3, 7, 40]);
    });

    it('refuses a head that goes back or rewrites an anchored sequence, and people', async () => {
      await anchor(5, 'a');
      await driver.expectRefusal(
        () => anchor(4, 'c'),
        'READ_LOG_ANCHOR_CONFLICT[sequence]: the read log of AuditOrgMSP was anchored at sequence 5; a head at 4 would go back',
      );
      await driver.expectRefusal(
        () => anchor(5, 'c'),
        `READ_LOG_ANCHOR_CONFLICT[headHash]: sequence 5 of the read log of AuditOrgMSP is anchored with hash ${headHash('a')}, not ${headHash('c')}`,
      );
      await driver.expectRefusal(() => anchor(6, 'd', admin), /^FORBIDDEN: only settlement may anchor a read log/);
      await driver.expectRefusal(
        () => call(settlement, 'anchorReadLog', { sequence: 6, headHash: headHash('d'), logId: 'not-a-hash' }),
        /^VALIDATION_FAILED\[logId\]/,
      );
      await driver.expectRefusal(
        () => call(settlement, 'anchorReadLog', { sequence: 6, headHash: 'XYZ' }),
        /^VALIDATION_FAILED\[headHash\]/,
      );
    });
  });
});
