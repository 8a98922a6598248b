import fc from 'fast-check';
import type { AgreementEventBase } from '../model/agreement-events';
import type {
  InstructionKind,
  MilestoneRecord,
  MilestoneStatus,
  SettlementInstruction,
} from '../model/agreement-records';
import {
  AgreementDriver,
  agreementId,
  agreementKey,
  arbitrators,
  client,
  compositeKey,
  daysFrom,
  defaultReviewWindowSeconds,
  draftRequest,
  feeBps,
  freelancer,
  milestoneKey,
  settlement,
} from '../test-support/agreement-fixtures';
import { CredentialDriver, daysAfterNow, registrar, registrarParty } from '../test-support/credential-fixtures';
import type { TestIdentity } from '../test-support/in-memory-ledger';

/*
 * Issue Z1: whatever order the parties act in and the settlement provider answers in,
 * escrow never pays out more than was collected, no instruction is paid twice, nothing
 * moves without confirmed funding, and a payout reaches the provider only once the
 * payee's KYC cleared it. The real contracts run against the in-memory ledger; a small
 * model of the rules predicts which commands the chaincode must refuse and what each
 * milestone must look like afterwards.
 */

type Side = 'client' | 'freelancer';
type Outcome = 'paid' | 'failed';
type InstructionStatus = SettlementInstruction['status'];

type Command =
  | { readonly kind: 'fund' | 'submit' | 'accept' | 'reject'; readonly milestone: number }
  | { readonly kind: 'release' | 'dispute'; readonly milestone: number; readonly by: Side }
  | { readonly kind: 'vote'; readonly milestone: number; readonly arbitrator: number; readonly clientPerMille: number }
  | { readonly kind: 'cancel'; readonly by: Side }
  | {
      readonly kind: 'confirm';
      readonly milestone: number;
      /** Aims at an instruction that was already answered or is held, to provoke a duplicate. */
      readonly answered: boolean;
      readonly pick: number;
      readonly outcome: Outcome;
    }
  | {
      readonly kind: 'confirmUnknown';
      readonly milestone: number;
      readonly foreign: boolean;
      readonly outcome: Outcome;
    }
  | { readonly kind: 'redeliver'; readonly pick: number; readonly flipOutcome: boolean }
  | { readonly kind: 'retry'; readonly milestone: number; readonly pick: number; readonly by: Side | 'settlement' }
  /** Issues the freelancer a KYC credential that expires `days` later. */
  | { readonly kind: 'grantKyc'; readonly days: number }
  | { readonly kind: 'advance'; readonly days: number }
  | { readonly kind: 'suspendKyc' | 'reinstateKyc' | 'revokeKyc'; readonly pick: number }
  /** The next step a milestone's parties or provider would plausibly take, chosen from its current state. */
  | { readonly kind: 'progress'; readonly milestone: number; readonly choice: number };

/** A command as it runs, with `progress` resolved to a concrete step. */
type Step = Exclude<Command, { kind: 'progress' }>;

interface MilestoneSpec {
  readonly amount: bigint;
  readonly currency: 'EUR' | 'USD' | 'JPY';
}

interface Scenario {
  readonly milestones: readonly MilestoneSpec[];
  readonly commands: readonly Command[];
}

interface ModelInstruction {
  readonly instructionId: string;
  readonly kind: InstructionKind;
  readonly amount: bigint;
  readonly platformFee: bigint;
  status: InstructionStatus;
}

interface ModelMilestone {
  readonly milestoneId: string;
  readonly amount: bigint;
  readonly currency: string;
  status: MilestoneStatus;
  rejections: number;
  /** When the client's review window of the latest delivery closes, in ledger seconds. */
  reviewDeadline: number;
  votes: { arbitrator: number; clientShare: bigint }[];
  instructions: ModelInstruction[];
}

interface ModelCredential {
  readonly credentialId: string;
  readonly expiresAt: number;
  status: 'active' | 'suspended' | 'revoked';
}

interface Model {
  now: number;
  agreementStatus: 'active' | 'cancelled';
  cancellationRequestedBy: Side | undefined;
  readonly milestones: ModelMilestone[];
  readonly credentials: ModelCredential[];
}

/** A confirmation the chaincode accepted, kept so the provider can deliver it again. */
interface DeliveredConfirmation {
  readonly requestJson: string;
  readonly flippedJson: string;
  readonly result: MilestoneRecord;
}

const day = 24 * 3600;
const revisionLimit = 2;
/** The fixtures govern the first three arbitrators, so every panel is those three; the fourth is on none. */
const panelSize = 3;
const majority = 2;
const finalStatuses: readonly MilestoneStatus[] = ['paid', 'settled', 'refunded', 'cancelled'];
const settledStatusOf: Partial<Record<MilestoneStatus, MilestoneStatus>> = {
  released: 'paid',
  resolved: 'settled',
  refunding: 'refunded',
};
const escrowHeldStatuses: readonly MilestoneStatus[] = ['funded', 'submitted', 'rejected'];

const milestoneIndex = fc.nat({ max: 2 });
const side = fc.constantFrom<Side>('client', 'freelancer');
const outcome = fc.constantFrom<Outcome>('paid', 'failed');

// Reaching a final status takes half a dozen commands aimed at one milestone in the right
// order, which blind draws of up to 25 commands rarely produce; `progress` commands pick a
// plausible next step from the state so that every run gets deep, while the others fire
// at any time to probe refusals and out-of-order answers.
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.record({ kind: fc.constant('progress' as const), milestone: milestoneIndex, choice: fc.nat(99) }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('fund' as const), milestone: milestoneIndex }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('confirm' as const),
      milestone: milestoneIndex,
      answered: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, fc.constant(true)),
      pick: fc.nat({ max: 7 }),
      outcome: fc.oneof({ weight: 3, arbitrary: fc.constant<Outcome>('paid') }, fc.constant<Outcome>('failed')),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('confirmUnknown' as const),
      milestone: milestoneIndex,
      foreign: fc.boolean(),
      outcome,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('redeliver' as const),
      pick: fc.nat({ max: 7 }),
      flipOutcome: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('submit' as const), milestone: milestoneIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('accept' as const), milestone: milestoneIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reject' as const), milestone: milestoneIndex }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), milestone: milestoneIndex, by: side }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dispute' as const), milestone: milestoneIndex, by: side }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('vote' as const),
      milestone: milestoneIndex,
      // Mostly the governed panel, sometimes the arbitrator who is on none.
      arbitrator: fc.oneof(
        { weight: 4, arbitrary: fc.nat({ max: panelSize - 1 }) },
        { weight: 1, arbitrary: fc.constant(arbitrators.length - 1) },
      ),
      // A few common splits make majorities form; the free split probes fee rounding.
      clientPerMille: fc.oneof(fc.constantFrom(0, 1000, 500), fc.integer({ min: 0, max: 1000 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), by: side }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('retry' as const),
      milestone: milestoneIndex,
      pick: fc.nat({ max: 7 }),
      by: fc.constantFrom<Side | 'settlement'>('client', 'freelancer', 'settlement'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('grantKyc' as const),
      days: fc.oneof(fc.constant(365), fc.integer({ min: 1, max: 4 })),
    }),
  },
  // Time matters to review windows and to credentials that expire.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), days: fc.integer({ min: 1, max: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom('suspendKyc' as const, 'reinstateKyc' as const, 'revokeKyc' as const),
      pick: fc.nat({ max: 3 }),
    }),
  },
);

const scenario: fc.Arbitrary<Scenario> = fc.record({
  milestones: fc.array(
    fc.record({
      amount: fc.oneof(fc.bigInt({ min: 1n, max: 1000n }), fc.bigInt({ min: 1n, max: 10n ** 15n })),
      currency: fc.constantFrom<MilestoneSpec['currency']>('EUR', 'USD', 'JPY'),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  commands: fc.array(command, { minLength: 1, maxLength: 25, size: 'max' }),
});

const credentialIdOf = (n: number): string => `urn:uuid:6f0e1a52-0000-4000-8000-${String(n).padStart(12, '0')}`;

const sideIdentity = (by: Side | 'settlement'): TestIdentity =>
  by === 'client' ? client : by === 'freelancer' ? freelancer : settlement;

const pickFrom = <T>(items: readonly T[], pick: number): T | undefined => items[pick % Math.max(items.length, 1)];

function feeOf(share: bigint): bigint {
  return (share * BigInt(feeBps)) / 10_000n;
}

function sum(instructions: readonly SettlementInstruction[], kind: InstructionKind, withFee = false): bigint {
  return instructions
    .filter((instruction) => instruction.kind === kind && instruction.status === 'paid')
    .reduce((total, i) => total + BigInt(i.amount) + (withFee ? BigInt(i.platformFee) : 0n), 0n);
}

/** What happened in one run, tallied so the suite can show the generator reaches deep states. */
interface Reached {
  statuses: Set<MilestoneStatus>;
  heldThenPaid: number;
  duplicatesRefused: number;
  redelivered: number;
}

class SettlementRun {
  readonly driver = new AgreementDriver();
  readonly credentials = new CredentialDriver(this.driver.ledger);
  readonly model: Model;
  readonly delivered: DeliveredConfirmation[] = [];
  /** Credentials the model held valid at each transaction that ran a compliance check. */
  readonly validAt = new Map<string, ReadonlySet<string>>();
  /** Every instruction ever handed to the settlement provider in an event. */
  readonly requested = new Set<string>();
  readonly #everHeld = new Set<string>();
  #violations: string[] = [];

  constructor(
    spec: Scenario,
    readonly reached: Reached,
    /** Logs each command as it runs, `progress` resolved, so that a shrunk counterexample reads as a story. */
    readonly log: (line: string) => void,
  ) {
    this.model = {
      now: this.driver.ledger.nowSeconds,
      agreementStatus: 'active',
      cancellationRequestedBy: undefined,
      milestones: spec.milestones.map((milestone, index) => ({
        milestoneId: `m${index + 1}`,
        amount: milestone.amount,
        currency: milestone.currency,
        status: 'unfunded',
        rejections: 0,
        reviewDeadline: 0,
        votes: [],
        instructions: [],
      })),
      credentials: [],
    };
  }

  async setUp(): Promise<void> {
    const base = draftRequest(this.driver.ledger);
    await this.driver.active({
      ...base,
      maxRevisions: revisionLimit,
      milestones: this.model.milestones.map((milestone) => ({
        kind: 'deliverable',
        milestoneId: milestone.milestoneId,
        title: `Milestone ${milestone.milestoneId}`,
        amount: milestone.amount.toString(),
        currency: milestone.currency,
        dueDate: daysFrom(this.driver.ledger, 30),
        acceptanceCriteria: { description: 'Passes the agreed review' },
      })),
    });
    await this.driver.setParameter('kycCredentialTypes', ['KYC']);
    await this.credentials.registerIssuer(registrarParty, ['KYC']);
  }

  async run(generated: Command): Promise<void> {
    const command = generated.kind === 'progress' ? this.#nextStep(generated) : generated;
    this.log(JSON.stringify(command));
    const before = this.driver.ledger.transactions.length;
    await this.#dispatch(command);
    for (const transaction of this.driver.ledger.transactions.slice(before)) {
      if (transaction.event?.name.startsWith('agreement.') === true) this.#checkEvent(transaction.event.payload);
    }
    this.#checkInvariants();
    // Checks collect violations and assert once: a matcher per check would dominate the run time.
    if (this.#violations.length > 0) expect(this.#violations).toEqual([]);
    this.#compareWithModel();
  }

  #check(holds: boolean, violation: () => string): void {
    if (!holds) this.#violations.push(violation());
  }

  #nextStep({ milestone: index, choice }: { milestone: number; choice: number }): Step {
    const milestone = this.#milestone(index);
    const by: Side = choice % 2 === 0 ? 'client' : 'freelancer';
    const answer: Outcome = choice % 6 === 5 ? 'failed' : 'paid';
    // Either side may give up on the whole agreement at any point; it takes both once escrow is funded.
    if (choice % 10 === 9) return { kind: 'cancel', by };
    switch (milestone.status) {
      case 'unfunded':
        return { kind: 'fund', milestone: index };
      case 'funding':
        return { kind: 'confirm', milestone: index, answered: false, pick: choice, outcome: answer };
      case 'funded':
        return { kind: 'submit', milestone: index };
      case 'rejected':
        return choice % 3 === 0 ? { kind: 'dispute', milestone: index, by } : { kind: 'submit', milestone: index };
      case 'submitted': {
        const kinds = ['accept', 'accept', 'reject', 'dispute', 'dispute'] as const;
        const kind = kinds[choice % kinds.length]!;
        return kind === 'dispute' ? { kind, milestone: index, by } : { kind, milestone: index };
      }
      case 'accepted':
        return { kind: 'release', milestone: index, by };
      case 'disputed': {
        // Arbitrators mostly agree on an even split so that majorities form within a short run.
        const splits = [500, 500, 500, 0, 1000, 333, 500, 1];
        const clientPerMille = splits[Math.floor(choice / 4) % splits.length]!;
        // One choice in eight tries the arbitrator who is on no panel.
        const arbitrator = choice % 8 === 7 ? arbitrators.length - 1 : choice % panelSize;
        return { kind: 'vote', milestone: index, arbitrator, clientPerMille };
      }
      case 'released':
      case 'resolved':
      case 'refunding': {
        const held = milestone.instructions.some((i) => i.status === 'held');
        if (held && this.#validCredentials().size === 0 && choice % 4 !== 0)
          return { kind: 'grantKyc', days: choice % 3 === 0 ? 2 : 365 };
        if (held) return { kind: 'retry', milestone: index, pick: choice, by: choice % 3 === 0 ? 'settlement' : by };
        return { kind: 'confirm', milestone: index, answered: choice % 5 === 0, pick: choice, outcome: answer };
      }
      default:
        return { kind: 'confirm', milestone: index, answered: true, pick: choice, outcome: answer };
    }
  }

  async #dispatch(command: Step): Promise<void> {
    const { driver } = this;
    switch (command.kind) {
      case 'fund': {
        const milestone = this.#milestone(command.milestone);
        const refusal = this.#requireActive() ?? this.#requireStatus(milestone, ['unfunded']);
        if (await this.#attempt(refusal, () => driver.fund(milestone.milestoneId))) {
          milestone.status = 'funding';
          this.#issue(milestone, 'fund-escrow', milestone.amount, 0n, 'pending');
        }
        return;
      }
      case 'confirm': {
        const milestone = this.#milestone(command.milestone);
        const pending = milestone.instructions.filter((i) => i.status === 'pending');
        const answered = milestone.instructions.filter((i) => i.status !== 'pending');
        const target =
          pickFrom(command.answered || pending.length === 0 ? answered : pending, command.pick) ??
          pickFrom(milestone.instructions, command.pick);
        if (target === undefined) {
          return this.#confirmUnknown(milestone, `${agreementId}/${milestone.milestoneId}/fund-escrow-1`, 'paid');
        }
        return this.#confirm(milestone, target, command.outcome);
      }
      case 'confirmUnknown': {
        const milestone = this.#milestone(command.milestone);
        const others = this.model.milestones.filter((m) => m !== milestone).flatMap((m) => m.instructions);
        const foreign = command.foreign ? others[0]?.instructionId : undefined;
        return this.#confirmUnknown(
          milestone,
          foreign ?? `${agreementId}/${milestone.milestoneId}/release-99`,
          command.outcome,
        );
      }
      case 'redeliver':
        return this.#redeliver(command.pick, command.flipOutcome);
      case 'submit': {
        const milestone = this.#milestone(command.milestone);
        const refusal = this.#requireActive() ?? this.#requireStatus(milestone, ['funded', 'rejected']);
        if (await this.#attempt(refusal, () => driver.submit(milestone.milestoneId))) {
          milestone.status = 'submitted';
          milestone.reviewDeadline = this.model.now + defaultReviewWindowSeconds;
        }
        return;
      }
      case 'accept': {
        const milestone = this.#milestone(command.milestone);
        const refusal = this.#requireActive() ?? this.#requireStatus(milestone, ['submitted']);
        if (await this.#attempt(refusal, () => driver.acceptMilestone(milestone.milestoneId))) {
          milestone.status = 'accepted';
        }
        return;
      }
      case 'reject': {
        const milestone = this.#milestone(command.milestone);
        const refusal =
          this.#requireActive() ??
          this.#requireStatus(milestone, ['submitted']) ??
          (this.model.now >= milestone.reviewDeadline ? 'INVALID_STATE' : undefined) ??
          (milestone.rejections >= revisionLimit ? 'REVISION_LIMIT_REACHED' : undefined);
        if (await this.#attempt(refusal, () => driver.reject(milestone.milestoneId))) {
          milestone.status = 'rejected';
          milestone.rejections += 1;
        }
        return;
      }
      case 'release': {
        const milestone = this.#milestone(command.milestone);
        const refusal = this.#requireActive() ?? this.#requireStatus(milestone, ['accepted']);
        if (await this.#attempt(refusal, () => driver.release(milestone.milestoneId, sideIdentity(command.by)))) {
          milestone.status = 'released';
          const status = this.#screen();
          this.#issue(
            milestone,
            'release',
            milestone.amount - feeOf(milestone.amount),
            feeOf(milestone.amount),
            status,
          );
        }
        return;
      }
      case 'dispute': {
        const milestone = this.#milestone(command.milestone);
        const refusal = this.#requireActive() ?? this.#requireStatus(milestone, ['submitted', 'rejected']);
        const by = sideIdentity(command.by);
        if (await this.#attempt(refusal, () => driver.dispute(milestone.milestoneId, by))) {
          milestone.status = 'disputed';
          milestone.votes = [];
        }
        return;
      }
      case 'vote':
        return this.#vote(command.milestone, command.arbitrator, command.clientPerMille);
      case 'cancel':
        return this.#cancel(command.by);
      case 'retry':
        return this.#retry(command.milestone, command.pick, command.by);
      case 'grantKyc': {
        const credentialId = credentialIdOf(this.model.credentials.length + 1);
        const expirationDate = daysAfterNow(driver.ledger, command.days);
        const request = this.credentials.issueRequest({ credentialId, type: 'KYC', expirationDate });
        await this.credentials.issue(request, [{ name: 'level', value: 'enhanced', salt: 'a'.repeat(64) }]);
        const expiresAt = this.model.now + command.days * day;
        this.model.credentials.push({ credentialId, expiresAt, status: 'active' });
        return;
      }
      case 'advance':
        driver.ledger.advanceSeconds(command.days * day);
        this.model.now += command.days * day;
        return;
      case 'suspendKyc':
      case 'reinstateKyc':
      case 'revokeKyc': {
        const from = { suspendKyc: ['active'], reinstateKyc: ['suspended'], revokeKyc: ['active', 'suspended'] }[
          command.kind
        ];
        const credential = pickFrom(
          this.model.credentials.filter((candidate) => from.includes(candidate.status)),
          command.pick,
        );
        if (credential === undefined) return;
        const { credentials } = this;
        if (command.kind === 'suspendKyc') await credentials.suspend(credential.credentialId, registrar);
        if (command.kind === 'reinstateKyc') await credentials.reinstate(credential.credentialId, registrar);
        if (command.kind === 'revokeKyc') await credentials.revoke(credential.credentialId, registrar);
        credential.status = { suspendKyc: 'suspended', reinstateKyc: 'active', revokeKyc: 'revoked' }[
          command.kind
        ] as ModelCredential['status'];
        return;
      }
    }
  }

  async #confirm(milestone: ModelMilestone, target: ModelInstruction, answer: Outcome): Promise<void> {
    const requestJson = this.#confirmationJson(milestone.milestoneId, target.instructionId, answer);
    const refusal = target.status === 'pending' ? undefined : 'INVALID_STATE';
    if (refusal !== undefined) {
      if (target.status !== 'held') this.reached.duplicatesRefused += 1;
      await this.#attempt(refusal, () => this.#sendConfirmation(requestJson));
      return;
    }
    const result = await this.#sendConfirmation(requestJson);
    this.delivered.push({
      requestJson,
      flippedJson: this.#confirmationJson(
        milestone.milestoneId,
        target.instructionId,
        answer === 'paid' ? 'failed' : 'paid',
        (JSON.parse(requestJson) as { requestId: string }).requestId,
      ),
      result,
    });
    target.status = answer;
    if (target.kind === 'fund-escrow') {
      milestone.status = answer === 'paid' ? 'funded' : 'unfunded';
      return;
    }
    const settled = settledStatusOf[milestone.status];
    const payouts = milestone.instructions.filter((i) => i.kind !== 'fund-escrow');
    if (settled !== undefined && payouts.every((i) => i.status === 'paid')) milestone.status = settled;
    if (answer === 'paid' && this.#everHeld.has(target.instructionId)) this.reached.heldThenPaid += 1;
  }

  async #confirmUnknown(milestone: ModelMilestone, instructionId: string, answer: Outcome): Promise<void> {
    const requestJson = this.#confirmationJson(milestone.milestoneId, instructionId, answer);
    await this.#attempt('NOT_FOUND', () => this.#sendConfirmation(requestJson));
  }

  /**
   * The provider delivers an earlier confirmation again. The same message must be answered
   * with the stored result and change nothing; the same request id with the other outcome
   * must be refused.
   */
  async #redeliver(pick: number, flipOutcome: boolean): Promise<void> {
    const earlier = pickFrom(this.delivered, pick);
    if (earlier === undefined) return;
    this.reached.redelivered += 1;
    if (flipOutcome) {
      await this.#attempt('REQUEST_ID_REUSED', () => this.#sendConfirmation(earlier.flippedJson));
      return;
    }
    const before = this.#state();
    const answer = await this.#sendConfirmation(earlier.requestJson);
    expect(answer).toEqual(earlier.result);
    expect(this.driver.ledger.transactions.at(-1)!.writes).toEqual([]);
    if (this.#state() !== before) expect(JSON.parse(this.#state())).toEqual(JSON.parse(before));
  }

  async #vote(index: number, arbitrator: number, clientPerMille: number): Promise<void> {
    const milestone = this.#milestone(index);
    const clientShare = (milestone.amount * BigInt(clientPerMille)) / 1000n;
    const freelancerShare = milestone.amount - clientShare;
    const onPanel = milestone.votes.some((vote) => vote.arbitrator === arbitrator);
    // The fourth arbitrator is not governed, so to them the agreement of two other organisations does not exist.
    const refusal = arbitrator >= panelSize ? 'NOT_FOUND' : this.#requireStatus(milestone, ['disputed']);
    const identity = arbitrators[arbitrator]!;
    const voted = await this.#attempt(refusal, () =>
      this.driver.vote(milestone.milestoneId, identity, clientShare.toString(), freelancerShare.toString()),
    );
    if (!voted) return;
    milestone.votes = onPanel
      ? milestone.votes.map((vote) => (vote.arbitrator === arbitrator ? { arbitrator, clientShare } : vote))
      : [...milestone.votes, { arbitrator, clientShare }];
    if (milestone.votes.filter((vote) => vote.clientShare === clientShare).length < majority) return;
    milestone.status = 'resolved';
    if (clientShare > 0n) this.#issue(milestone, 'refund', clientShare, 0n, 'pending');
    if (freelancerShare > 0n) {
      const status = this.#screen();
      this.#issue(milestone, 'release', freelancerShare - feeOf(freelancerShare), feeOf(freelancerShare), status);
    }
  }

  async #cancel(by: Side): Promise<void> {
    const { model } = this;
    const blocked = model.milestones.some((m) => ['funding', 'disputed', 'accepted'].includes(m.status));
    const neverFunded = model.milestones.every((m) => m.status === 'unfunded');
    const complete = model.milestones.every((m) => finalStatuses.includes(m.status));
    const asks = !neverFunded && (model.cancellationRequestedBy ?? by) === by;
    const refusal =
      model.agreementStatus !== 'active' || blocked || complete || (asks && model.cancellationRequestedBy !== undefined)
        ? 'INVALID_STATE'
        : undefined;
    if (!(await this.#attempt(refusal, () => this.driver.cancel(sideIdentity(by))))) return;
    if (asks) {
      model.cancellationRequestedBy = by;
      return;
    }
    model.agreementStatus = 'cancelled';
    for (const milestone of model.milestones) {
      if (milestone.status === 'unfunded') {
        milestone.status = 'cancelled';
      } else if (escrowHeldStatuses.includes(milestone.status)) {
        milestone.status = 'refunding';
        this.#issue(milestone, 'refund', milestone.amount, 0n, 'pending');
      }
    }
  }

  async #retry(index: number, pick: number, by: Side | 'settlement'): Promise<void> {
    const milestone = this.#milestone(index);
    const held = milestone.instructions.filter((i) => i.status === 'held');
    const target = pickFrom(held.length > 0 ? held : milestone.instructions, pick);
    const instructionId = target?.instructionId ?? `${agreementId}/${milestone.milestoneId}/release-1`;
    const refusal =
      target === undefined
        ? 'NOT_FOUND'
        : target.status !== 'held'
          ? 'INVALID_STATE'
          : this.#validCredentials().size === 0
            ? 'COMPLIANCE_HOLD'
            : undefined;
    const retried = await this.#attempt(refusal, () =>
      this.driver.call(sideIdentity(by), (c, ctx) =>
        c.retryHeldPayout(ctx, JSON.stringify({ agreementId, milestoneId: milestone.milestoneId, instructionId })),
      ),
    );
    if (retried && target !== undefined) {
      this.#recordCompliance();
      target.status = 'pending';
    }
  }

  /** Runs a command the model says must succeed, or must be refused with `refusal` leaving the ledger as it was. */
  async #attempt(refusal: string | undefined, transaction: () => Promise<unknown>): Promise<boolean> {
    if (refusal === undefined) {
      await transaction();
      return true;
    }
    // The same check as AgreementDriver.expectRefusal, comparing the ledger as text: a deep
    // equality per refusal would take most of the run time.
    const before = this.#state();
    const transactions = this.driver.ledger.transactions.length;
    const outcome = await transaction().then(
      () => 'accepted',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    if (!new RegExp(`^${refusal}\\b`).test(outcome)) {
      expect(`${outcome} (the model expected ${refusal})`).toMatch(new RegExp(`^${refusal}\\b`));
    }
    if (this.driver.ledger.transactions.length !== transactions) {
      expect(this.driver.ledger.transactions.slice(transactions)).toEqual([]);
    }
    if (this.#state() !== before) expect(JSON.parse(this.#state())).toEqual(JSON.parse(before));
    return false;
  }

  #confirmationJson(milestoneId: string, instructionId: string, answer: Outcome, requestId?: string): string {
    return JSON.stringify({
      requestId: requestId ?? this.driver.nextRequestId(),
      agreementId,
      milestoneId,
      instructionId,
      outcome: answer,
      providerReference: `psp-${instructionId.replaceAll('/', '-')}`,
      ...(answer === 'failed' ? { reason: 'insufficient funds' } : {}),
    });
  }

  #sendConfirmation(requestJson: string): Promise<MilestoneRecord> {
    return this.driver.call(settlement, (c, ctx) => c.confirmSettlement(ctx, requestJson));
  }

  #milestone(index: number): ModelMilestone {
    return this.model.milestones[index % this.model.milestones.length]!;
  }

  #requireActive(): string | undefined {
    return this.model.agreementStatus === 'active' ? undefined : 'INVALID_STATE';
  }

  #requireStatus(milestone: ModelMilestone, allowed: readonly MilestoneStatus[]): string | undefined {
    return allowed.includes(milestone.status) ? undefined : 'INVALID_STATE';
  }

  #validCredentials(): Set<string> {
    const valid = this.model.credentials.filter((c) => c.status === 'active' && this.model.now < c.expiresAt);
    return new Set(valid.map((c) => c.credentialId));
  }

  /** The status a payout to the freelancer gets from the compliance check run by the latest transaction. */
  #screen(): InstructionStatus {
    this.#recordCompliance();
    return this.#validCredentials().size > 0 ? 'pending' : 'held';
  }

  #recordCompliance(): void {
    this.validAt.set(this.driver.ledger.transactions.at(-1)!.txId, this.#validCredentials());
  }

  #issue(milestone: ModelMilestone, kind: InstructionKind, amount: bigint, fee: bigint, status: InstructionStatus) {
    const sameKind = milestone.instructions.filter((i) => i.kind === kind).length;
    const instructionId = `${agreementId}/${milestone.milestoneId}/${kind}-${sameKind + 1}`;
    milestone.instructions.push({ instructionId, kind, amount, platformFee: fee, status });
    if (status === 'held') this.#everHeld.add(instructionId);
  }

  #checkEvent(payload: unknown): void {
    const { settlementRequests, heldPayouts } = payload as AgreementEventBase;
    for (const request of settlementRequests) {
      const id = request.instructionId;
      this.#check(request.status === 'pending', () => `settlement request ${id} is ${request.status}`);
      // A request is sent once; a second one for the same instruction could be paid twice.
      this.#check(!this.requested.has(id), () => `settlement request ${id} was sent before`);
      this.requested.add(id);
      this.#check(
        request.kind !== 'release' || request.compliance?.outcome === 'cleared',
        () => `payout ${id} was sent without a cleared compliance check`,
      );
    }
    for (const held of heldPayouts) {
      this.#check(held.status === 'held', () => `held payout ${held.instructionId} is ${held.status}`);
    }
  }

  /** Every committed key with its value and endorsement policy, and the private terms, as one text. */
  #state(): string {
    const { ledger } = this.driver;
    const decoder = new TextDecoder();
    const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? null : decoder.decode(bytes));
    return JSON.stringify([
      ledger
        .keys()
        .map((key) => [key, text(ledger.committedValue(key)), text(ledger.committedValidationParameter(key))]),
      text(ledger.committedPrivate('agreementTerms', compositeKey('terms', agreementId))),
    ]);
  }

  /** The model and the ledger agree on the agreement, where each milestone is and on every instruction. */
  #compareWithModel(): void {
    const agreement = this.driver.ledger.read(agreementKey()) as { status: string; cancellationRequest?: { by: Side } };
    const { agreementStatus, cancellationRequestedBy } = this.model;
    if (agreement.status !== agreementStatus || agreement.cancellationRequest?.by !== cancellationRequestedBy) {
      expect({ status: agreement.status, cancellationRequestedBy: agreement.cancellationRequest?.by }).toEqual({
        status: agreementStatus,
        cancellationRequestedBy,
      });
    }
    // Instruction amounts and statuses agree too, so the model's totals are the ledger's.
    for (const expected of this.model.milestones) {
      const record = this.driver.ledger.read(milestoneKey(expected.milestoneId)) as MilestoneRecord;
      const actual = { status: record.status, instructions: record.instructions.map(summary) };
      const predicted = {
        status: expected.status,
        instructions: expected.instructions.map((i) => ({
          instructionId: i.instructionId,
          kind: i.kind,
          amount: i.amount.toString(),
          platformFee: i.platformFee.toString(),
          currency: expected.currency,
          status: i.status,
        })),
      };
      if (JSON.stringify(actual) !== JSON.stringify(predicted)) expect(actual).toEqual(predicted);
    }
  }

  #checkInvariants(): void {
    const fundedByCurrency = new Map<string, bigint>();
    const leftByCurrency = new Map<string, bigint>();
    for (const expected of this.model.milestones) {
      const record = this.driver.ledger.read(milestoneKey(expected.milestoneId)) as MilestoneRecord;
      const { instructions } = record;
      const label = `${record.milestoneId} (${record.status}, ${record.amount} ${record.currency})`;
      this.reached.statuses.add(record.status);

      // 2. An instruction id names one payment.
      const ids = instructions.map((i) => i.instructionId);
      this.#check(new Set(ids).size === ids.length, () => `${label} repeats an instruction id: ${ids.join(', ')}`);

      // 3. Money leaves escrow only after the provider confirmed it arrived, and only once.
      const funded = sum(instructions, 'fund-escrow');
      this.#check(funded === 0n || funded === BigInt(record.amount), () => `${label} collected ${funded}`);
      this.#check(
        funded > 0n || instructions.every((i) => i.kind === 'fund-escrow'),
        () => `${label} pays out of an escrow that was never confirmed funded`,
      );

      // 1. Conservation: what left escrow never exceeds what came in, nor does what was asked to
      // leave it; once final with everything paid, all of it is accounted for.
      const paidOut = sum(instructions, 'release', true);
      const refunded = sum(instructions, 'refund');
      this.#check(paidOut + refunded <= funded, () => `${label} paid ${paidOut} + refunded ${refunded} of ${funded}`);
      const promised = instructions
        .filter((i) => i.kind !== 'fund-escrow' && i.status !== 'failed')
        .reduce((total, i) => total + BigInt(i.amount) + BigInt(i.platformFee), 0n);
      this.#check(promised <= funded, () => `${label} promised ${promised} out of ${funded}`);
      const payouts = instructions.filter((i) => i.kind !== 'fund-escrow');
      const allPaid = payouts.every((i) => i.status === 'paid');
      if (finalStatuses.includes(record.status) && allPaid) {
        this.#check(paidOut + refunded === funded, () => `${label} ended with ${paidOut} + ${refunded} of ${funded}`);
      }
      if (record.status !== 'cancelled' && finalStatuses.includes(record.status)) {
        this.#check(allPaid && funded === BigInt(record.amount), () => `${label} is final with unpaid instructions`);
      }

      // 4. A payout carries the compliance check that let it go, run while a KYC credential was valid.
      for (const instruction of instructions) {
        const id = instruction.instructionId;
        this.#check(instruction.currency === record.currency, () => `${id} is in ${instruction.currency}`);
        const check = instruction.compliance;
        if (instruction.kind !== 'release') {
          this.#check(check === undefined, () => `${id} carries a compliance check`);
          continue;
        }
        const expectedOutcome = instruction.status === 'held' ? 'held' : 'cleared';
        this.#check(
          check?.outcome === expectedOutcome,
          () => `${id} is ${instruction.status}, check ${check?.outcome}`,
        );
        if (check?.outcome === 'cleared') {
          this.#check(
            check.requiredTypes.join() === 'KYC' &&
              this.validAt.get(check.txId)?.has(check.credentialId ?? '') === true,
            () =>
              `${id} was cleared in ${check.txId} by ${check.credentialId}, which was not a valid KYC credential then`,
          );
        }
      }

      fundedByCurrency.set(record.currency, (fundedByCurrency.get(record.currency) ?? 0n) + funded);
      leftByCurrency.set(record.currency, (leftByCurrency.get(record.currency) ?? 0n) + paidOut + refunded);
    }
    for (const [currency, left] of leftByCurrency) {
      const funded = fundedByCurrency.get(currency) ?? 0n;
      this.#check(left <= funded, () => `${left} ${currency} left escrow, ${funded} came in`);
    }
  }
}

function summary(instruction: SettlementInstruction) {
  const { instructionId, kind, amount, platformFee, currency, status } = instruction;
  return { instructionId, kind, amount, platformFee, currency, status };
}

describe('AgreementContract: escrow and settlement under any order of events (Z1)', () => {
  it('never pays out more than was funded, never pays twice and never sends a held payout', async () => {
    const reached: Reached = { statuses: new Set(), heldThenPaid: 0, duplicatesRefused: 0, redelivered: 0 };
    const endings: MilestoneStatus[] = [
      'paid',
      'settled',
      'refunded',
      'cancelled',
      'resolved',
      'released',
      'refunding',
    ];
    const visitedAll = () =>
      endings.every((status) => reached.statuses.has(status)) &&
      reached.heldThenPaid > 0 &&
      reached.duplicatesRefused > 0 &&
      reached.redelivered > 0;
    // Random scenarios reach the rarer endings (a dispute split paid on both sides, a
    // cancellation refunded) in most batches of a thousand, not all: a batch that missed
    // one is followed by another, up to three.
    for (let batch = 0; batch < 3 && (batch === 0 || !visitedAll()); batch += 1) {
      await fc.assert(
        fc.asyncProperty(scenario, fc.context(), async (spec, context) => {
          const run = new SettlementRun(spec, reached, (line) => {
            context.log(line);
          });
          await run.setUp();
          for (const command of spec.commands) await run.run(command);
        }),
        { numRuns: 1000 },
      );
    }
    // The property is only as good as the states it visits.
    expect([...reached.statuses].sort()).toEqual(expect.arrayContaining(endings));
    expect(reached.heldThenPaid).toBeGreaterThan(0);
    expect(reached.duplicatesRefused).toBeGreaterThan(0);
    expect(reached.redelivered).toBeGreaterThan(0);
  }, 300_000);
});
