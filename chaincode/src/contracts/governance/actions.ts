import type { RefusalCode } from '../../model/errors';
import type { ArbitratorRecord, GovernanceAction, MemberRecord } from '../../model/governance';
import type { RuleProvenance } from '../../model/provenance';
import { refuse } from '../../ledger/refusal';
import type { Tx } from '../../ledger/tx';
import { holdsExactGrant, registerIssuer, removeIssuer } from '../credential/issuers';
import { describeParty, readIssuer } from '../credential/store';
import { checkParameterValue, writeParameter } from '../parameter/store';
import { readArbitrator, readMember, readMembers, writeArbitrator, writeMember } from './store';
import { requireMemberOrganisations } from './member-organisations';

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

/** Why an action cannot apply to the ledger as it stands: the refusal it would get, and the action field at fault. */
interface Obstacle {
  readonly code: RefusalCode;
  readonly message: string;
  readonly field?: string;
}

/** Removing an issuer or arbitrator needs one that exists and is still active. */
function removalObstacle(
  current: { readonly status: string; readonly updatedAt: string } | undefined,
  role: 'issuer' | 'arbitrator',
  who: string,
): Obstacle | undefined {
  if (current === undefined) return { code: 'NOT_FOUND', message: `${who} has no ${role} record`, field: role };
  if (current.status === 'removed') {
    return {
      code: 'INVALID_STATE',
      message: `${role} ${who} was already removed at ${current.updatedAt}`,
      field: role,
    };
  }
  return undefined;
}

/**
 * Whether the action fits the current rules. The same judgement refuses a proposal
 * before anyone votes on it and, should the rules change meanwhile, its execution.
 */
async function obstacleTo(tx: Tx, action: GovernanceAction): Promise<Obstacle | undefined> {
  switch (action.type) {
    case 'setParameter':
      return action.name === 'settlementOrganisations' && Array.isArray(action.value)
        ? settlementOutsider(tx, action.value)
        : undefined;
    case 'registerIssuer': {
      const current = await readIssuer(tx.ctx, action.issuer);
      if (holdsExactGrant(current, action)) {
        return {
          code: 'ALREADY_EXISTS',
          message: `issuer ${describeParty(action.issuer)} is already active with exactly this name and grant (version ${String(current?.version)})`,
          field: 'issuer',
        };
      }
      return undefined;
    }
    case 'removeIssuer':
      return removalObstacle(await readIssuer(tx.ctx, action.issuer), 'issuer', describeParty(action.issuer));
    case 'addArbitrator': {
      const current = await readArbitrator(tx.ctx, action.arbitrator);
      if (current?.status === 'active' && current.displayName === action.displayName) {
        return {
          code: 'ALREADY_EXISTS',
          message: `${describeParty(action.arbitrator)} is already an active arbitrator`,
          field: 'arbitrator',
        };
      }
      return undefined;
    }
    case 'removeArbitrator':
      return removalObstacle(
        await readArbitrator(tx.ctx, action.arbitrator),
        'arbitrator',
        describeParty(action.arbitrator),
      );
    case 'setMemberRights': {
      const current = await readMember(tx.ctx, action.mspId);
      if (current === undefined && !action.voting && !action.veto) {
        return {
          code: 'NOT_FOUND',
          message: `${action.mspId} is not a member, so it has no rights to take away`,
          field: 'mspId',
        };
      }
      const offered = current?.invitation ?? current;
      if (offered !== undefined && offered.voting === action.voting && offered.veto === action.veto) {
        const state = current?.invitation === undefined ? 'holds' : 'is already invited with';
        return {
          code: 'ALREADY_EXISTS',
          message: `${action.mspId} ${state} exactly these rights (voting ${String(action.voting)}, veto ${String(action.veto)})`,
          field: 'mspId',
        };
      }
      return undefined;
    }
  }
}

/**
 * An organisation listed to settle twice, or that is no member of the consortium (a
 * misspelt MSP id, say): the first listed is named on every instruction issued from then on as the one
 * whose settlement service sends it, and no service of an unknown organisation ever will.
 * Members are the organisations holding voting or veto rights; before genesis records any,
 * there is nothing to check against.
 */
async function settlementOutsider(tx: Tx, listed: readonly unknown[]): Promise<Obstacle | undefined> {
  const members = (await readMembers(tx.ctx)).filter(holdsRights).map((member) => member.mspId);
  if (members.length === 0) return undefined;
  const index = listed.findIndex((mspId) => typeof mspId !== 'string' || !members.includes(mspId));
  if (index >= 0) {
    return {
      code: 'VALIDATION_FAILED',
      message: `${String(listed[index])} is no member organisation of the consortium; members are ${members.join(', ')}`,
      field: `value.${index}`,
    };
  }
  const repeated = listed.findIndex((mspId, position) => listed.indexOf(mspId) !== position);
  if (repeated < 0) return undefined;
  return {
    code: 'VALIDATION_FAILED',
    message: `${String(listed[repeated])} is listed already as value.${String(listed.indexOf(listed[repeated]))}`,
    field: `value.${repeated}`,
  };
}

function holdsRights(member: MemberRecord | undefined): boolean {
  return member !== undefined && (member.voting || member.veto);
}

/**
 * What the members would be after the actions: Fabric does not let a transaction read
 * its own writes, so this is worked out before anything is written.
 */
async function refuseEmptyElectorate(tx: Tx, actions: readonly GovernanceAction[], field?: string): Promise<void> {
  const memberChanges = actions.filter((action) => action.type === 'setMemberRights');
  if (memberChanges.length === 0) return;
  const members = await readMembers(tx.ctx);
  const voting = new Set(members.filter((member) => member.voting).map((member) => member.mspId));
  for (const change of memberChanges) {
    // An invitation gives no vote until it is accepted.
    if (change.voting && holdsRights(members.find((member) => member.mspId === change.mspId))) voting.add(change.mspId);
    else if (!change.voting) voting.delete(change.mspId);
  }
  if (voting.size === 0) {
    const message = 'the consortium must keep at least one member organisation with a voting right';
    if (field === undefined) refuse('INVALID_STATE', message);
    refuse('VALIDATION_FAILED', `${field}: ${message}`, field);
  }
}

/**
 * What can be judged before a vote: values that suit their parameter, each rule
 * changed at most once, and every action fitting the rules as they stand (a proposal
 * that could not be executed today is refused rather than voted on).
 *
 * @throws RefusalError VALIDATION_FAILED naming the action's field (`actions.N…`), also when an
 *   issuer or arbitrator it adds is of an organisation outside the consortium.
 */
export async function checkActions(tx: Tx, actions: readonly GovernanceAction[]): Promise<void> {
  checkActionShapes(actions);
  for (const [index, action] of actions.entries()) {
    const obstacle = await obstacleTo(tx, action);
    if (obstacle !== undefined) {
      const field = `actions.${index}${obstacle.field === undefined ? '' : `.${obstacle.field}`}`;
      refuse('VALIDATION_FAILED', `${field}: ${obstacle.message}`, field);
    }
  }
  await requireMemberOrganisations(
    tx,
    actions.flatMap((action, index) =>
      action.type === 'registerIssuer'
        ? [{ field: `actions.${index}.issuer`, party: action.issuer }]
        : action.type === 'addArbitrator'
          ? [{ field: `actions.${index}.arbitrator`, party: action.arbitrator }]
          : [],
    ),
  );
  await refuseEmptyElectorate(tx, actions, 'actions');
}

/** @throws RefusalError VALIDATION_FAILED for a value unfit for its parameter or a rule changed twice. */
function checkActionShapes(actions: readonly GovernanceAction[]): void {
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

/**
 * Applies every action, in order, in this one transaction: either all of them change
 * the ledger or the transaction fails and none does. Emits nothing; the transaction's
 * own event (genesis or execution) lists the actions.
 *
 * @throws RefusalError VALIDATION_FAILED for a value that does not suit its parameter;
 *   NOT_FOUND, INVALID_STATE or ALREADY_EXISTS when an action no longer fits the rules
 *   (e.g. removing an issuer that was removed since); INVALID_STATE when no member with
 *   a voting right would be left.
 */
export async function applyActions(
  tx: Tx,
  actions: readonly GovernanceAction[],
  provenance: RuleProvenance,
): Promise<void> {
  checkActionShapes(actions);
  for (const action of actions) {
    const obstacle = await obstacleTo(tx, action);
    if (obstacle !== undefined) refuse(obstacle.code, obstacle.message, obstacle.field);
  }
  // At genesis the members are being set up; sealing checks that one can vote.
  if (provenance.source === 'proposal') await refuseEmptyElectorate(tx, actions);
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
      case 'addArbitrator': {
        const record: ArbitratorRecord = {
          arbitrator: action.arbitrator,
          displayName: action.displayName,
          status: 'active',
          updatedAt: tx.at,
          updatedTxId: tx.txId,
          provenance,
        };
        await writeArbitrator(tx.ctx, record);
        break;
      }
      case 'removeArbitrator': {
        const current = await readArbitrator(tx.ctx, action.arbitrator);
        if (current === undefined) throw new Error(`arbitrator ${describeParty(action.arbitrator)} vanished`);
        await writeArbitrator(tx.ctx, {
          ...current,
          status: 'removed',
          removal: { reason: action.reason, at: tx.at, txId: tx.txId },
          updatedAt: tx.at,
          updatedTxId: tx.txId,
          provenance,
        });
        break;
      }
      case 'setMemberRights': {
        const current = await readMember(tx.ctx, action.mspId);
        const granting = action.voting || action.veto;
        // Genesis members are the channel's own organisations; later newcomers accept first.
        const invited = granting && !holdsRights(current) && provenance.source === 'proposal';
        const record: MemberRecord = {
          mspId: action.mspId,
          voting: invited ? false : action.voting,
          veto: invited ? false : action.veto,
          ...(invited ? { invitation: { voting: action.voting, veto: action.veto } } : {}),
          updatedAt: tx.at,
          updatedTxId: tx.txId,
          provenance,
        };
        await writeMember(tx.ctx, record);
        break;
      }
    }
  }
}
