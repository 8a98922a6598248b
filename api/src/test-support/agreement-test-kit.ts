import { grantAuditEverywhere } from './audit-grants.js';
import { createHash, randomUUID } from 'node:crypto';
import { pino } from 'pino';
import {
  agreementTermsSha256,
  agreementTermsTransientKey,
  type AgreementTerms,
  type AgreementView,
  type MilestoneRecord,
  type Role,
  type TaskRecord,
} from '@gigledger/chaincode/model';
import type { LedgerClient } from '@gigledger/gateway';
import { startTestServer, type Person, type TestServer } from './test-server.js';

/*
 * Test support for the agreement suites: a cast of people on a running test server,
 * and agreements put into a given state directly through the in-memory ledger (each
 * call signed as the person acting), so that each test drives only the operation it
 * is about through HTTP.
 */

export type { Person };

export interface Cast {
  readonly client: Person;
  readonly freelancer: Person;
  readonly evaluator: Person;
  readonly settlement: Person;
  readonly arbitrators: readonly [Person, Person, Person];
  readonly auditor: Person;
  /** No agreement scope at all. */
  readonly issuer: Person;
  readonly otherClient: Person;
  readonly otherFreelancer: Person;
  readonly otherEvaluator: Person;
  /** An HR system's API key (role hr, scopes agreements:read and the other reads). */
  readonly hrKey: string;
}

/** Where an operation acts: an agreement and, for milestone operations, a milestone. */
export interface Target {
  readonly agreementId: string;
  readonly milestoneId: string;
  /** The pending settlement instruction, when the state has one. */
  readonly instructionId?: string;
}

/** How much of the ledger changed, to show that a refused request wrote nothing. */
export interface LedgerMark {
  /** Every ledger call, reads included: unchanged means the ledger was never called. */
  readonly transactions: number;
  /** Transactions that wrote something. */
  readonly writes: number;
  readonly keys: readonly string[];
}

export const artifactSha256 = createHash('sha256').update('model weights v1').digest('hex');
export const reportSha256 = createHash('sha256').update('evaluation report').digest('hex');
export const reviewWindowSeconds = 3600;

export const terms: AgreementTerms = {
  scope: 'Confidential scope: fine-tune the defect classifier on the data room',
  rates: [{ description: 'Senior ML engineer', amount: '9500', currency: 'EUR', per: 'hour' }],
  personalData: { freelancerLegalName: 'Tom Example' },
  salt: '9b2e4c7a1f3d5b6e8c0a2d4f6b8e1c3a',
};
export const termsSha256 = agreementTermsSha256(terms);

export function resultSha256(taskId: string): string {
  return createHash('sha256').update(`result of ${taskId}`).digest('hex');
}

export function newRequestId(): string {
  return `req-${randomUUID()}`;
}

const silent = pino({ level: 'silent' });

export class AgreementKit {
  readonly server: TestServer;
  readonly cast: Cast;
  #agreements = 0;

  private constructor(server: TestServer, cast: Cast) {
    this.server = server;
    this.cast = cast;
  }

  /** Starts a test server and enrols the cast. */
  static async start(environment: Record<string, string> = {}): Promise<AgreementKit> {
    const server = await startTestServer(environment);
    const person = (userId: string, org: string, role: Role) => server.person(userId, org, role);
    const cast: Cast = {
      client: await person('carol', 'ClientOrg', 'client'),
      freelancer: await person('tom', 'TalentOrg', 'freelancer'),
      evaluator: await person('eval-harness', 'ClientOrg', 'evaluator'),
      settlement: await person('psp-bank', 'AuditOrg', 'settlement'),
      arbitrators: [
        await person('arb-ann', 'AuditOrg', 'arbitrator'),
        await person('arb-ben', 'AuditOrg', 'arbitrator'),
        await person('arb-cyd', 'AuditOrg', 'arbitrator'),
      ],
      auditor: await person('audrey', 'AuditOrg', 'auditor'),
      issuer: await person('uni-registrar', 'AuditOrg', 'issuer'),
      otherClient: await person('dave', 'ClientOrg', 'client'),
      otherFreelancer: await person('mallory', 'TalentOrg', 'freelancer'),
      otherEvaluator: await person('other-harness', 'ClientOrg', 'evaluator'),
      // The freelancer's organisation's HR system: it reads its own people's agreements.
      hrKey: (await server.service('acme-hr', 'TalentOrg', 'hr')).key,
    };
    await grantAuditEverywhere(server, cast.auditor);
    // The three arbitrators belong to neither party's organisation, so every dispute's panel is all three.
    await server.genesis(
      cast.arbitrators.map((arbitrator) => ({
        type: 'addArbitrator' as const,
        arbitrator: arbitrator.party,
        displayName: arbitrator.party.userId,
      })),
    );
    return new AgreementKit(server, cast);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  nextAgreementId(): string {
    this.#agreements += 1;
    return `A-${String(this.#agreements).padStart(3, '0')}`;
  }

  ledgerAs(person: Person): Promise<LedgerClient> {
    return this.server.ledger.clientFor(person.principal, silent);
  }

  /** An instant `days` after the ledger's clock. */
  daysAhead(days: number): string {
    return new Date((this.server.ledger.ledger.nowSeconds + days * 86_400) * 1000).toISOString();
  }

  /** Moves the transaction clock past every review window. */
  passReviewWindow(): void {
    this.server.ledger.ledger.advanceSeconds(reviewWindowSeconds + 1);
  }

  /**
   * A draft between the cast's client and freelancer, naming the evaluator: milestone m1
   * (a deliverable with an accuracy threshold) and, with `batch`, b1 (two labelling tasks).
   */
  draftRequest(agreementId: string, options: { batch?: boolean } = {}) {
    const deliverable = {
      kind: 'deliverable' as const,
      milestoneId: 'm1',
      title: 'Baseline model',
      amount: '150000',
      currency: 'EUR',
      dueDate: this.daysAhead(30),
      reviewWindowSeconds,
      acceptanceCriteria: {
        description: 'Accuracy on the hold-out set',
        thresholds: [{ metric: 'accuracy', operator: '>=' as const, value: 0.9 }],
      },
    };
    const batch = {
      kind: 'batch' as const,
      milestoneId: 'b1',
      title: 'Label two images',
      amount: '2000',
      currency: 'EUR',
      dueDate: this.daysAhead(20),
      reviewWindowSeconds,
      acceptanceCriteria: { description: 'Boxes follow the guideline' },
      taskAmount: '1000',
      tasks: [
        { taskId: 't1', instructions: 'Box the defects in image 1' },
        { taskId: 't2', instructions: 'Box the defects in image 2' },
      ],
    };
    return {
      requestId: newRequestId(),
      agreementId,
      title: `Defect classifier ${agreementId}`,
      client: this.cast.client.party,
      freelancer: this.cast.freelancer.party,
      evaluator: this.cast.evaluator.party,
      milestones: options.batch === true ? [deliverable, batch] : [deliverable],
    };
  }

  async offered(options: { batch?: boolean; milestoneId?: string } = {}): Promise<Target> {
    const agreementId = this.nextAgreementId();
    const client = await this.ledgerAs(this.cast.client);
    await client.agreements.draftAgreement(this.draftRequest(agreementId, options), {
      transient: { [agreementTermsTransientKey]: terms },
    });
    return { agreementId, milestoneId: options.milestoneId ?? 'm1' };
  }

  async active(options: { batch?: boolean; milestoneId?: string } = {}): Promise<Target> {
    const target = await this.offered(options);
    const freelancer = await this.ledgerAs(this.cast.freelancer);
    await freelancer.agreements.acceptAgreement({ agreementId: target.agreementId, termsSha256 });
    return target;
  }

  /** Funding asked for, the provider's confirmation pending. */
  async funding(options: { batch?: boolean; milestoneId?: string } = {}): Promise<Target> {
    const target = await this.active(options);
    const client = await this.ledgerAs(this.cast.client);
    const funding = await client.agreements.fundMilestone({ requestId: newRequestId(), ...ref(target) });
    return { ...target, instructionId: pendingInstruction(funding.result) };
  }

  async funded(options: { batch?: boolean; milestoneId?: string } = {}): Promise<Target> {
    const target = await this.funding(options);
    await this.confirmPending(target);
    return { agreementId: target.agreementId, milestoneId: target.milestoneId };
  }

  async submitted(): Promise<Target> {
    const target = await this.funded();
    const freelancer = await this.ledgerAs(this.cast.freelancer);
    await freelancer.agreements.submitDeliverable({
      requestId: newRequestId(),
      ...ref(target),
      artifactSha256,
      uri: 'https://models.example.com/defects/v1.safetensors',
      claimedMetrics: { accuracy: 0.93 },
    });
    return target;
  }

  async accepted(): Promise<Target> {
    const target = await this.submitted();
    const client = await this.ledgerAs(this.cast.client);
    await client.agreements.acceptMilestone(ref(target));
    return target;
  }

  /** Released, with the payout instruction pending. */
  async released(): Promise<Target> {
    const target = await this.accepted();
    const client = await this.ledgerAs(this.cast.client);
    const released = await client.agreements.releaseMilestone({ requestId: newRequestId(), ...ref(target) });
    return { ...target, instructionId: pendingInstruction(released.result) };
  }

  /** Paid out: with a single milestone the agreement is then completed. */
  async paid(): Promise<Target> {
    const target = await this.released();
    await this.confirmPending(target);
    return { agreementId: target.agreementId, milestoneId: target.milestoneId };
  }

  async disputed(): Promise<Target> {
    const target = await this.submitted();
    const freelancer = await this.ledgerAs(this.cast.freelancer);
    await freelancer.agreements.openDispute({
      requestId: newRequestId(),
      ...ref(target),
      reason: 'The client has not reviewed the delivery',
    });
    return target;
  }

  /** Batch b1 funded, task t1 delivered. */
  async tasksSubmitted(): Promise<Target> {
    const target = await this.funded({ batch: true, milestoneId: 'b1' });
    const freelancer = await this.ledgerAs(this.cast.freelancer);
    await freelancer.agreements.submitTasks({
      requestId: newRequestId(),
      ...ref(target),
      results: [{ taskId: 't1', resultSha256: resultSha256('t1') }],
    });
    return target;
  }

  /** Confirms every pending instruction of the milestone as paid, as the settlement provider. */
  async confirmPending(target: Target): Promise<MilestoneRecord> {
    const settlement = await this.ledgerAs(this.cast.settlement);
    let milestone = await this.milestone(target);
    for (const instruction of milestone.instructions.filter((candidate) => candidate.status === 'pending')) {
      const confirmed = await settlement.agreements.confirmSettlement({
        requestId: newRequestId(),
        ...ref(target),
        instructionId: instruction.instructionId,
        outcome: 'paid',
        providerReference: `psp-${instruction.instructionId.replaceAll('/', '-')}`,
      });
      milestone = confirmed.result;
    }
    return milestone;
  }

  /** The agreement as the auditor reads it: any agreement, whoever the parties. */
  async view(agreementId: string): Promise<AgreementView> {
    const auditor = await this.ledgerAs(this.cast.auditor);
    return auditor.agreements.getAgreement({ agreementId });
  }

  async milestone(target: Pick<Target, 'agreementId' | 'milestoneId'>): Promise<MilestoneRecord> {
    const view = await this.view(target.agreementId);
    const milestone = view.milestones.find((candidate) => candidate.milestoneId === target.milestoneId);
    if (milestone === undefined) throw new Error(`no milestone ${target.milestoneId} in ${target.agreementId}`);
    return milestone;
  }

  async tasks(target: Pick<Target, 'agreementId' | 'milestoneId'>): Promise<TaskRecord[]> {
    const auditor = await this.ledgerAs(this.cast.auditor);
    return auditor.agreements.listTasks(ref(target));
  }

  mark(): LedgerMark {
    const ledger = this.server.ledger.ledger;
    return {
      transactions: ledger.transactions.length,
      writes: ledger.transactions.filter((transaction) => transaction.writes.length > 0).length,
      keys: ledger.keys(),
    };
  }
}

function ref(target: Pick<Target, 'agreementId' | 'milestoneId'>): { agreementId: string; milestoneId: string } {
  return { agreementId: target.agreementId, milestoneId: target.milestoneId };
}

function pendingInstruction(milestone: MilestoneRecord): string {
  const pending = milestone.instructions.find((instruction) => instruction.status === 'pending');
  if (pending === undefined) throw new Error(`milestone ${milestone.milestoneId} has no pending instruction`);
  return pending.instructionId;
}
