import { Writable } from 'node:stream';
import { pino } from 'pino';
import { agreementTermsSha256, draftAgreementRequestSchema, type AgreementTerms } from '@gigledger/chaincode/model';
import type { Principal } from '../auth/principal.js';
import { Metrics } from '../observability/metrics.js';
import { InMemoryLedgerAccess } from '../test-support/in-memory-ledger-access.js';
import { AgreementService } from './agreement-service.js';

function principal(userId: string, mspId: string, role: Principal['role']): Principal {
  return { kind: 'person', id: userId, userId, org: mspId, mspId, role, scopes: [], identityLabel: `person:${userId}` };
}

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
    const operator = await ledger.clientFor(principal('ops', 'ClientOrgMSP', 'admin'), log);
    for (const [name, value] of [
      ['platformFeeBps', 250],
      ['defaultReviewWindowSeconds', 86_400],
      ['maxRevisions', 2],
    ] as const) {
      await operator.parameters.setParameter({ name, value });
    }
    const service = new AgreementService(ledger);
    const carol = principal('carol', 'ClientOrgMSP', 'client');
    const terms: AgreementTerms = {
      scope: 'SECRET-SCOPE build a fraud model',
      personalData: { taxId: 'SECRET-TAX-ID-123' },
    };
    const request = draftAgreementRequestSchema.parse({
      requestId: 'req-terms-0001',
      agreementId: 'A-terms',
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

    const drafted = await service.draftAgreement({ principal: carol, log }, request, terms);
    expect(drafted.result.agreement.termsSha256).toBe(agreementTermsSha256(terms));
    await expect(
      service.draftAgreement({ principal: carol, log }, { ...request, title: 'Changed' }, terms),
    ).rejects.toMatchObject({ code: 'REQUEST_ID_REUSED' });

    const written = lines.join('');
    expect(written).toContain(drafted.transactionId);
    expect(written).not.toContain('SECRET');
  });
});
