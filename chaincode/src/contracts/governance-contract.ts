import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import {
  governanceContractName,
  governanceEvents,
  governanceTransactions as spec,
  type ArbitratorRecord,
  type GenesisState,
  type MemberRecord,
  type ProposalView,
  type RuleDescription,
} from '../model/governance';
import { emitEvent } from '../ledger/events';
import { refuse } from '../ledger/refusal';
import { runTransaction } from '../ledger/transaction';
import { actorOf, txOf, type Tx } from '../ledger/tx';
import { describeParty, readIssuer } from './credential/store';
import { readParameterRecord } from './parameter/store';
import { applyActions } from './governance/actions';
import { requireGenesisAdmin } from './governance/genesis';
import { acceptMembership, execute, propose, requireProposal, veto, viewProposal, vote } from './governance/proposals';
import {
  readArbitrator,
  readArbitrators,
  readGenesis,
  readMember,
  readMembers,
  readProposals,
  writeGenesisSeal,
} from './governance/store';

function eventBase(tx: Tx) {
  return { at: tx.at, txId: tx.txId, actor: actorOf(tx.caller) };
}

/** A proposal step whose event carries the proposal id and the proposal as it now stands. */
function announced<Request extends { proposalId: string }>(
  event: typeof governanceEvents.proposalSubmitted,
  step: (tx: Tx, request: Request) => Promise<ProposalView>,
): (tx: Tx, request: Request) => Promise<ProposalView> {
  return async (tx, request) => {
    const proposal = await step(tx, request);
    emitEvent(tx.ctx, event, { ...eventBase(tx), proposalId: request.proposalId, proposal });
    return proposal;
  };
}

/**
 * Consortium governance. Member organisations' governors propose changes to the rules
 * (parameters, issuers, arbitrators, members' rights); each organisation has one vote;
 * a passed proposal waits out its timelock, during which an organisation with the veto
 * right may stop it, and is then executed by anyone. Before genesis is sealed the
 * bootstrap administrator sets the first rules directly, and they say so.
 *
 * Every clock is the transaction timestamp. Votes are one key per (proposal,
 * organisation) and tallies are computed when read.
 */
@Info({ title: 'Governance', description: 'Proposals, votes, timelock, veto and the provenance of every rule' })
export class GovernanceContract extends Contract {
  constructor() {
    super(governanceContractName);
  }

  /** Genesis only: the bootstrap administrator applies actions directly (members, arbitrators, …). */
  @Transaction()
  applyGenesisActions(ctx: Context, requestJson: string): Promise<GenesisState> {
    return runTransaction(ctx, spec.applyGenesisActions, requestJson, async (tx, request) => {
      const provenance = await requireGenesisAdmin(tx, 'change the consortium rules');
      await applyActions(tx, request.actions, provenance);
      emitEvent(ctx, governanceEvents.genesisApplied, { ...eventBase(tx), actions: request.actions });
      return { sealed: false };
    });
  }

  /** Ends genesis: from this transaction on, rules change only through executed proposals. */
  @Transaction()
  async sealGenesis(ctx: Context): Promise<GenesisState> {
    const tx = txOf(ctx);
    await requireGenesisAdmin(tx, 'seal genesis');
    if (!(await readMembers(ctx)).some((member) => member.voting)) {
      refuse('INVALID_STATE', 'genesis needs at least one member organisation with a voting right before it is sealed');
    }
    const seal = { sealedAt: tx.at, txId: tx.txId, by: actorOf(tx.caller) };
    await writeGenesisSeal(ctx, seal);
    emitEvent(ctx, governanceEvents.genesisSealed, { ...eventBase(tx), seal });
    return { sealed: true, seal };
  }

  @Transaction()
  propose(ctx: Context, requestJson: string): Promise<ProposalView> {
    return runTransaction(ctx, spec.propose, requestJson, announced(governanceEvents.proposalSubmitted, propose));
  }

  @Transaction()
  vote(ctx: Context, requestJson: string): Promise<ProposalView> {
    return runTransaction(ctx, spec.vote, requestJson, async (tx, request) => {
      const { view, vote: cast } = await vote(tx, request);
      emitEvent(ctx, governanceEvents.voteCast, {
        ...eventBase(tx),
        proposalId: request.proposalId,
        vote: cast,
        proposal: view,
      });
      return view;
    });
  }

  @Transaction()
  veto(ctx: Context, requestJson: string): Promise<ProposalView> {
    return runTransaction(ctx, spec.veto, requestJson, announced(governanceEvents.proposalVetoed, veto));
  }

  @Transaction()
  execute(ctx: Context, requestJson: string): Promise<ProposalView> {
    return runTransaction(ctx, spec.execute, requestJson, announced(governanceEvents.proposalExecuted, execute));
  }

  /** A governor of an organisation invited by an executed proposal takes up its rights. */
  @Transaction()
  acceptMembership(ctx: Context, requestJson: string): Promise<MemberRecord> {
    return runTransaction(ctx, spec.acceptMembership, requestJson, async (tx) => {
      const member = await acceptMembership(tx);
      emitEvent(ctx, governanceEvents.membershipAccepted, { ...eventBase(tx), member });
      return member;
    });
  }

  @Transaction(false)
  getProposal(ctx: Context, requestJson: string): Promise<ProposalView> {
    return runTransaction(ctx, spec.getProposal, requestJson, async (tx, request) =>
      viewProposal(tx, await requireProposal(tx, request.proposalId)),
    );
  }

  /** Every proposal, in id order, with its tally and phase now. */
  @Transaction(false)
  async listProposals(ctx: Context): Promise<ProposalView[]> {
    const tx = txOf(ctx);
    const views: ProposalView[] = [];
    for (const proposal of await readProposals(ctx)) views.push(await viewProposal(tx, proposal));
    return views;
  }

  @Transaction(false)
  listMembers(ctx: Context): Promise<MemberRecord[]> {
    return readMembers(ctx);
  }

  /** Every arbitrator ever added, active or removed. */
  @Transaction(false)
  listArbitrators(ctx: Context): Promise<ArbitratorRecord[]> {
    return readArbitrators(ctx);
  }

  @Transaction(false)
  getGenesis(ctx: Context): Promise<GenesisState> {
    return readGenesis(ctx);
  }

  /** A rule's current record, with the proposal, votes and execution that put it there, or its genesis. */
  @Transaction(false)
  describeRule(ctx: Context, requestJson: string): Promise<RuleDescription> {
    return runTransaction(ctx, spec.describeRule, requestJson, async (tx, rule) => {
      const record = await (async () => {
        switch (rule.kind) {
          case 'parameter':
            return readParameterRecord(ctx, rule.name);
          case 'issuer':
            return readIssuer(ctx, rule.issuer);
          case 'arbitrator':
            return readArbitrator(ctx, rule.arbitrator);
          case 'member':
            return readMember(ctx, rule.mspId);
        }
      })();
      if (record === undefined) {
        const what =
          rule.kind === 'parameter'
            ? `parameter ${rule.name} has not been set`
            : rule.kind === 'member'
              ? `${rule.mspId} has never been a member`
              : `${describeParty(rule.kind === 'issuer' ? rule.issuer : rule.arbitrator)} has no ${rule.kind} record`;
        refuse('NOT_FOUND', what, rule.kind === 'parameter' ? 'name' : rule.kind === 'member' ? 'mspId' : rule.kind);
      }
      const provenance = record.provenance;
      if (provenance?.source !== 'proposal') return { rule, record, ...(provenance ? { provenance } : {}) };
      const proposal = await viewProposal(tx, await requireProposal(tx, provenance.proposalId));
      return { rule, record, provenance, proposal };
    });
  }
}
