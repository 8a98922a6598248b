import { agreementCommandRoles, type AgreementCommand } from '../model/access-roles';
import { agreementTransactions } from '../model/agreement';
import { roles, type Role } from '../model/identity';
import { RefusalError } from '../ledger/refusal';
import {
  AgreementDriver,
  agreementId,
  arbitratorA,
  client,
  draftRequest,
  draftWithBatch,
  evaluator,
  freelancer,
  settlement,
} from '../test-support/agreement-fixtures';
import type { TestIdentity } from '../test-support/in-memory-ledger';

/** The same person (organisation and userId) carrying another role in their certificate. */
const withRole = (identity: TestIdentity, role: Role): TestIdentity => ({
  ...identity,
  name: `${identity.name}-as-${role}`,
  attributes: { ...identity.attributes, role },
});

interface Case {
  /** Whose certificate, with its role swapped, tries the command. */
  readonly actor: TestIdentity;
  /** Brings the ledger to where the command succeeds for the right role. */
  readonly setup: (driver: AgreementDriver) => Promise<unknown>;
  readonly run: (driver: AgreementDriver, as: TestIdentity) => Promise<unknown>;
}

const submitted = async (driver: AgreementDriver) => {
  await driver.active();
  await driver.funded('m1');
  await driver.submit('m1');
};
const call =
  (name: AgreementCommand, request: Record<string, unknown>) => (driver: AgreementDriver, as: TestIdentity) =>
    driver.call(as, (contract, ctx) =>
      (contract[name] as (ctx: unknown, json: string) => Promise<unknown>).call(contract, ctx, JSON.stringify(request)),
    );

const cases: Record<AgreementCommand, Case> = {
  draftAgreement: {
    actor: client,
    setup: (driver) => driver.setParameters(),
    run: (driver, as) => driver.draft(draftRequest(driver.ledger), as),
  },
  acceptAgreement: {
    actor: freelancer,
    setup: async (driver) => {
      await driver.setParameters();
      await driver.draft();
    },
    run: (driver, as) => driver.accept(as),
  },
  declineAgreement: {
    actor: freelancer,
    setup: async (driver) => {
      await driver.setParameters();
      await driver.draft();
    },
    run: call('declineAgreement', { agreementId, reason: 'Booked elsewhere' }),
  },
  cancelAgreement: { actor: client, setup: (driver) => driver.active(), run: (driver, as) => driver.cancel(as) },
  fundMilestone: { actor: client, setup: (driver) => driver.active(), run: (driver, as) => driver.fund('m1', as) },
  confirmSettlement: {
    actor: settlement,
    setup: async (driver) => {
      await driver.active();
      await driver.fund('m1');
    },
    run: (driver, as) => driver.confirm('m1', `${agreementId}/m1/fund-escrow-1`, 'paid', as),
  },
  retryHeldPayout: {
    actor: client,
    setup: submitted,
    run: call('retryHeldPayout', { agreementId, milestoneId: 'm1', instructionId: `${agreementId}/m1/release-1` }),
  },
  reissueFailedPayout: {
    actor: client,
    setup: submitted,
    run: call('reissueFailedPayout', { agreementId, milestoneId: 'm1', instructionId: `${agreementId}/m1/release-1` }),
  },
  submitDeliverable: {
    actor: freelancer,
    setup: async (driver) => {
      await driver.active();
      await driver.funded('m1');
    },
    run: (driver, as) => driver.submit('m1', undefined, as),
  },
  acceptMilestone: { actor: client, setup: submitted, run: (driver, as) => driver.acceptMilestone('m1', as) },
  rejectDeliverable: { actor: client, setup: submitted, run: (driver, as) => driver.reject('m1', undefined, as) },
  claimAcceptance: {
    actor: freelancer,
    setup: async (driver) => {
      await submitted(driver);
      driver.ledger.advanceSeconds(10 * 24 * 3600);
    },
    run: (driver, as) => driver.claim('m1', as),
  },
  postEvaluation: {
    actor: evaluator,
    setup: submitted,
    run: (driver, as) => driver.evaluate('m1', { accuracy: 0.95 }, undefined, as),
  },
  releaseMilestone: {
    actor: client,
    setup: async (driver) => {
      await submitted(driver);
      await driver.acceptMilestone('m1');
    },
    run: (driver, as) => driver.release('m1', as),
  },
  openDispute: {
    actor: client,
    setup: submitted,
    run: (driver, as) => driver.dispute('m1', as),
  },
  castDisputeVote: {
    actor: arbitratorA,
    setup: async (driver) => {
      await submitted(driver);
      await driver.dispute('m1');
    },
    run: (driver, as) => driver.vote('m1', as, '0', '150001'),
  },
  submitTasks: {
    actor: freelancer,
    setup: async (driver) => {
      await driver.active(draftWithBatch(driver.ledger));
      await driver.funded('m3');
    },
    run: (driver, as) => driver.submitTasks('m3', ['t1'], as),
  },
  reviewTasks: {
    actor: client,
    setup: async (driver) => {
      await driver.active(draftWithBatch(driver.ledger));
      await driver.funded('m3');
      await driver.submitTasks('m3', ['t1']);
    },
    run: (driver, as) => driver.reviewTasks('m3', ['t1'], [], as),
  },
  claimTasksAcceptance: {
    actor: freelancer,
    setup: async (driver) => {
      await driver.active(draftWithBatch(driver.ledger));
      await driver.funded('m3');
      await driver.submitTasks('m3', ['t1']);
      driver.ledger.advanceSeconds(10 * 24 * 3600);
    },
    run: (driver, as) => driver.claimTasks('m3', as),
  },
};

describe('the role table both sides read', () => {
  it('names every agreement command the contract offers', () => {
    const commands = Object.entries(agreementTransactions)
      .filter(([, spec]) => spec.kind === 'submit')
      .map(([name]) => name)
      .sort();
    expect(Object.keys(agreementCommandRoles).sort()).toEqual(commands);
  });

  describe.each(Object.keys(cases) as AgreementCommand[])('%s', (command) => {
    const allowed: readonly Role[] = agreementCommandRoles[command];
    const { actor, setup, run } = cases[command];

    it.each(roles.filter((role) => !allowed.includes(role)))(
      'is refused to the same person holding role %s, changing nothing',
      async (role) => {
        const driver = new AgreementDriver();
        await setup(driver);
        const before = driver.ledger.transactions.length;
        const refusal = await run(driver, withRole(actor, role)).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(refusal).toBeInstanceOf(RefusalError);
        expect(['FORBIDDEN', 'NOT_FOUND']).toContain((refusal as RefusalError).refusal.code);
        expect(driver.ledger.transactions).toHaveLength(before);
      },
    );
  });

  it('lets the listed role act in each state where a role refusal was checked', async () => {
    // Where the right role succeeds, the refusals above are about the role, not the state.
    const reachable: AgreementCommand[] = [];
    for (const [command, { actor, setup, run }] of Object.entries(cases) as [AgreementCommand, Case][]) {
      if (command === 'retryHeldPayout' || command === 'reissueFailedPayout') continue;
      const driver = new AgreementDriver();
      await setup(driver);
      await run(driver, actor);
      reachable.push(command);
    }
    expect(reachable).toHaveLength(Object.keys(cases).length - 2);
  });
});
