import type { Context } from 'fabric-contract-api';
import { agreementTransactions } from '../model/agreement';
import { RefusalError } from '../ledger/refusal';
import {
  AgreementDriver,
  agreementId,
  artifactA,
  auditor,
  batchMilestone,
  client,
  clientParty,
  draftRequest,
  evaluator,
  freelancer,
  missingAgreement,
  noUserId,
  otherClient,
  otherFreelancer,
  reportHash,
  resultHash,
  terms,
  termsSha256,
} from '../test-support/agreement-fixtures';
import {
  CredentialDriver,
  certBody,
  credentialId,
  degreeClaims,
  hr,
  missingCredential,
  registrar,
  unregisteredIssuer,
} from '../test-support/credential-fixtures';
import { testIdentity, type TestIdentity } from '../test-support/in-memory-ledger';
import { ReputationDriver, zoe } from '../test-support/reputation-fixtures';

/*
 * What a caller may not read must look exactly like what does not exist. Each test asks
 * the same question of two ledgers, one holding the record and one without it, and
 * requires the same refusal, byte for byte (code, field and sentence), with nothing
 * written.
 */

interface Answer {
  readonly message: string;
  readonly code: string;
  readonly field: string | undefined;
}

async function answerOf(run: () => Promise<unknown>): Promise<Answer> {
  try {
    await run();
  } catch (error) {
    if (error instanceof RefusalError) {
      return { message: error.message, code: error.refusal.code, field: error.refusal.field };
    }
    throw error;
  }
  throw new Error('the transaction was expected to be refused, but it succeeded');
}

const exactly = (message: string): RegExp => new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

// Lists name no agreement: a draft names a new one, the others a party or the caller.
const unnamingTransactions = ['draftAgreement', 'listAgreementsByParty', 'listPanelDisputes'] as const;
type AgreementTransaction = Exclude<keyof typeof agreementTransactions, (typeof unnamingTransactions)[number]>;

const instruction = `${agreementId}/m1/fund-escrow-1`;

/** One request per transaction that names an agreement, all naming A-17. */
const agreementRequests: Record<AgreementTransaction, Record<string, unknown>> = {
  acceptAgreement: { agreementId, termsSha256 },
  declineAgreement: { agreementId, reason: 'Not for me' },
  cancelAgreement: { agreementId, reason: 'Project stopped' },
  fundMilestone: { requestId: 'probe-fund', agreementId, milestoneId: 'm1' },
  confirmSettlement: {
    requestId: 'probe-confirm',
    agreementId,
    milestoneId: 'm1',
    instructionId: instruction,
    outcome: 'paid',
    providerReference: 'psp-probe-1',
  },
  retryHeldPayout: { agreementId, milestoneId: 'm1', instructionId: instruction },
  reissueFailedPayout: { agreementId, milestoneId: 'm1', instructionId: instruction },
  submitDeliverable: {
    requestId: 'probe-submit',
    agreementId,
    milestoneId: 'm1',
    artifactSha256: artifactA,
    uri: 'https://artifacts.example.com/m1/probe',
  },
  acceptMilestone: { agreementId, milestoneId: 'm1' },
  rejectDeliverable: { agreementId, milestoneId: 'm1', reason: 'Below the threshold' },
  claimAcceptance: { agreementId, milestoneId: 'm1' },
  postEvaluation: {
    requestId: 'probe-evaluate',
    agreementId,
    milestoneId: 'm1',
    artifactSha256: artifactA,
    metrics: { accuracy: 0.99 },
    reportSha256: reportHash,
  },
  releaseMilestone: { requestId: 'probe-release', agreementId, milestoneId: 'm1' },
  openDispute: {
    requestId: 'probe-dispute',
    agreementId,
    milestoneId: 'm1',
    reason: 'The rejection ignores the criteria',
  },
  castDisputeVote: {
    requestId: 'probe-vote',
    agreementId,
    milestoneId: 'm1',
    escrowAmount: '150001',
    clientShare: '75001',
    freelancerShare: '75000',
    reason: 'Partial delivery',
  },
  submitTasks: {
    requestId: 'probe-tasks',
    agreementId,
    milestoneId: 'm3',
    results: [{ taskId: 't1', resultSha256: resultHash('t1') }],
  },
  reviewTasks: { agreementId, milestoneId: 'm3', accept: ['t1'] },
  claimTasksAcceptance: { agreementId, milestoneId: 'm3' },
  getAgreement: { agreementId },
  getMilestoneHistory: { agreementId, milestoneId: 'm1' },
  listTasks: { agreementId, milestoneId: 'm3' },
  getTerms: { agreementId },
  verifyTerms: { agreementId, terms },
};

type Invocable = Record<AgreementTransaction, (ctx: Context, requestJson: string) => Promise<unknown>>;

function invoke(driver: AgreementDriver, as: TestIdentity, name: AgreementTransaction): Promise<unknown> {
  return driver.call(as, (contract, ctx) =>
    (contract as unknown as Invocable)[name](ctx, JSON.stringify(agreementRequests[name])),
  );
}

/** A settlement service of an organisation neither chosen for settlement nor named in A-17. */
const rogueSettlement = testIdentity('PartnerOrgMSP', 'rogue', 'settlement', 'rogue-svc');

/** Transactions only the settlement service of a chosen organisation may call as that role. */
const settlementTransactions: readonly AgreementTransaction[] = [
  'confirmSettlement',
  'retryHeldPayout',
  'reissueFailedPayout',
];

/**
 * Not party, evaluator or overseer of A-17, or (the auditor) an overseer whom no audit
 * grant lets read it; each for a different reason.
 */
const agreementOutsiders: readonly [string, TestIdentity][] = [
  ['another client', otherClient],
  ['another freelancer', otherFreelancer],
  ['an identity without userId', noUserId],
  ['an evaluator the agreement does not name', { ...evaluator, mspId: 'TalentOrgMSP', name: 'other-harness' }],
  ['an issuer', registrar],
  ['an auditor without an audit grant', auditor],
  ['an auditor without userId or audit grant', { mspId: 'AuditOrgMSP', name: 'anon', attributes: { role: 'auditor' } }],
  ['a settlement service of an organisation not chosen for settlement', rogueSettlement],
];

describe('side channels: agreements', () => {
  let existing: AgreementDriver;
  let missing: AgreementDriver;

  beforeEach(async () => {
    existing = new AgreementDriver();
    await existing.active(
      draftRequest(existing.ledger, {
        milestones: [...(draftRequest(existing.ledger).milestones as unknown[]), batchMilestone(existing.ledger)],
      }),
    );
    await existing.funded('m1');
    await existing.submit('m1');
    missing = new AgreementDriver();
    await missing.setParameters();
  });

  it('covers every transaction that names an agreement by id', () => {
    const named = Object.keys(agreementTransactions).filter(
      (name) => !(unnamingTransactions as readonly string[]).includes(name),
    );
    expect(Object.keys(agreementRequests).sort()).toEqual(named.sort());
  });

  describe.each(agreementOutsiders)('to %s', (_, outsider) => {
    it.each(Object.keys(agreementRequests) as AgreementTransaction[])(
      '%s answers exactly as for an agreement that does not exist, writing nothing',
      async (name) => {
        const absent = await answerOf(() => invoke(missing, outsider, name));
        // Only the settlement role may confirm a settlement at all; every other caller is
        // refused for its role before any record is read, alike in both ledgers. A
        // settlement service of an organisation not chosen is refused for its organisation
        // before the agreement is read.
        const settlementRefusal = outsider === rogueSettlement && settlementTransactions.includes(name);
        if ((name === 'confirmSettlement' && outsider.attributes?.role !== 'settlement') || settlementRefusal) {
          expect(absent.code).toBe('FORBIDDEN');
        } else {
          expect(absent.message).toMatch(missingAgreement());
        }
        await existing.expectRefusal(() => invoke(existing, outsider, name), exactly(absent.message));
        expect(await answerOf(() => invoke(existing, outsider, name))).toEqual(absent);
      },
    );
  });

  it('reads an auditor’s grants before refusing a missing agreement, as before refusing a present one', async () => {
    const reads: AgreementTransaction[] = ['getAgreement', 'getMilestoneHistory', 'listTasks', 'verifyTerms'];
    /** The key ranges a refused read iterated: what a refusal costs beyond point reads. */
    const rangesRead = (driver: AgreementDriver, name: AgreementTransaction) =>
      driver.call(auditor, async (contract, ctx) => {
        await answerOf(() => (contract as unknown as Invocable)[name](ctx, JSON.stringify(agreementRequests[name])));
        return (ctx.stub as unknown as { rangeReads: { start: string }[] }).rangeReads.map((range) => range.start);
      });
    for (const name of reads) {
      const onMissing = await rangesRead(missing, name);
      expect(onMissing).toEqual([expect.stringContaining('auditGrantByAuditor')]);
      expect(await rangesRead(existing, name)).toEqual(onMissing);
    }
  });

  it('still tells a reader on the wrong side why it is refused', async () => {
    await existing.expectRefusal(
      () => invoke(existing, freelancer, 'acceptMilestone'),
      /^FORBIDDEN: only the client may accept milestone m1 of agreement A-17; /,
    );
    await existing.expectRefusal(
      () => invoke(existing, evaluator, 'getTerms'),
      /^FORBIDDEN: only the client or the freelancer may read the terms of agreement A-17/,
    );
  });

  it('answers a draft under a taken id with one sentence, whether or not the caller may read the agreement', async () => {
    const taken = 'ALREADY_EXISTS[agreementId]: the agreement id A-17 is already taken; choose another id';
    // Carol may read A-17; Dave may not, and drafts in his own name.
    const byReader = draftRequest(existing.ledger, { requestId: 'draft-again' });
    const byOutsider = draftRequest(existing.ledger, {
      requestId: 'draft-dave',
      client: { ...clientParty, userId: 'dave' },
    });
    await existing.expectRefusal(() => existing.draft(byReader, client), exactly(taken));
    await existing.expectRefusal(() => existing.draft(byOutsider, otherClient), exactly(taken));
    const reader = await answerOf(() => existing.draft(byReader, client));
    expect(await answerOf(() => existing.draft(byOutsider, otherClient))).toEqual(reader);
    expect(reader.message).not.toMatch(/carol|tara|offered|active/);
  });
});

describe('side channels: credentials', () => {
  let existing: CredentialDriver;
  let missing: CredentialDriver;

  beforeEach(async () => {
    existing = new CredentialDriver();
    await existing.issuers();
    await existing.issue();
    missing = new CredentialDriver();
    await missing.issuers();
  });

  const operations: readonly [string, (driver: CredentialDriver, as: TestIdentity) => Promise<unknown>][] = [
    ['getCredential', (d, as) => d.call(as, (c, ctx) => c.getCredential(ctx, JSON.stringify({ credentialId })))],
    [
      'getCredentialSecrets',
      (d, as) => d.call(as, (c, ctx) => c.getCredentialSecrets(ctx, JSON.stringify({ credentialId }))),
    ],
    ['suspendCredential', (d, as) => d.suspend(credentialId, as)],
    ['reinstateCredential', (d, as) => d.reinstate(credentialId, as)],
    ['revokeCredential', (d, as) => d.revoke(credentialId, as)],
  ];

  const outsiders: readonly [string, TestIdentity][] = [
    ['another freelancer', otherFreelancer],
    ['an identity without userId', noUserId],
    ['the issuer of other credentials', certBody],
    ['an issuer without a record', unregisteredIssuer],
    ['an auditor without an audit grant', auditor],
  ];

  describe.each(outsiders)('to %s', (_, outsider) => {
    it.each(operations)('%s answers exactly as for a credential that does not exist', async (name, run) => {
      const absent = await answerOf(() => run(missing, outsider));
      // Status changes refuse a missing userId or a role other than issuer before the
      // credential is read, alike in both ledgers; every other answer is the missing one.
      if (name.startsWith('get') || outsider.attributes?.role === 'issuer') {
        expect(absent.message).toMatch(missingCredential());
      }
      await existing.expectRefusal(() => run(existing, outsider), exactly(absent.message));
      expect(await answerOf(() => run(existing, outsider))).toEqual(absent);
    });
  });

  it('answers an issue under a taken id with one sentence, whether or not the issuer may read the credential', async () => {
    const taken = `ALREADY_EXISTS[credentialId]: the credential id ${credentialId} is already taken; choose another id`;
    await existing.expectRefusal(
      () => existing.issue(existing.issueRequest(), degreeClaims, registrar),
      exactly(taken),
    );
    // The certification body did not issue it and may not read it.
    await existing.expectRefusal(() => existing.issue(existing.issueRequest(), degreeClaims, certBody), exactly(taken));
  });

  it('lets an anonymous verifier of a presentation disclosing nothing learn neither the holder nor the reasons', async () => {
    await existing.suspend(credentialId, registrar, 'Plagiarism report received');
    const anonymousVerifier: TestIdentity = { mspId: 'ClientOrgMSP', name: 'anonymous' };
    const verdict = await existing.verify({ credentialId, revealedClaims: [] }, anonymousVerifier);
    expect(verdict.valid).toBe(false);
    expect(verdict.reasons).toEqual([
      { code: 'SUSPENDED', message: `credential ${credentialId} is suspended by its issuer` },
    ]);
    expect(verdict.credential).not.toHaveProperty('subject');
    expect(verdict.undisclosedClaims).toEqual([]);
    const text = JSON.stringify(verdict);
    for (const secret of ['tara', 'TalentOrgMSP', 'Plagiarism', 'degree', 'thesis']) expect(text).not.toContain(secret);
    // Guessing the holder wrongly is refused without naming the holder.
    const guessed = await existing.verify(
      { credentialId, revealedClaims: [], expectedSubject: { mspId: 'TalentOrgMSP', userId: 'tom' } },
      hr,
    );
    expect(JSON.stringify(guessed)).not.toContain('tara');
  });
});

describe('side channels: attestations', () => {
  /** Tom (A-18 for Carol) vouches for Tara, naming an agreement of Zoe's he may not read. */
  async function world(withZoeAgreement: boolean): Promise<ReputationDriver> {
    const driver = new ReputationDriver();
    await driver.agreements.setParameters();
    await driver.activeAgreement(agreementId, freelancer, {}, 30);
    await driver.activeAgreement('A-18', otherFreelancer);
    if (withZoeAgreement) await driver.activeAgreement('A-22', zoe);
    return driver;
  }

  const vouch = (driver: ReputationDriver, overrides: Record<string, unknown>) => () =>
    driver.attest(otherFreelancer, {
      requestId: 'vouch-probe',
      subject: { mspId: 'TalentOrgMSP', userId: 'tara' },
      agreementId,
      attesterAgreementId: 'A-18',
      skill: 'pytorch',
      level: 4,
      ...overrides,
    });

  it.each([
    ['the subject agreement', { agreementId: 'A-22' }, missingAgreement('A-22')],
    ["the attester's own agreement", { attesterAgreementId: 'A-22' }, missingAgreement('A-22', 'attesterAgreementId')],
  ])('answers naming someone else’s agreement as %s exactly as a missing one', async (_, overrides, expected) => {
    const existing = await world(true);
    const absent = await answerOf(vouch(await world(false), overrides));
    expect(absent.message).toMatch(expected);
    await existing.expectRefusal(vouch(existing, overrides), exactly(absent.message));
    expect(await answerOf(vouch(existing, overrides))).toEqual(absent);
    for (const name of ['zoe', 'carol', 'tara']) expect(absent.message).not.toContain(name);
  });
});
