import type { AgreementRecord, MilestoneKind, MilestoneRecord, MilestoneStatus } from '../../model/agreement-records';
import { refuse } from '../../ledger/refusal';
import { milestoneLabel } from './store';

/**
 * @throws RefusalError INVALID_STATE unless the freelancer has accepted the agreement and it is not over.
 */
export function requireActive(agreement: AgreementRecord, milestoneId: string, done: string): void {
  if (agreement.status !== 'active') {
    refuse(
      'INVALID_STATE',
      `agreement ${agreement.agreementId} is ${agreement.status}, not active, so milestone ${milestoneId} cannot be ${done}`,
      'agreementId',
    );
  }
}

/**
 * @throws RefusalError INVALID_STATE unless the milestone is in one of the statuses.
 */
export function requireStatus(milestone: MilestoneRecord, allowed: readonly MilestoneStatus[], done: string): void {
  if (!allowed.includes(milestone.status)) {
    refuse(
      'INVALID_STATE',
      `${milestoneLabel(milestone.agreementId, milestone.milestoneId)} is ${milestone.status}, not ${allowed.join(' or ')}, so it cannot be ${done}`,
      // The milestone the caller named is the one in the wrong state.
      'milestoneId',
    );
  }
}

/**
 * @throws RefusalError INVALID_STATE when the transaction does not apply to this kind of milestone.
 */
export function requireKind(milestone: MilestoneRecord, kind: MilestoneKind, instead: string): void {
  if (milestone.kind !== kind) {
    refuse(
      'INVALID_STATE',
      `${milestoneLabel(milestone.agreementId, milestone.milestoneId)} is a ${milestone.kind === 'batch' ? 'batch of tasks' : 'single deliverable'}; ${instead}`,
      'milestoneId',
    );
  }
}
