import { agreementEvents } from '../model/agreement-events';
import type { MilestoneRecord, TaskRecord } from '../model/agreement-records';
import {
  AgreementDriver,
  agreementId,
  artifactA,
  auditor,
  batchMilestone,
  client,
  draftWithBatch,
  freelancer,
  milestoneKey,
  missingAgreement,
  otherClient,
  otherFreelancer,
  resultHash,
  reviewWindowSeconds,
  taskKey,
} from '../test-support/agreement-fixtures';

const storedTask = (driver: AgreementDriver, taskId: string): TaskRecord =>
  driver.ledger.read(taskKey('m3', taskId)) as TaskRecord;

const instant = (driver: AgreementDriver, plusSeconds = 0): string =>
  new Date((driver.ledger.nowSeconds + plusSeconds) * 1000).toISOString();

function batchDraft(driver: AgreementDriver, batch?: Record<string, unknown>) {
  return draftWithBatch(driver.ledger, batch);
}

describe('AgreementContract: micro-task batches', () => {
  let driver: AgreementDriver;

  beforeEach(async () => {
    driver = new AgreementDriver();
    await driver.active(batchDraft(driver));
    await driver.funded('m3');
  });

  it('takes a bulk submission in one transaction, one key per task and one event', async () => {
    const result = await driver.submitTasks('m3', ['t1', 't3']);

    expect(result.tasks.map((task) => [task.taskId, task.status])).toEqual([
      ['t1', 'submitted'],
      ['t3', 'submitted'],
    ]);
    expect(storedTask(driver, 't1').submissions).toEqual([
      {
        number: 1,
        resultSha256: resultHash('t1'),
        submittedAt: instant(driver),
        txId: driver.ledger.transactions.at(-1)!.txId,
        reviewDeadline: instant(driver, reviewWindowSeconds),
      },
    ]);
    expect(storedTask(driver, 't2').status).toBe('open');
    expect(result.milestone).toMatchObject({ status: 'funded', batch: { taskCount: 3, submitted: 2, accepted: 0 } });
    const tx = driver.ledger.transactions.at(-1)!;
    expect(tx.writes).toEqual(expect.arrayContaining([milestoneKey('m3'), taskKey('m3', 't1'), taskKey('m3', 't3')]));
    expect(tx.writes).not.toContain(taskKey('m3', 't2'));
    expect(tx.event!.name).toBe('agreement.TasksSubmitted');
    expect(agreementEvents.tasksSubmitted.payload.parse(tx.event!.payload)).toMatchObject({
      milestoneId: 'm3',
      taskIds: ['t1', 't3'],
      milestone: result.milestone,
    });
  });

  it('takes a bulk review, accepting and rejecting in one transaction', async () => {
    await driver.submitTasks('m3', ['t1', 't2', 't3']);

    const reviewed = await driver.reviewTasks('m3', ['t1', 't3'], [{ taskId: 't2', reason: 'Boxes too loose' }]);

    expect(reviewed.tasks.map((task) => [task.taskId, task.status])).toEqual([
      ['t1', 'accepted'],
      ['t3', 'accepted'],
      ['t2', 'rejected'],
    ]);
    expect(reviewed.milestone).toMatchObject({ status: 'funded', batch: { submitted: 0, accepted: 2, rejected: 1 } });
    expect(storedTask(driver, 't2')).toMatchObject({
      status: 'rejected',
      rejectionCount: 1,
      submissions: [{ rejection: { reason: 'Boxes too loose' } }],
    });
    expect(storedTask(driver, 't1').acceptance).toMatchObject({ by: 'client' });
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.TasksReviewed',
      payload: {
        decidedBy: 'client',
        accepted: ['t1', 't3'],
        rejected: [{ taskId: 't2', reason: 'Boxes too loose' }],
      },
    });
  });

  it('accepts the batch once every task is accepted and releases it as one settlement request', async () => {
    await driver.submitTasks('m3', ['t1', 't2', 't3']);
    await driver.reviewTasks('m3', ['t1'], [{ taskId: 't2', reason: 'Missed a defect' }]);
    await driver.call(freelancer, (c, ctx) =>
      c.submitTasks(
        ctx,
        JSON.stringify({
          requestId: 'tasks-resubmit-1',
          agreementId,
          milestoneId: 'm3',
          results: [{ taskId: 't2', resultSha256: resultHash('t2', 2), uri: 'https://labels.example.com/t2' }],
        }),
      ),
    );
    expect(storedTask(driver, 't2').submissions.map((s) => s.number)).toEqual([1, 2]);

    const done = await driver.reviewTasks('m3', ['t2', 't3']);
    expect(done.milestone).toMatchObject({
      status: 'accepted',
      acceptance: { by: 'client' },
      batch: { accepted: 3, submitted: 0, rejected: 0 },
    });

    const released = await driver.release('m3');
    // 3600 USD cents × 2.5% = 90.
    expect(released.instructions.slice(1)).toEqual([
      expect.objectContaining({
        instructionId: 'A-17/m3/release-1',
        amount: '3510',
        platformFee: '90',
        currency: 'USD',
      }),
    ]);
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.MilestoneReleased',
      payload: { settlementRequests: [{ instructionId: 'A-17/m3/release-1' }] },
    });
  });

  it('lets the freelancer claim every task whose review window has passed, in one transaction', async () => {
    await driver.submitTasks('m3', ['t1']);
    driver.ledger.advanceSeconds(3600);
    await driver.submitTasks('m3', ['t2', 't3']);
    await driver.expectRefusal(
      () => driver.claimTasks('m3'),
      `INVALID_STATE[milestoneId]: no review window of milestone m3 of agreement A-17 has closed; the earliest closes at ${instant(driver, reviewWindowSeconds - 3600)}`,
    );

    driver.ledger.advanceSeconds(reviewWindowSeconds - 3600);
    const first = await driver.claimTasks('m3');
    expect(first.tasks.map((task) => task.taskId)).toEqual(['t1']);
    expect(first.milestone.status).toBe('funded');
    expect(driver.ledger.lastEvent).toMatchObject({
      name: 'agreement.TasksReviewed',
      payload: { decidedBy: 'review-window-lapsed', accepted: ['t1'], rejected: [] },
    });

    driver.ledger.advanceSeconds(3600);
    const rest = await driver.claimTasks('m3');
    expect(rest.tasks.map((task) => task.taskId)).toEqual(['t2', 't3']);
    expect(rest.milestone).toMatchObject({ status: 'accepted', acceptance: { by: 'review-window-lapsed' } });
  });

  it('refuses a claim when no task awaits review', async () => {
    await driver.expectRefusal(
      () => driver.claimTasks('m3'),
      'INVALID_STATE[milestoneId]: no task of milestone m3 of agreement A-17 awaits review',
    );
  });

  it('refuses a rejection after a task review window closed, and past the revision limit', async () => {
    await driver.submitTasks('m3', ['t1', 't2']);
    for (let round = 1; round <= 2; round += 1) {
      await driver.reviewTasks('m3', [], [{ taskId: 't1', reason: `round ${round}` }]);
      await driver.call(freelancer, (c, ctx) =>
        c.submitTasks(
          ctx,
          JSON.stringify({
            requestId: `tasks-round-${round}`,
            agreementId,
            milestoneId: 'm3',
            results: [{ taskId: 't1', resultSha256: resultHash('t1', round + 1) }],
          }),
        ),
      );
    }
    await driver.expectRefusal(
      () => driver.reviewTasks('m3', [], [{ taskId: 't1', reason: 'again' }]),
      'REVISION_LIMIT_REACHED[taskId]: task t1 of milestone m3 of agreement A-17 has been rejected 2 times, the limit agreement A-17 allows; accept it or open a dispute',
    );

    driver.ledger.advanceSeconds(reviewWindowSeconds);
    await driver.expectRefusal(
      () => driver.reviewTasks('m3', [], [{ taskId: 't2', reason: 'late' }]),
      /^INVALID_STATE\[taskId\]: the review window of task t2 of milestone m3 of agreement A-17 closed at /,
    );
  });

  it('refuses a whole bulk operation when one task is in the wrong state or unknown', async () => {
    await driver.submitTasks('m3', ['t1']);
    await driver.expectRefusal(
      () => driver.submitTasks('m3', ['t2', 't1']),
      'INVALID_STATE[taskId]: task t1 of milestone m3 of agreement A-17 is submitted, not open or rejected, so it cannot be submitted',
    );
    expect(storedTask(driver, 't2').status).toBe('open');
    await driver.expectRefusal(
      () => driver.reviewTasks('m3', ['t1', 't2']),
      'INVALID_STATE[taskId]: task t2 of milestone m3 of agreement A-17 is open, not submitted, so it cannot be accepted',
    );
    await driver.expectRefusal(
      () => driver.submitTasks('m3', ['t9']),
      'NOT_FOUND[taskId]: milestone m3 of agreement A-17 has no task t9',
    );
  });

  it('refuses task work before funding, and while the batch is disputed', async () => {
    const unfunded = new AgreementDriver();
    await unfunded.active(batchDraft(unfunded));
    await unfunded.expectRefusal(
      () => unfunded.submitTasks('m3', ['t1']),
      'INVALID_STATE[milestoneId]: milestone m3 of agreement A-17 is unfunded, not funded, so it cannot be submitted',
    );

    await driver.expectRefusal(
      () => driver.dispute('m3'),
      'INVALID_STATE[milestoneId]: only a funded batch with delivered tasks can be disputed; milestone m3 of agreement A-17 is funded',
    );
    await driver.submitTasks('m3', ['t1']);
    const disputed = await driver.dispute('m3', client, 'Labels are unusable');
    expect(disputed.dispute).toMatchObject({ openedBy: 'client', frozenStatus: 'funded' });
    await driver.expectRefusal(
      () => driver.submitTasks('m3', ['t2']),
      'INVALID_STATE[milestoneId]: milestone m3 of agreement A-17 is disputed, not funded, so it cannot be submitted',
    );
    await driver.expectRefusal(
      () => driver.reviewTasks('m3', ['t1']),
      'INVALID_STATE[milestoneId]: milestone m3 of agreement A-17 is disputed, not funded, so it cannot be reviewed',
    );
  });

  it('refuses bulk work by the wrong party', async () => {
    await driver.expectRefusal(
      () => driver.submitTasks('m3', ['t1'], client),
      /^FORBIDDEN: only the freelancer may submit tasks of milestone m3 of agreement A-17; the caller is ClientOrgMSP user carol/,
    );
    await driver.expectRefusal(() => driver.submitTasks('m3', ['t1'], otherFreelancer), missingAgreement());
    await driver.submitTasks('m3', ['t1']);
    await driver.expectRefusal(
      () => driver.reviewTasks('m3', ['t1'], [], freelancer),
      /^FORBIDDEN: only the client may review tasks of milestone m3 of agreement A-17/,
    );
    await driver.expectRefusal(() => driver.reviewTasks('m3', ['t1'], [], otherClient), missingAgreement());
    await driver.expectRefusal(
      () => driver.claimTasks('m3', client),
      /^FORBIDDEN: only the freelancer may claim acceptance of tasks of milestone m3 of agreement A-17/,
    );
  });

  it('refuses single-deliverable transactions on a batch and batch transactions on a deliverable', async () => {
    await driver.expectRefusal(
      () => driver.submit('m3', artifactA),
      'INVALID_STATE[milestoneId]: milestone m3 of agreement A-17 is a batch of tasks; its tasks are submitted and reviewed with submitTasks, reviewTasks and claimTasksAcceptance',
    );
    await driver.funded('m1');
    await driver.expectRefusal(
      () => driver.submitTasks('m1', ['t1']),
      'INVALID_STATE[milestoneId]: milestone m1 of agreement A-17 is a single deliverable; it has no tasks; use submitDeliverable, acceptMilestone and rejectDeliverable',
    );
  });

  it.each([
    ['no results', { results: [] }, 'results'],
    [
      'a repeated task',
      {
        results: [
          { taskId: 't1', resultSha256: 'f'.repeat(64) },
          { taskId: 't1', resultSha256: 'e'.repeat(64) },
        ],
      },
      'results.1',
    ],
    [
      'a result hash that is not SHA-256',
      { results: [{ taskId: 't1', resultSha256: 'xyz' }] },
      'results.0.resultSha256',
    ],
    [
      'a bad result URI',
      { results: [{ taskId: 't1', resultSha256: 'f'.repeat(64), uri: 'ftp://x' }] },
      'results.0.uri',
    ],
  ])('refuses a bulk submission with %s', async (_case, body, field) => {
    await driver.expectRefusal(
      () =>
        driver.call(freelancer, (c, ctx) =>
          c.submitTasks(ctx, JSON.stringify({ requestId: 'tasks-bad-01', agreementId, milestoneId: 'm3', ...body })),
        ),
      new RegExp(`^VALIDATION_FAILED\\[${field.replace(/\./g, '\\.')}\\]: `),
    );
  });

  it.each([
    ['nothing to review', { accept: [], reject: [] }, 'accept'],
    [
      'a task both accepted and rejected',
      { accept: ['t1'], reject: [{ taskId: 't1', reason: 'x' }] },
      'reject.0.taskId',
    ],
    ['a rejection without a reason', { reject: [{ taskId: 't1', reason: '' }] }, 'reject.0.reason'],
    ['more than 500 tasks', { accept: Array.from({ length: 501 }, (_, i) => `t${i}`) }, 'accept'],
  ])('refuses a bulk review with %s', async (_case, body, field) => {
    await driver.expectRefusal(
      () =>
        driver.call(client, (c, ctx) =>
          c.reviewTasks(ctx, JSON.stringify({ agreementId, milestoneId: 'm3', ...body })),
        ),
      new RegExp(`^VALIDATION_FAILED\\[${field.replace(/\./g, '\\.')}\\]: `),
    );
  });

  it('lists the tasks of a batch in order for readers of the agreement', async () => {
    await driver.submitTasks('m3', ['t2']);
    await driver.grantAudit(['agreement']);
    const tasks = await driver.call(auditor, (c, ctx) =>
      c.listTasks(ctx, JSON.stringify({ agreementId, milestoneId: 'm3' })),
    );
    expect(tasks.map((task) => [task.taskId, task.status])).toEqual([
      ['t1', 'open'],
      ['t2', 'submitted'],
      ['t3', 'open'],
    ]);
    await expect(
      driver.call(otherClient, (c, ctx) => c.listTasks(ctx, JSON.stringify({ agreementId, milestoneId: 'm3' }))),
    ).rejects.toThrow(missingAgreement());
  });

  it('refuses a batch draft with a malformed task amount without failing inside validation', async () => {
    const fresh = new AgreementDriver();
    await fresh.setParameters();
    await fresh.expectRefusal(
      () => fresh.draft(batchDraft(fresh, { ...batchMilestone(fresh.ledger), taskAmount: '-1200' })),
      /^VALIDATION_FAILED\[milestones\.2\.taskAmount\]: /,
    );
  });

  it('keeps a batch milestone record consistent with its tasks', async () => {
    await driver.submitTasks('m3', ['t1', 't2']);
    await driver.reviewTasks('m3', ['t1'], [{ taskId: 't2', reason: 'x' }]);
    const milestone = driver.ledger.read(milestoneKey('m3')) as MilestoneRecord;
    const tasks = ['t1', 't2', 't3'].map((taskId) => storedTask(driver, taskId));
    const count = (status: string) => tasks.filter((task) => task.status === status).length;
    expect(milestone.batch).toMatchObject({
      submitted: count('submitted'),
      accepted: count('accepted'),
      rejected: count('rejected'),
    });
  });
});
