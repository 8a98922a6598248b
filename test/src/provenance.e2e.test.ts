import { createHash, randomBytes } from 'node:crypto';
import type { AgreementTerms } from '@gigledger/chaincode/model';
import { qsccLedgerBlocks, RefusedError, type LedgerSession } from '@gigledger/gateway';
import { grantAuditTo, openE2eContext, partyOf, type E2eContext } from './support/ledger.js';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const requestId = (): string => `req-${randomBytes(8).toString('hex')}`;
/** The organisations of the agreementTerms and datasetSubjectData collections. */
const memberOrgs = ['ClientOrgMSP', 'TalentOrgMSP'];

/** The refusal code a ledger call ends with. */
async function refusalOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
  } catch (error) {
    if (error instanceof RefusedError) return error.code;
    throw error;
  }
  return undefined;
}

describe('dataset provenance, access grants and GDPR erasure on the real network', () => {
  let context: E2eContext;
  let controller: LedgerSession;
  let grantee: LedgerSession;
  let stranger: LedgerSession;
  let auditor: LedgerSession;
  const suffix = randomBytes(3).toString('hex');
  const id = (name: string) => `${name}-${suffix}`;

  beforeAll(async () => {
    context = openE2eContext();
    controller = await context.enroll('TalentOrg', 'freelancer', 'tara');
    grantee = await context.enroll('ClientOrg', 'client', 'gina');
    stranger = await context.enroll('ClientOrg', 'client', 'dave');
    auditor = await context.enroll('AuditOrg', 'auditor', 'audrey');
    await grantAuditTo(context, 'TalentOrg', auditor, ['agreement', 'provenance']);
  });

  afterAll(() => {
    context.close();
  });

  const dataset = (recordId: string, parents?: string[]) => ({
    requestId: requestId(),
    recordId,
    contentSha256: sha(recordId),
    title: `Dataset ${recordId}`,
    licence: { kind: 'spdx' as const, expression: 'CC-BY-4.0' },
    source: 'https://data.example.org/defects',
    legalBasis: 'consent' as const,
    piiClass: 'personal' as const,
    retention: { kind: 'period' as const, period: 'P5Y' },
    ...(parents === undefined
      ? {}
      : { derivedFrom: { parents, transformation: { description: `derive ${recordId}`, codeSha256: sha(recordId) } } }),
  });

  it('reads a lineage of three generations back as a graph, and refuses a duplicate hash naming the first', async () => {
    const first = await controller.provenance.registerDataset(dataset(id('raw')));
    await controller.provenance.registerDataset(dataset(id('clean'), [id('raw')]));
    await controller.provenance.registerDataset(dataset(id('labelled'), [id('clean')]));
    await grantee.provenance.registerModel({
      requestId: requestId(),
      recordId: id('model'),
      contentSha256: sha(id('model')),
      title: 'Defect classifier',
      licence: { kind: 'text', text: 'Internal use only.' },
      trainedOn: [id('labelled')],
      trainingCodeSha256: [sha('train.py')],
    });

    // Read through the auditor's own organisation's peer, which holds every record.
    const down = await auditor.provenance.getLineage({ recordId: id('raw'), direction: 'descendants', depth: 5 });
    expect(down.nodes.map((node) => [node.recordId, node.distance])).toEqual([
      [id('raw'), 0],
      [id('clean'), 1],
      [id('labelled'), 2],
      [id('model'), 3],
    ]);
    expect(down.edges.map((edge) => `${edge.from}>${edge.to}:${edge.relation}`)).toEqual([
      `${id('raw')}>${id('clean')}:derivedFrom`,
      `${id('clean')}>${id('labelled')}:derivedFrom`,
      `${id('labelled')}>${id('model')}:trainedOn`,
    ]);
    const up = await grantee.provenance.getLineage({ recordId: id('labelled'), direction: 'ancestors', depth: 1 });
    expect(up.nodes.map((node) => node.recordId)).toEqual([id('labelled'), id('clean')]);
    expect(up.truncated).toBe(true);

    const duplicate = grantee.provenance.registerDataset({ ...dataset(id('copy')), contentSha256: sha(id('raw')) });
    await expect(duplicate).rejects.toThrow(
      `content ${sha(id('raw'))} is already registered as dataset ${id('raw')} by TalentOrgMSP/${partyOf(controller).userId} in transaction ${first.result.txId}`,
    );
  });

  it('logs each use of an access grant, and refuses it once revoked', async () => {
    const datasetId = id('shared');
    const grantId = id('grant');
    await controller.provenance.registerDataset(dataset(datasetId));
    await controller.provenance.grantAccess({
      requestId: requestId(),
      grantId,
      datasetId,
      grantee: partyOf(grantee),
      purpose: 'Benchmark the defect classifier',
      scope: ['read', 'evaluate'],
      expiresAt: new Date(Date.now() + 24 * 3600 * 1000).toISOString(),
    });
    const read = await grantee.provenance.recordAccess({ requestId: requestId(), grantId, scope: 'read' });
    const evaluated = await grantee.provenance.recordAccess({ requestId: requestId(), grantId, scope: 'evaluate' });
    expect(read.result.accessId).toBe(read.transactionId);
    // Someone the grant does not name may not read it either: refused as for a grant id naming none.
    expect(await refusalOf(stranger.provenance.recordAccess({ requestId: requestId(), grantId, scope: 'read' }))).toBe(
      'NOT_FOUND',
    );

    // The ledger keeps uses under the grant, then the using transaction's id: key order, not time order.
    const log = [read.result, evaluated.result].sort((a, b) => (a.accessId < b.accessId ? -1 : 1));
    expect(await controller.provenance.listAccessLog({ datasetId })).toEqual({ items: log, bookmark: '' });
    expect(await auditor.provenance.listAccessLog({ datasetId, grantId })).toEqual({ items: log, bookmark: '' });
    // One use per page: the peer's bookmark carries the second page.
    const firstPage = await controller.provenance.listAccessLog({ datasetId, pageSize: 1 });
    expect(firstPage.items).toEqual(log.slice(0, 1));
    const secondPage = await controller.provenance.listAccessLog({
      datasetId,
      pageSize: 1,
      bookmark: firstPage.bookmark,
    });
    expect(secondPage).toEqual({ items: log.slice(1), bookmark: '' });
    expect(await refusalOf(grantee.provenance.listAccessLog({ datasetId }))).toBe('FORBIDDEN');

    const revoked = await controller.provenance.revokeAccess({ grantId, reason: 'Benchmark finished' });
    expect(revoked.result.status).toBe('revoked');
    expect(await refusalOf(grantee.provenance.recordAccess({ requestId: requestId(), grantId, scope: 'read' }))).toBe(
      'ACCESS_GRANT_REVOKED',
    );
    expect((await controller.provenance.listAccessLog({ datasetId })).items).toEqual(log);
  });

  /** Polls until a peer answers as expected: private data reaches the other member's peer by gossip. */
  async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = await read();
      if (done(value) || Date.now() > deadline) return value;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  it("purges a dataset's subject data from every member peer, keeps the hash, and the receipt verifies on each", async () => {
    const datasetId = id('subjects');
    const subjectData = {
      contact: 'dpo@example.org',
      consentForms: 'batch 2026-03, 412 forms',
      salt: randomBytes(16).toString('hex'),
    };
    const registered = await controller.provenance.registerDataset(dataset(datasetId), {
      transient: { subjectData },
    });
    const sha256 = registered.result.subjectData?.sha256;
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    // Both member organisations' peers hold the data before the erasure.
    for (const org of memberOrgs) {
      expect(
        await eventually(
          () => controller.provenance.getSubjectData({ datasetId }, { organizations: [org] }),
          (answer) => answer.status === 'held',
        ),
      ).toEqual({ status: 'held', datasetId, sha256, subjectData });
    }

    const receipt = await controller.provenance.requestErasure({
      requestId: requestId(),
      receiptId: id('erase-subjects'),
      target: { kind: 'datasetSubjectData', datasetId },
      dataSubject: partyOf(grantee),
      ground: 'a',
      reason: 'Consent withdrawn',
    });
    expect(receipt.result).toMatchObject({ legalBasis: 'GDPR Art. 17(1)(a)', txId: receipt.transactionId });
    // The receipt's transaction is found in the block it committed in, through each member's peer.
    for (const session of [controller, grantee]) {
      const blocks = qsccLedgerBlocks(session.gateway.getNetwork(context.config.channel));
      expect(await blocks.blockNumberOf(receipt.result.txId)).toBe(receipt.blockNumber);
    }
    expect(await controller.provenance.getSubjectData({ datasetId })).toEqual({
      status: 'erased',
      datasetId,
      sha256,
      receiptId: id('erase-subjects'),
      erasedAt: receipt.result.at,
    });
    // The record names the erasure as its last write (where a proof of it is found), the registration as its first.
    expect(await controller.provenance.getRecord({ recordId: datasetId })).toMatchObject({
      txId: registered.transactionId,
      updatedTxId: receipt.transactionId,
      updatedAt: receipt.result.at,
    });

    // Asked on each member organisation's peer in turn, by the controller and by the data subject.
    for (const verifier of [controller, grantee]) {
      for (const org of memberOrgs) {
        const check = await verifier.provenance.verifyErasure(
          { receiptId: id('erase-subjects') },
          { organizations: [org] },
        );
        expect({ org, ...check }).toMatchObject({
          org,
          privateDataOnPeer: 'absent',
          privateDataAbsent: true,
          ledgerSha256: sha256,
          hashMatches: true,
          recordedAsErased: true,
          verified: true,
        });
      }
    }
    // AuditOrg's peer never held the data; its copy of the collection's hash is gone too.
    expect(await auditor.provenance.verifyErasure({ receiptId: id('erase-subjects') })).toMatchObject({
      privateDataOnPeer: 'notReadable',
      privateDataAbsent: true,
      verified: true,
    });
  });

  it("purges an offer's terms from both parties' peers on the freelancer's request, after which it cannot be accepted", async () => {
    const client = grantee;
    const agreementId = `A-${suffix}`;
    const terms: AgreementTerms = {
      salt: randomBytes(16).toString('hex'),
      scope: 'Label 10,000 defect images.',
      personalData: { freelancerLegalName: 'Tara Example', freelancerAddress: '1 Example Street' },
    };
    const drafted = await client.agreements.draftAgreement(
      {
        requestId: requestId(),
        agreementId,
        title: 'Defect labelling',
        client: partyOf(client),
        freelancer: partyOf(controller),
        milestones: [
          {
            kind: 'deliverable',
            milestoneId: 'm1',
            title: 'Labels',
            amount: '50000',
            currency: 'EUR',
            dueDate: new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString(),
            acceptanceCriteria: { description: 'agreement with the gold set of at least 0.95' },
          },
        ],
      },
      { transient: { terms } },
    );
    const termsSha256 = drafted.result.agreement.termsSha256;
    // Both member organisations' peers hold the terms before the erasure.
    for (const org of memberOrgs) {
      expect(
        await eventually(
          () => client.agreements.getTerms({ agreementId }, { organizations: [org] }),
          (answer) => answer.status === 'held',
        ),
      ).toMatchObject({ status: 'held', terms });
    }

    await controller.provenance.requestErasure({
      requestId: requestId(),
      receiptId: id('erase-terms'),
      target: { kind: 'agreementTerms', agreementId },
      dataSubject: partyOf(controller),
      ground: 'c',
    });
    for (const party of [client, controller]) {
      for (const org of memberOrgs) {
        expect(await party.agreements.getTerms({ agreementId }, { organizations: [org] })).toMatchObject({
          status: 'erased',
          termsSha256,
          receiptId: id('erase-terms'),
        });
        const check = await party.provenance.verifyErasure({ receiptId: id('erase-terms') }, { organizations: [org] });
        expect({ org, ...check }).toMatchObject({
          org,
          privateDataOnPeer: 'absent',
          privateDataAbsent: true,
          ledgerSha256: termsSha256,
          hashMatches: true,
          verified: true,
        });
      }
    }
    // The hash stays on the channel: a party holding its own copy can still prove what was agreed.
    expect(await auditor.agreements.verifyTerms({ agreementId, terms })).toMatchObject({
      matches: true,
      privateDataHashMatches: false,
    });
    expect(await refusalOf(stranger.provenance.verifyErasure({ receiptId: id('erase-terms') }))).toBe('NOT_FOUND');
    // Nobody can read the offer any more, so nobody can be bound by it.
    expect(await refusalOf(controller.agreements.acceptAgreement({ agreementId, termsSha256 }))).toBe(
      'PERSONAL_DATA_ERASED',
    );
  });
});
