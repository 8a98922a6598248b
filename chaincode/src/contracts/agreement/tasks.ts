import type { TaskBatchResult } from '../../model/agreement';
import { agreementEvents } from '../../model/agreement-events';
import type {
  AgreementRecord,
  BatchProgress,
  MilestoneRecord,
  TaskRecord,
  TaskStatus,
  TaskSubmission,
} from '../../model/agreement-records';
import { refuse } from '../../ledger/refusal';
import { requireSide } from './access';
import { requireActive, requireKind, requireStatus } from './guards';
import {
  milestoneLabel,
  readTasks,
  requireAgreement,
  requireMilestone,
  requireTask,
  taskLabel,
  writeMilestone,
  writeTask,
} from './store';
import { addSeconds, reached, touched, type Tx } from '../../ledger/tx';
import { emitAgreementEvent } from './events';

interface MilestoneRef {
  readonly agreementId: string;
  readonly milestoneId: string;
}

const useMilestone = 'it has no tasks; use submitDeliverable, acceptMilestone and rejectDeliverable';

async function requireBatch(
  tx: Tx,
  request: MilestoneRef,
  side: 'client' | 'freelancer',
  action: string,
  done: string,
): Promise<{ agreement: AgreementRecord; milestone: MilestoneRecord; batch: BatchProgress }> {
  const agreement = await requireAgreement(tx.ctx, request.agreementId);
  requireSide(tx.caller, agreement, side, `${action} ${milestoneLabel(agreement.agreementId, request.milestoneId)}`);
  requireActive(agreement, request.milestoneId, done);
  const milestone = await requireMilestone(tx.ctx, agreement, request.milestoneId);
  requireKind(milestone, 'batch', useMilestone);
  // Tasks are worked on while the batch is `funded`; every other status means not yet
  // funded, frozen by a dispute, or finished.
  requireStatus(milestone, ['funded'], done);
  const batch = milestone.batch;
  if (batch === undefined) throw new Error(`batch milestone ${milestone.milestoneId} has no progress record`);
  return { agreement, milestone, batch };
}

function requireTaskStatus(task: TaskRecord, allowed: readonly TaskStatus[], done: string): void {
  if (!allowed.includes(task.status)) {
    refuse(
      'INVALID_STATE',
      `${taskLabel(task.agreementId, task.milestoneId, task.taskId)} is ${task.status}, not ${allowed.join(' or ')}, so it cannot be ${done}`,
      'taskId',
    );
  }
}

function latestOf(task: TaskRecord): TaskSubmission {
  const latest = task.submissions.at(-1);
  if (latest === undefined) throw new Error(`task ${task.taskId} is ${task.status} without a submission`);
  return latest;
}

function withLatest(task: TaskRecord, latest: TaskSubmission): TaskSubmission[] {
  return [...task.submissions.slice(0, -1), latest];
}

/** Moves the batch's counters for tasks leaving one status for another. */
function recount(batch: BatchProgress, moves: readonly { from: TaskStatus; to: TaskStatus }[]): BatchProgress {
  const counts = { ...batch };
  for (const { from, to } of moves) {
    if (from !== 'open') counts[from] -= 1;
    if (to !== 'open') counts[to] += 1;
  }
  return counts;
}

/**
 * Delivers results for many tasks of a batch in one transaction, one key per task.
 *
 * @throws RefusalError FORBIDDEN unless the freelancer calls; INVALID_STATE unless the
 *   batch is funded and every task listed is open or rejected; NOT_FOUND for an unknown task.
 */
export async function submitTasks(
  tx: Tx,
  request: MilestoneRef & { results: readonly { taskId: string; resultSha256: string; uri?: string | undefined }[] },
): Promise<TaskBatchResult> {
  const { agreement, milestone, batch } = await requireBatch(tx, request, 'freelancer', 'submit tasks of', 'submitted');
  const tasks: TaskRecord[] = [];
  const moves: { from: TaskStatus; to: TaskStatus }[] = [];
  for (const result of request.results) {
    const task = await requireTask(tx.ctx, milestone, result.taskId);
    requireTaskStatus(task, ['open', 'rejected'], 'submitted');
    const submission: TaskSubmission = {
      number: task.submissions.length + 1,
      resultSha256: result.resultSha256,
      ...(result.uri === undefined ? {} : { uri: result.uri }),
      submittedAt: tx.at,
      txId: tx.txId,
      reviewDeadline: addSeconds(tx.at, milestone.reviewWindowSeconds),
    };
    tasks.push(touched(tx, { ...task, status: 'submitted' as const, submissions: [...task.submissions, submission] }));
    moves.push({ from: task.status, to: 'submitted' });
  }
  const updated = touched(tx, { ...milestone, batch: recount(batch, moves) });
  await writeMilestone(tx.ctx, updated);
  for (const task of tasks) await writeTask(tx.ctx, task);
  emitAgreementEvent(tx, agreementEvents.tasksSubmitted, agreement.agreementId, {
    milestoneId: milestone.milestoneId,
    milestone: updated,
    taskIds: tasks.map((task) => task.taskId),
  });
  return { milestone: updated, tasks };
}

function acceptedTask(tx: Tx, task: TaskRecord, by: 'client' | 'review-window-lapsed'): TaskRecord {
  return touched(tx, { ...task, status: 'accepted' as const, acceptance: { by, at: tx.at, txId: tx.txId } });
}

async function finishReview(
  tx: Tx,
  milestone: MilestoneRecord,
  batch: BatchProgress,
  tasks: readonly TaskRecord[],
  decidedBy: 'client' | 'review-window-lapsed',
  rejected: readonly { taskId: string; reason: string }[],
): Promise<TaskBatchResult> {
  const moves = tasks.map((task) => ({ from: 'submitted' as const, to: task.status }));
  const progress = recount(batch, moves);
  const complete = progress.accepted === progress.taskCount;
  const updated = touched(tx, {
    ...milestone,
    batch: progress,
    ...(complete ? { status: 'accepted' as const, acceptance: { by: decidedBy, at: tx.at, txId: tx.txId } } : {}),
  });
  await writeMilestone(tx.ctx, updated);
  for (const task of tasks) await writeTask(tx.ctx, task);
  emitAgreementEvent(tx, agreementEvents.tasksReviewed, milestone.agreementId, {
    milestoneId: milestone.milestoneId,
    milestone: updated,
    decidedBy,
    accepted: tasks.filter((task) => task.status === 'accepted').map((task) => task.taskId),
    rejected: [...rejected],
  });
  return { milestone: updated, tasks: [...tasks] };
}

/**
 * Accepts and rejects many delivered tasks in one transaction. When every task of the
 * batch is accepted the batch milestone is accepted and can be released as one payment.
 *
 * @throws RefusalError FORBIDDEN unless the client calls; INVALID_STATE unless the batch
 *   is funded, each task listed is submitted and each rejection is within its review
 *   window; REVISION_LIMIT_REACHED when a task has used every rejection allowed.
 */
export async function reviewTasks(
  tx: Tx,
  request: MilestoneRef & { accept: readonly string[]; reject: readonly { taskId: string; reason: string }[] },
): Promise<TaskBatchResult> {
  const { agreement, milestone, batch } = await requireBatch(tx, request, 'client', 'review tasks of', 'reviewed');
  const tasks: TaskRecord[] = [];
  for (const taskId of request.accept) {
    const task = await requireTask(tx.ctx, milestone, taskId);
    requireTaskStatus(task, ['submitted'], 'accepted');
    tasks.push(acceptedTask(tx, task, 'client'));
  }
  for (const rejection of request.reject) {
    const task = await requireTask(tx.ctx, milestone, rejection.taskId);
    const label = taskLabel(task.agreementId, task.milestoneId, task.taskId);
    requireTaskStatus(task, ['submitted'], 'rejected');
    const latest = latestOf(task);
    if (reached(tx, latest.reviewDeadline)) {
      refuse('INVALID_STATE', `the review window of ${label} closed at ${latest.reviewDeadline}`, 'taskId');
    }
    if (task.rejectionCount >= agreement.revisionLimit) {
      refuse(
        'REVISION_LIMIT_REACHED',
        `${label} has been rejected ${task.rejectionCount} times, the limit agreement ${agreement.agreementId} allows; accept it or open a dispute`,
        'taskId',
      );
    }
    tasks.push(
      touched(tx, {
        ...task,
        status: 'rejected' as const,
        rejectionCount: task.rejectionCount + 1,
        submissions: withLatest(task, {
          ...latest,
          rejection: { reason: rejection.reason, at: tx.at, txId: tx.txId },
        }),
      }),
    );
  }
  return finishReview(tx, milestone, batch, tasks, 'client', request.reject);
}

/**
 * Accepts every delivered task whose review window has closed without an answer.
 *
 * @throws RefusalError FORBIDDEN unless the freelancer calls; INVALID_STATE unless the
 *   batch is funded and at least one delivered task's review window has closed.
 */
export async function claimTasksAcceptance(tx: Tx, request: MilestoneRef): Promise<TaskBatchResult> {
  const { milestone, batch } = await requireBatch(
    tx,
    request,
    'freelancer',
    'claim acceptance of tasks of',
    'accepted',
  );
  const delivered = (await readTasks(tx.ctx, milestone)).filter((task) => task.status === 'submitted');
  const lapsed = delivered.filter((task) => reached(tx, latestOf(task).reviewDeadline));
  if (lapsed.length === 0) {
    const label = milestoneLabel(milestone.agreementId, milestone.milestoneId);
    const next = delivered.map((task) => latestOf(task).reviewDeadline).sort()[0];
    refuse(
      'INVALID_STATE',
      next === undefined
        ? `no task of ${label} awaits review`
        : `no review window of ${label} has closed; the earliest closes at ${next}`,
      'milestoneId',
    );
  }
  return finishReview(
    tx,
    milestone,
    batch,
    lapsed.map((task) => acceptedTask(tx, task, 'review-window-lapsed')),
    'review-window-lapsed',
    [],
  );
}
