import { createHash } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { AgreementContract } from '../contracts/agreement-contract';
import { AuditContract } from '../contracts/audit-contract';
import { GovernanceContract } from '../contracts/governance-contract';
import { ParameterContract } from '../contracts/parameter-contract';
import { agreementTermsSha256, type AgreementTerms } from '../model/agreement';
import type { MilestoneRecord } from '../model/agreement-records';
import type { AuditRecordKind } from '../model/audit';
import type { GovernanceAction } from '../model/governance';
import type { ParameterName, ParameterValue } from '../model/parameter';
import { InMemoryLedger, testIdentity, type TestIdentity } from './in-memory-ledger';

export const client = testIdentity('ClientOrgMSP', 'carol', 'client');
export const freelancer = testIdentity('TalentOrgMSP', 'tara', 'freelancer');
export const evaluator = testIdentity('ClientOrgMSP', 'harness', 'evaluator', 'eval-harness');
export const otherClient = testIdentity('ClientOrgMSP', 'dave', 'client');
export const otherFreelancer = testIdentity('TalentOrgMSP', 'tom', 'freelancer');
/** Carol's userId in a certificate that carries the freelancer role. */
export const clientAsFreelancer = testIdentity('ClientOrgMSP', 'carol-2', 'freelancer', 'carol');
export const noUserId: TestIdentity = { mspId: 'ClientOrgMSP', name: 'anon', attributes: { role: 'client' } };
export const settlement = testIdentity('AuditOrgMSP', 'settler', 'settlement', 'settlement-svc');
export const auditor = testIdentity('AuditOrgMSP', 'audrey', 'auditor');
export const admin: TestIdentity = { mspId: 'ClientOrgMSP', name: 'ops', attributes: { role: 'admin', userId: 'ops' } };
export const arbitrators: readonly TestIdentity[] = ['arb-ann', 'arb-ben', 'arb-cyd', 'arb-dot'].map((userId) => ({
  mspId: 'AuditOrgMSP',
  name: userId,
  attributes: { role: 'arbitrator', userId },
}));
export const [arbitratorA, arbitratorB, arbitratorC, arbitratorD] = arbitrators as [
  TestIdentity,
  TestIdentity,
  TestIdentity,
  TestIdentity,
];

export const clientParty = { mspId: 'ClientOrgMSP', userId: 'carol' };
export const freelancerParty = { mspId: 'TalentOrgMSP', userId: 'tara' };
export const evaluatorParty = { mspId: 'ClientOrgMSP', userId: 'eval-harness' };

export const agreementId = 'A-17';
export const terms: AgreementTerms = {
  salt: '5f0c2a9e7d31b4c68e2f90a1d3b57c4e',
  scope: 'Fine-tune a defect classifier on the client data room; confidential scope text.',
  rates: [{ description: 'Senior ML engineer', amount: '9500', currency: 'EUR', per: 'hour' }],
  personalData: { freelancerLegalName: 'Tara Example' },
};
export const termsSha256 = agreementTermsSha256(terms);

/**
 * The one refusal for an agreement id the caller cannot rely on: the agreement does not
 * exist, or exists and the caller may not read it. Matches the whole message.
 */
export function missingAgreement(id = agreementId, field = 'agreementId'): RegExp {
  return new RegExp(`^NOT_FOUND\\[${field}\\]: agreement ${id} does not exist$`);
}

export const artifactA = 'a'.repeat(64);
export const artifactB = 'b'.repeat(64);
export const reportHash = 'c'.repeat(64);

/** A deterministic hash of the data item a task is about. */
export function inputHash(taskId: string): string {
  return createHash('sha256').update(`input of ${taskId}`).digest('hex');
}

/** A deterministic result hash for a task. */
export function resultHash(taskId: string, revision = 1): string {
  return createHash('sha256').update(`${taskId}#${revision}`).digest('hex');
}

export const feeBps = 250;
export const reviewWindowSeconds = 3 * 24 * 3600;
export const defaultReviewWindowSeconds = 5 * 24 * 3600;
export const maxRevisions = 2;

const day = 24 * 3600;

/** Instant `days` after the test ledger's start. */
export function daysFrom(ledger: InMemoryLedger, days: number): string {
  return new Date((ledger.nowSeconds + days * day) * 1000).toISOString();
}

/** The key Fabric builds for a composite key, for reading the ledger directly in assertions. */
export function compositeKey(objectType: string, ...attributes: string[]): string {
  return `\u0000${objectType}\u0000${attributes.map((attribute) => `${attribute}\u0000`).join('')}`;
}

export const agreementKey = (id = agreementId): string => compositeKey('agreement', id);
export const milestoneKey = (milestoneId: string, id = agreementId): string =>
  compositeKey('milestone', id, milestoneId);
export const taskKey = (milestoneId: string, taskId: string, id = agreementId): string =>
  compositeKey('task', id, milestoneId, taskId);

/** A draft with two deliverable milestones (m1 with an accuracy threshold) and, optionally, a batch m3. */
export function draftRequest(ledger: InMemoryLedger, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    requestId: 'draft-0001',
    agreementId,
    title: 'Defect classifier',
    client: clientParty,
    freelancer: freelancerParty,
    evaluator: evaluatorParty,
    milestones: [
      {
        kind: 'deliverable',
        milestoneId: 'm1',
        title: 'Baseline model',
        amount: '150001',
        currency: 'EUR',
        dueDate: daysFrom(ledger, 14),
        reviewWindowSeconds,
        acceptanceCriteria: {
          description: 'Accuracy on the client hold-out set',
          thresholds: [{ metric: 'accuracy', operator: '>=', value: 0.92 }],
          evaluationDataset: 'client hold-out set v3',
        },
      },
      {
        kind: 'deliverable',
        milestoneId: 'm2',
        title: 'Deployment package',
        amount: '50000',
        currency: 'EUR',
        dueDate: daysFrom(ledger, 30),
        acceptanceCriteria: { description: 'Container image passes the smoke test' },
      },
    ],
    ...overrides,
  };
}

export const batchMilestone = (ledger: InMemoryLedger, taskCount = 3): Record<string, unknown> => ({
  kind: 'batch',
  milestoneId: 'm3',
  title: 'Label 3 images',
  amount: String(1200 * taskCount),
  currency: 'USD',
  dueDate: daysFrom(ledger, 10),
  reviewWindowSeconds,
  acceptanceCriteria: { description: 'Bounding boxes match the guideline' },
  taskAmount: '1200',
  tasks: Array.from({ length: taskCount }, (_, index) => ({
    taskId: `t${index + 1}`,
    instructions: `Draw boxes around defects in image ${index + 1}`,
    inputSha256: inputHash(`t${index + 1}`),
  })),
});

/** The standard draft with a batch milestone m3 added. */
export function draftWithBatch(
  ledger: InMemoryLedger,
  batch: Record<string, unknown> = batchMilestone(ledger),
): Record<string, unknown> {
  const request = draftRequest(ledger);
  return { ...request, milestones: [...(request.milestones as unknown[]), batch] };
}

/**
 * Drives an agreement through the ledger the way the gateway would: one transaction per
 * call, JSON arguments, the caller's identity and transient terms.
 */
export class AgreementDriver {
  readonly contract = new AgreementContract();
  readonly parameters = new ParameterContract();
  readonly governance = new GovernanceContract();
  readonly audit = new AuditContract();
  #requests = 0;
  #auditGrants = 0;

  constructor(readonly ledger: InMemoryLedger = new InMemoryLedger()) {}

  nextRequestId(): string {
    this.#requests += 1;
    return `req-${String(this.#requests).padStart(6, '0')}`;
  }

  /**
   * An admin of `by`'s organisation (ClientOrg's by default) lets every auditor of
   * AuditOrg read its records of these kinds, of any date, for a year. The consortium's
   * longest grant is set first when no suite set the parameters.
   */
  async grantAudit(kinds: readonly AuditRecordKind[], by: TestIdentity = admin): Promise<string> {
    if (this.ledger.read(compositeKey('parameter', 'auditGrantMaxSeconds')) === undefined) {
      await this.setParameter('auditGrantMaxSeconds', 366 * 24 * 3600);
    }
    this.#auditGrants += 1;
    const grantId = `AG-${String(this.#auditGrants)}`;
    const expiresAt = new Date((this.ledger.nowSeconds + 365 * 24 * 3600) * 1000).toISOString();
    await this.ledger.invoke(by, (ctx) =>
      this.audit.grantAuditAccess(
        ctx,
        JSON.stringify({ grantId, auditor: { mspId: auditor.mspId }, kinds, expiresAt, purpose: 'annual audit' }),
      ),
    );
    return grantId;
  }

  async setParameter(name: ParameterName, value: ParameterValue): Promise<void> {
    await this.ledger.invoke(admin, (ctx) => this.parameters.setParameter(ctx, JSON.stringify({ name, value })));
  }

  async setParameters(): Promise<void> {
    await this.setParameter('platformFeeBps', feeBps);
    await this.setParameter('defaultReviewWindowSeconds', defaultReviewWindowSeconds);
    await this.setParameter('maxRevisions', maxRevisions);
    // Payout compliance has its own suite; elsewhere the consortium requires no KYC type.
    await this.setParameter('kycCredentialTypes', []);
    await this.setParameter('settlementOrganisations', [settlement.mspId]);
    await this.setParameter('arbitrationPanelSize', 3);
    await this.setParameter('governanceQuorumBps', 5001);
    await this.setParameter('governancePassThresholdBps', 5000);
    await this.setParameter('governanceMinVotingSeconds', 3600);
    await this.setParameter('governanceMinTimelockSeconds', 3600);
    await this.setParameter('governanceExecutionWindowSeconds', 7 * 24 * 3600);
    await this.setParameter('auditGrantMaxSeconds', 366 * 24 * 3600);
    // Three arbitrators of an organisation neither party belongs to: every panel is all three.
    await this.applyGenesis(
      [arbitratorA, arbitratorB, arbitratorC].map((arbitrator) => ({
        type: 'addArbitrator' as const,
        arbitrator: { mspId: arbitrator.mspId, userId: String(arbitrator.attributes?.userId) },
        displayName: arbitrator.name,
      })),
    );
  }

  /** The bootstrap administrator's direct changes, before genesis is sealed. */
  async applyGenesis(actions: readonly GovernanceAction[]): Promise<void> {
    await this.ledger.invoke(admin, (ctx) => this.governance.applyGenesisActions(ctx, JSON.stringify({ actions })));
  }

  call<Result>(
    identity: TestIdentity,
    body: (contract: AgreementContract, ctx: Context) => Promise<Result>,
    transient?: Record<string, unknown>,
  ): Promise<Result> {
    return this.ledger.invoke(identity, (ctx) => body(this.contract, ctx), { transient });
  }

  draft(request: Record<string, unknown> = draftRequest(this.ledger), as = client, transient: unknown = terms) {
    return this.call(as, (c, ctx) => c.draftAgreement(ctx, JSON.stringify(request)), { terms: transient });
  }

  accept(as = freelancer, hash = termsSha256, id = agreementId) {
    return this.call(as, (c, ctx) => c.acceptAgreement(ctx, JSON.stringify({ agreementId: id, termsSha256: hash })));
  }

  /**
   * A driver on a fresh ledger whose standard agreement is active, with `milestoneId`
   * funded and a deliverable submitted for it: where review, dispute and release begin.
   */
  static async withSubmittedMilestone(milestoneId: string): Promise<AgreementDriver> {
    const driver = new AgreementDriver();
    await driver.active();
    await driver.funded(milestoneId);
    await driver.submit(milestoneId);
    return driver;
  }

  /** Sets the parameters, drafts the standard agreement and has the freelancer accept it. */
  async active(request: Record<string, unknown> = draftRequest(this.ledger)): Promise<void> {
    await this.setParameters();
    await this.draft(request);
    await this.accept(freelancer, termsSha256, String(request.agreementId));
  }

  fund(milestoneId: string, as = client, id = agreementId) {
    return this.call(as, (c, ctx) =>
      c.fundMilestone(ctx, JSON.stringify({ requestId: this.nextRequestId(), agreementId: id, milestoneId })),
    );
  }

  confirm(
    milestoneId: string,
    instructionId: string,
    outcome: 'paid' | 'failed' = 'paid',
    as = settlement,
    id = agreementId,
  ) {
    return this.call(as, (c, ctx) =>
      c.confirmSettlement(
        ctx,
        JSON.stringify({
          requestId: this.nextRequestId(),
          agreementId: id,
          milestoneId,
          instructionId,
          outcome,
          providerReference: `psp-${instructionId.replaceAll('/', '-')}`,
          ...(outcome === 'failed' ? { reason: 'insufficient funds' } : {}),
        }),
      ),
    );
  }

  /** Funds a milestone and records the provider's confirmation. */
  async funded(milestoneId: string, id = agreementId): Promise<MilestoneRecord> {
    const funding = await this.fund(milestoneId, client, id);
    return this.confirm(milestoneId, funding.instructions.at(-1)!.instructionId, 'paid', settlement, id);
  }

  submit(
    milestoneId: string,
    artifact = artifactA,
    as = freelancer,
    extra: Record<string, unknown> = {},
    id = agreementId,
  ) {
    return this.call(as, (c, ctx) =>
      c.submitDeliverable(
        ctx,
        JSON.stringify({
          requestId: this.nextRequestId(),
          agreementId: id,
          milestoneId,
          artifactSha256: artifact,
          uri: `https://artifacts.example.com/${milestoneId}/${artifact.slice(0, 8)}`,
          claimedMetrics: { accuracy: 0.93 },
          ...extra,
        }),
      ),
    );
  }

  acceptMilestone(milestoneId: string, as = client, id = agreementId) {
    return this.call(as, (c, ctx) => c.acceptMilestone(ctx, JSON.stringify({ agreementId: id, milestoneId })));
  }

  reject(milestoneId: string, reason = 'Accuracy is below the agreed threshold', as = client) {
    return this.call(as, (c, ctx) => c.rejectDeliverable(ctx, JSON.stringify({ agreementId, milestoneId, reason })));
  }

  claim(milestoneId: string, as = freelancer) {
    return this.call(as, (c, ctx) => c.claimAcceptance(ctx, JSON.stringify({ agreementId, milestoneId })));
  }

  evaluate(milestoneId: string, metrics: Record<string, number>, artifact = artifactA, as = evaluator) {
    return this.call(as, (c, ctx) =>
      c.postEvaluation(
        ctx,
        JSON.stringify({
          requestId: this.nextRequestId(),
          agreementId,
          milestoneId,
          artifactSha256: artifact,
          metrics,
          reportSha256: reportHash,
          reportUri: 'https://evals.example.com/report/1',
        }),
      ),
    );
  }

  release(milestoneId: string, as = client, id = agreementId) {
    return this.call(as, (c, ctx) =>
      c.releaseMilestone(ctx, JSON.stringify({ requestId: this.nextRequestId(), agreementId: id, milestoneId })),
    );
  }

  dispute(milestoneId: string, as = freelancer, reason = 'The rejection ignores the agreed criteria') {
    return this.call(as, (c, ctx) =>
      c.openDispute(ctx, JSON.stringify({ requestId: this.nextRequestId(), agreementId, milestoneId, reason })),
    );
  }

  vote(milestoneId: string, as: TestIdentity, clientShare: string, freelancerShare: string, escrowAmount?: string) {
    return this.call(as, (c, ctx) =>
      c.castDisputeVote(
        ctx,
        JSON.stringify({
          requestId: this.nextRequestId(),
          agreementId,
          milestoneId,
          escrowAmount: escrowAmount ?? (BigInt(clientShare) + BigInt(freelancerShare)).toString(),
          clientShare,
          freelancerShare,
          reason: 'Partial delivery against the criteria',
        }),
      ),
    );
  }

  cancel(as: TestIdentity, reason = 'Project stopped', id = agreementId) {
    return this.call(as, (c, ctx) => c.cancelAgreement(ctx, JSON.stringify({ agreementId: id, reason })));
  }

  submitTasks(milestoneId: string, taskIds: readonly string[], as = freelancer) {
    return this.call(as, (c, ctx) =>
      c.submitTasks(
        ctx,
        JSON.stringify({
          requestId: this.nextRequestId(),
          agreementId,
          milestoneId,
          results: taskIds.map((taskId) => ({ taskId, resultSha256: resultHash(taskId) })),
        }),
      ),
    );
  }

  reviewTasks(
    milestoneId: string,
    accept: readonly string[],
    reject: readonly { taskId: string; reason: string }[] = [],
    as = client,
  ) {
    return this.call(as, (c, ctx) => c.reviewTasks(ctx, JSON.stringify({ agreementId, milestoneId, accept, reject })));
  }

  claimTasks(milestoneId: string, as = freelancer) {
    return this.call(as, (c, ctx) => c.claimTasksAcceptance(ctx, JSON.stringify({ agreementId, milestoneId })));
  }

  getAgreement(as: TestIdentity = client, id = agreementId) {
    return this.call(as, (c, ctx) => c.getAgreement(ctx, JSON.stringify({ agreementId: id })));
  }

  /**
   * Runs a transaction that must be refused and checks that it left the ledger exactly
   * as it was: no committed transaction, no key, private entry or policy written.
   */
  async expectRefusal(promise: () => Promise<unknown>, expected: RegExp | string): Promise<void> {
    const before = this.#snapshot();
    await expect(promise()).rejects.toThrow(expected);
    expect(this.#snapshot()).toEqual(before);
  }

  #snapshot(): { transactions: number; keys: string[]; values: unknown[]; terms: unknown } {
    const keys = this.ledger.keys();
    return {
      transactions: this.ledger.transactions.length,
      keys,
      values: keys.map((key) => [this.ledger.read(key), this.ledger.committedValidationParameter(key)]),
      terms: this.ledger.readPrivate('agreementTerms', compositeKey('terms', agreementId)),
    };
  }
}
