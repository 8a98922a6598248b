import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { agreementTermsSha256, draftAgreementRequestSchema, type AgreementTerms } from '@gigledger/chaincode/model';
import type { TestIdentity } from '@gigledger/chaincode/test-support';
import type { TransactionTransport } from '@gigledger/gateway';
import type { Principal } from '../auth/principal.js';
import { Metrics } from '../observability/metrics.js';
import { InMemoryLedgerAccess } from '../test-support/in-memory-ledger-access.js';
import { AgreementService } from './agreement-service.js';

function principal(userId: string, mspId: string, role: Principal['role']): Principal {
  return { kind: 'person', id: userId, userId, org: mspId, mspId, role, scopes: [], identityLabel: `person:${userId}` };
}

/** Carol's draft of a one-milestone agreement with Tara, due in 30 days. */
function fraudModelDraft(requestId: string, agreementId: string) {
  return draftAgreementRequestSchema.parse({
    requestId,
    agreementId,
    title: 'Fraud model',
    client: { mspId: 'ClientOrgMSP', userId: 'carol' },
    freelancer: { mspId: 'TalentOrgMSP', userId: 'tara' },
    milestones: [
      {
        kind: 'deliverable',
        milestoneId: 'm1',
        title: 'Model',
        amount: '1000',
        currency: 'EUR',
        dueDate: new Date(Date.now() + 30 * 86_400_000).toISOString(),
        acceptanceCriteria: { description: 'Works' },
      },
    ],
  });
}

/** Sets the governed parameters drafting reads, as the operator does before genesis. */
async function setAgreementParameters(ledger: InMemoryLedgerAccess, log: Logger): Promise<void> {
  const operator = await ledger.clientFor(principal('ops', 'ClientOrgMSP', 'admin'), log);
  for (const [name, value] of [
    ['platformFeeBps', 250],
    ['defaultReviewWindowSeconds', 86_400],
    ['maxRevisions', 2],
  ] as const) {
    await operator.parameters.setParameter({ name, value });
  }
}

/** The in-memory ledger, counting the queries each call evaluates. */
class CountingLedger extends InMemoryLedgerAccess {
  evaluations: string[] = [];

  override transportFor(identity: TestIdentity): TransactionTransport {
    const inner = super.transportFor(identity);
    return {
      evaluate: (spec, request, options) => {
        this.evaluations.push(spec.name);
        return inner.evaluate(spec, request, options);
      },
      submit: (spec, request, options) => inner.submit(spec, request, options),
    };
  }
}

const log = pino({ level: 'silent' });
const carol = { principal: principal('carol', 'ClientOrgMSP', 'client'), log };
const tara = { principal: principal('tara', 'TalentOrgMSP', 'freelancer'), log };
const mallory = { principal: principal('mallory', 'ClientOrgMSP', 'client'), log };
const audra = { principal: principal('audra', 'AuditOrgMSP', 'auditor'), log };

/** Accounts of no organisation: every party is taken as named, as for a server enrolling none of theirs. */
const noAccounts = { roleOfIdentity: () => Promise.resolve({ served: false }) };

describe('AgreementService', () => {
  it('never writes the confidential terms to its logs, at any level, on success or refusal', async () => {
    const lines: string[] = [];
    const log = pino(
      { level: 'trace' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const ledger = new InMemoryLedgerAccess(new Metrics());
    await setAgreementParameters(ledger, log);
    const service = new AgreementService(ledger, noAccounts);
    const carol = principal('carol', 'ClientOrgMSP', 'client');
    const terms: AgreementTerms = {
      scope: 'SECRET-SCOPE build a fraud model',
      personalData: { taxId: 'SECRET-TAX-ID-123' },
    };
    const request = fraudModelDraft('req-terms-0001', 'A-terms');

    const drafted = await service.draftAgreement({ principal: carol, log }, request, terms);
    // Terms sent without a salt get one: the hash on the ledger is not that of the guessable document.
    expect(drafted.result.agreement.termsSha256).not.toBe(agreementTermsSha256(terms));
    const held = await service.getTerms({ principal: carol, log }, 'A-terms');
    if (held.status !== 'held') throw new Error('the terms were not held');
    expect(held.terms).toEqual({ ...terms, salt: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown });
    expect(agreementTermsSha256(held.terms)).toBe(drafted.result.agreement.termsSha256);
    // The same request sent again gets the same salt, so the ledger answers it as it did the first time.
    const again = await service.draftAgreement({ principal: carol, log }, request, terms);
    expect(again.transactionId).toBe(drafted.transactionId);
    await expect(
      service.draftAgreement({ principal: carol, log }, { ...request, title: 'Changed' }, terms),
    ).rejects.toMatchObject({ code: 'REQUEST_ID_REUSED' });

    const written = lines.join('');
    expect(written).toContain(drafted.transactionId);
    expect(written).not.toContain('SECRET');
  });

  it('filters a page by completion in the one evaluation that lists it, reading no agreement besides', async () => {
    const ledger = new CountingLedger(new Metrics());
    await setAgreementParameters(ledger, log);
    const service = new AgreementService(ledger, noAccounts);
    for (let index = 0; index < 30; index += 1) {
      const agreementId = `A-open-${String(index).padStart(2, '0')}`;
      await service.draftAgreement(carol, fraudModelDraft(`req-open-${index}`, agreementId), { scope: 'open' });
    }
    ledger.evaluations = [];
    const open = await service.listAgreements(carol, { completed: false, page: { first: 30 } });
    expect(open.items).toHaveLength(30);
    expect(open.items.every((entry) => entry.completed === false)).toBe(true);
    const done = await service.listAgreements(carol, { completed: true, page: { first: 30 } });
    expect(done.items).toEqual([]);
    expect(ledger.evaluations).toEqual(['listAgreementsByParty', 'listAgreementsByParty']);
    // Without the filter the listing says nothing of completion.
    const all = await service.listAgreements(carol, { page: { first: 2 } });
    expect(all.items.map((entry) => entry.completed)).toEqual([undefined, undefined]);
  });

  describe('commands', () => {
    async function drafted(): Promise<{ ledger: CountingLedger; service: AgreementService }> {
      const ledger = new CountingLedger(new Metrics());
      await setAgreementParameters(ledger, log);
      const service = new AgreementService(ledger, noAccounts);
      const request = fraudModelDraft('req-cmd-0001', 'A-cmd');
      await service.draftAgreement(carol, request, { scope: 'a fraud model' });
      return { ledger, service };
    }

    it('submits an accepted command without reading the agreement first', async () => {
      const { ledger, service } = await drafted();
      const { termsSha256 } = await service.getTerms(tara, 'A-cmd');
      ledger.evaluations = [];
      await service.acceptAgreement(tara, { requestId: 'req-cmd-0005', agreementId: 'A-cmd', termsSha256 });
      expect(ledger.evaluations).toEqual([]);
    });

    it('answers a refused command as the read as the caller does: 404 for an agreement or milestone the caller cannot see', async () => {
      const { service } = await drafted();
      const missing = {
        status: 404,
        code: 'NOT_FOUND',
        message: 'agreement A-cmd does not exist or is not visible to you',
      };
      await expect(
        service.fundMilestone(mallory, { requestId: 'req-cmd-0002', agreementId: 'A-cmd', milestoneId: 'm1' }),
      ).rejects.toMatchObject(missing);
      await expect(
        service.cancelAgreement(mallory, { requestId: 'req-cmd-0006', agreementId: 'A-cmd', reason: 'x' }),
      ).rejects.toMatchObject(missing);
      await expect(
        service.fundMilestone(carol, { requestId: 'req-cmd-0003', agreementId: 'A-none', milestoneId: 'm1' }),
      ).rejects.toMatchObject({
        status: 404,
        message: 'agreement A-none does not exist or is not visible to you',
      });
      await expect(
        service.fundMilestone(carol, { requestId: 'req-cmd-0004', agreementId: 'A-cmd', milestoneId: 'm9' }),
      ).rejects.toMatchObject({
        status: 404,
        message: 'milestone m9 of agreement A-cmd does not exist or is not visible to you',
      });
    });

    it("passes on the chaincode's own refusal when the caller can see the agreement", async () => {
      const { service } = await drafted();
      await expect(
        service.acceptMilestone(carol, { requestId: 'req-cmd-0007', agreementId: 'A-cmd', milestoneId: 'm1' }),
      ).rejects.toMatchObject({
        code: 'INVALID_STATE',
      });
    });
  });

  describe('terms', () => {
    it('gives a party the terms with one evaluation, and anyone else the answer the read as the caller gives', async () => {
      const ledger = new CountingLedger(new Metrics());
      await setAgreementParameters(ledger, log);
      const service = new AgreementService(ledger, noAccounts);
      await service.draftAgreement(carol, fraudModelDraft('req-terms-0002', 'A-terms'), { scope: 'a fraud model' });
      ledger.evaluations = [];

      await expect(service.getTerms(tara, 'A-terms')).resolves.toMatchObject({
        status: 'held',
        terms: { scope: 'a fraud model' },
      });
      expect(ledger.evaluations).toEqual(['getTerms']);

      const missing = {
        status: 404,
        code: 'NOT_FOUND',
        message: 'agreement A-terms does not exist or is not visible to you',
      };
      await expect(service.getTerms(mallory, 'A-terms')).rejects.toMatchObject(missing);
      await expect(service.getTerms(carol, 'A-none')).rejects.toMatchObject({
        status: 404,
        message: 'agreement A-none does not exist or is not visible to you',
      });
      // A reader who is not a party (an administrator) may see the agreement but not its terms.
      const adam = { principal: principal('adam', 'ClientOrgMSP', 'admin'), log };
      ledger.evaluations = [];
      await expect(service.getTerms(adam, 'A-terms')).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(ledger.evaluations).toEqual(['getTerms', 'getAgreement']);
      // An auditor outside their grants meets the answer for a missing agreement: a refusal
      // naming its organisations and time would tell which agreements exist.
      await expect(service.getTerms(audra, 'A-terms')).rejects.toMatchObject(missing);
    });
  });
});
