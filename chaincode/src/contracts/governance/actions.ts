import type { ArbitratorRecord, GovernanceAction, MemberRecord } from '../../model/governance';
import type { RuleProvenance } from '../../model/provenance';
import { refuse } from '../../ledger/refusal';
import type { Tx } from '../../ledger/tx';
import { registerIssuer, removeIssuer } from '../credential/issuers';
import { describeParty } from '../credential/store';
import { checkParameterValue, writeParameter } from '../parameter/store';
import { readArbitrator, readMember, readMembers, writeArbitrator, writeMember } from './store';

/** The rule an action changes, so one proposal cannot change the same rule twice. */
function ruleOf(action: GovernanceAction): string {
  switch (action.type) {
    case 'setParameter':
      return `parameter ${action.name}`;
    case 'registerIssuer':
    case 'removeIssuer':
      return `issuer ${describeParty(action.issuer)}`;
    case 'addArbitrator':
    case 'removeArbitrator':
      return `arbitrator ${describeParty(action.arbitrator)}`;
    case 'setMemberRights':
      return `member ${action.mspId}`;
  }
}

/**
 * What can be judged before a vote: values that suit their parameter, and each rule
 * changed at most once.
 *
 * @throws RefusalError VALIDATION_FAILED naming the action's field.
 */
export function checkActions(actions: readonly GovernanceAction[]): void {
  const seen = new Map<string, number>();
  actions.forEach((action, index) => {
    if (action.type === 'setParameter') checkParameterValue(action.name, action.value, `actions.${index}.value`);
    const rule = ruleOf(action);
    const earlier = seen.get(rule);
    if (earlier !== undefined) {
      refuse(
        'VALIDATION_FAILED',
        `actions.${index}: changes ${rule}, which actions.${earlier} already changes`,
        `actions.${index}`,
      );
    }
    seen.set(rule, index);
  });
}

async function addArbitrator(
  tx: Tx,
  action: Extract<GovernanceAction, { type: 'addArbitrator' }>,
  provenance: RuleProvenance,
): Promise<void> {
  const current = await readArbitrator(tx.ctx, action.arbitrator);
  if (current?.status === 'active' && current.displayName === action.displayName) {
    refuse('ALREADY_EXISTS', `${describeParty(action.arbitrator)} is already an active arbitrator`, 'arbitrator');
  }
  const record: ArbitratorRecord = {
    arbitrator: action.arbitrator,
    displayName: action.displayName,
    status: 'active',
    updatedAt: tx.at,
    updatedTxId: tx.txId,
    provenance,
  };
  await writeArbitrator(tx.ctx, record);
}

async function removeArbitrator(
  tx: Tx,
  action: Extract<GovernanceAction, { type: 'removeArbitrator' }>,
  provenance: RuleProvenance,
): Promise<void> {
  const current = await readArbitrator(tx.ctx, action.arbitrator);
  if (current === undefined) {
    refuse('NOT_FOUND', `${describeParty(action.arbitrator)} was never an arbitrator`, 'arbitrator');
  }
  if (current.status === 'removed') {
    refuse(
      'INVALID_STATE',
      `arbitrator ${describeParty(action.arbitrator)} was already removed at ${current.updatedAt}`,
    );
  }
  await writeArbitrator(tx.ctx, {
    ...current,
    status: 'removed',
    removal: { reason: action.reason, at: tx.at, txId: tx.txId },
    updatedAt: tx.at,
    updatedTxId: tx.txId,
    provenance,
  });
}

async function setMemberRights(
  tx: Tx,
  action: Extract<GovernanceAction, { type: 'setMemberRights' }>,
  provenance: RuleProvenance,
): Promise<void> {
  const current = await readMember(tx.ctx, action.mspId);
  if (current === undefined && !action.voting && !action.veto) {
    refuse('NOT_FOUND', `${action.mspId} is not a member, so it has no rights to take away`, 'mspId');
  }
  const record: MemberRecord = {
    mspId: action.mspId,
    voting: action.voting,
    veto: action.veto,
    updatedAt: tx.at,
    updatedTxId: tx.txId,
    provenance,
  };
  await writeMember(tx.ctx, record);
}

/**
 * Applies every action, in order, in this one transaction: either all of them change
 * the ledger or the transaction fails and none does. Emits nothing; the transaction's
 * own event (genesis or execution) lists the actions.
 *
 * @throws RefusalError VALIDATION_FAILED for a value that does not suit its parameter;
 *   NOT_FOUND, INVALID_STATE or ALREADY_EXISTS when an action does not fit the current
 *   rules (e.g. removing an issuer that was already removed); INVALID_STATE when no
 *   member with a voting right would be left.
 */
export async function applyActions(
  tx: Tx,
  actions: readonly GovernanceAction[],
  provenance: RuleProvenance,
): Promise<void> {
  checkActions(actions);
  // Fabric does not let a transaction read its own writes, so the members this
  // transaction leaves are worked out before anything is written.
  const memberChanges = actions.filter((action) => action.type === 'setMemberRights');
  if (memberChanges.length > 0) {
    const voting = new Set((await readMembers(tx.ctx)).filter((member) => member.voting).map((member) => member.mspId));
    for (const change of memberChanges) {
      if (change.voting) voting.add(change.mspId);
      else voting.delete(change.mspId);
    }
    if (voting.size === 0) {
      refuse('INVALID_STATE', 'the consortium must keep at least one member organisation with a voting right');
    }
  }
  for (const action of actions) {
    switch (action.type) {
      case 'setParameter':
        await writeParameter(tx, action.name, action.value, provenance);
        break;
      case 'registerIssuer':
        await registerIssuer(tx, action, provenance);
        break;
      case 'removeIssuer':
        await removeIssuer(tx, action, provenance);
        break;
      case 'addArbitrator':
        await addArbitrator(tx, action, provenance);
        break;
      case 'removeArbitrator':
        await removeArbitrator(tx, action, provenance);
        break;
      case 'setMemberRights':
        await setMemberRights(tx, action, provenance);
        break;
    }
  }
}
