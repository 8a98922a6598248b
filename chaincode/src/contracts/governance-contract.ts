import { Info } from 'fabric-contract-api';
import {
  governanceContractName,
  governanceEvents,
  governanceTransactions as spec,
  type ProposalView,
} from '../model/governance';
import { announcing, emitEvent, eventBase } from '../ledger/events';
import { refuse } from '../ledger/refusal';
import { contractClass, transaction } from '../ledger/contract-class';
import { actorOf } from '../ledger/tx';
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
  readProposalsPage,
  writeGenesisSeal,
} from './governance/store';

/** What a proposal step's event says: the proposal id, and the proposal as it now stands. */
function proposalFields(proposal: ProposalView, request: { proposalId: string }) {
  return { proposalId: request.proposalId, proposal };
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
export class GovernanceContract extends contractClass(governanceContractName, {
  /** Genesis only: the bootstrap administrator applies actions directly (members, arbitrators, …). */
  applyGenesisActions: transaction(spec.applyGenesisActions, async (tx, request) => {
    const provenance = await requireGenesisAdmin(tx, 'change the consortium rules');
    await applyActions(tx, request.actions, provenance);
    emitEvent(tx.ctx, governanceEvents.genesisApplied, { ...eventBase(tx), actions: request.actions });
    return { sealed: false };
  }),

  /** Ends genesis: from this transaction on, rules change only through executed proposals. */
  sealGenesis: transaction(spec.sealGenesis, async (tx) => {
    await requireGenesisAdmin(tx, 'seal genesis');
    if (!(await readMembers(tx.ctx)).some((member) => member.voting)) {
      refuse('INVALID_STATE', 'genesis needs at least one member organisation with a voting right before it is sealed');
    }
    const seal = { sealedAt: tx.at, txId: tx.txId, by: actorOf(tx.caller) };
    await writeGenesisSeal(tx.ctx, seal);
    emitEvent(tx.ctx, governanceEvents.genesisSealed, { ...eventBase(tx), seal });
    return { sealed: true as const, seal };
  }),

  propose: transaction(spec.propose, announcing(governanceEvents.proposalSubmitted, propose, proposalFields)),

  vote: transaction(spec.vote, async (tx, request) => {
    const { view, vote: cast } = await vote(tx, request);
    emitEvent(tx.ctx, governanceEvents.voteCast, {
      ...eventBase(tx),
      proposalId: request.proposalId,
      vote: cast,
      proposal: view,
    });
    return view;
  }),

  veto: transaction(spec.veto, announcing(governanceEvents.proposalVetoed, veto, proposalFields)),

  execute: transaction(spec.execute, announcing(governanceEvents.proposalExecuted, execute, proposalFields)),

  /** A governor of an organisation invited by an executed proposal takes up its rights. */
  acceptMembership: transaction(spec.acceptMembership, async (tx) => {
    const member = await acceptMembership(tx);
    emitEvent(tx.ctx, governanceEvents.membershipAccepted, { ...eventBase(tx), member });
    return member;
  }),

  getProposal: transaction(spec.getProposal, async (tx, request) =>
    viewProposal(tx, await requireProposal(tx, request.proposalId)),
  ),

  /** One page of the proposals, in id order, each with its tally and phase now. */
  listProposals: transaction(spec.listProposals, async (tx, page) => {
    const { items: proposals, bookmark } = await readProposalsPage(tx.ctx, page);
    const items: ProposalView[] = [];
    for (const proposal of proposals) items.push(await viewProposal(tx, proposal));
    return { items, bookmark };
  }),
  listMembers: transaction(spec.listMembers, (tx) => readMembers(tx.ctx)),
  /** Every arbitrator ever added, active or removed. */
  listArbitrators: transaction(spec.listArbitrators, (tx) => readArbitrators(tx.ctx)),
  getGenesis: transaction(spec.getGenesis, (tx) => readGenesis(tx.ctx)),

  /** A rule's current record, with the proposal, votes and execution that put it there, or its genesis. */
  describeRule: transaction(spec.describeRule, async (tx, rule) => {
    const record = await (async () => {
      switch (rule.kind) {
        case 'parameter':
          return readParameterRecord(tx.ctx, rule.name);
        case 'issuer':
          return readIssuer(tx.ctx, rule.issuer);
        case 'arbitrator':
          return readArbitrator(tx.ctx, rule.arbitrator);
        case 'member':
          return readMember(tx.ctx, rule.mspId);
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
  }),
}) {}
