import type {
  AgreementDetails,
  AgreementRecord,
  AgreementView,
  Dispute,
  MilestoneRecord,
} from '@gigledger/chaincode/model';
import { type GraphqlContext, resolverRequester, resolveWith } from '../../graphql/context.js';
import { readForNode } from '../../graphql/node-reads.js';
import type { Committed } from '../../ledger/committed.js';
import type { AgreementService } from '../agreement-service.js';

/**
 * What a GraphQL `Agreement` resolves from: the record, plus whatever of the view the
 * operation already read. Missing parts are read on demand, once per node.
 */
export type AgreementNode = AgreementRecord & {
  readonly milestones?: readonly MilestoneRecord[];
  readonly completed?: boolean;
  readonly history?: AgreementView['history'];
};

/** A node from a full view: nothing left to read. */
export function nodeOfView(view: AgreementView): AgreementNode {
  return { ...view.agreement, milestones: view.milestones, completed: view.completed, history: view.history };
}

/** A node from a command's result: completion and history are read if asked for. */
export function nodeOfDetails(details: AgreementDetails): AgreementNode {
  return { ...details.agreement, milestones: details.milestones };
}

/** Payload of a command whose result is an agreement record or an agreement with its milestones. */
export function agreementPayload(done: Committed<AgreementRecord | AgreementDetails>) {
  const { result, ...committed } = done;
  return { ...committed, agreement: 'milestones' in result ? nodeOfDetails(result) : result };
}

/** Payload of a command whose result is a milestone. */
export function milestonePayload(done: Committed<MilestoneRecord>) {
  const { result, ...committed } = done;
  return { ...committed, milestone: result };
}

/** Payload of a bulk task command: the milestone and the tasks it changed. */
export function taskBatchPayload<Batch extends { milestone: MilestoneRecord; tasks: readonly unknown[] }>(
  done: Committed<Batch>,
) {
  const { result, ...committed } = done;
  return { ...committed, milestone: result.milestone, tasks: result.tasks };
}

/**
 * Field resolvers of `Agreement` and the enums whose wire values are not GraphQL names.
 * A node built from a record alone (a list, an accepted offer) reads the rest of the
 * view as the caller when a query asks for it, so visibility rules still apply, a few
 * per request at a time (see readForNode).
 */
export function agreementNodeResolvers(service: AgreementService) {
  const views = new WeakMap<AgreementNode, Promise<AgreementView>>();
  const viewOf = (node: AgreementNode, context: GraphqlContext): Promise<AgreementView> => {
    let view = views.get(node);
    if (view === undefined) {
      view = readForNode(context, 'agreement', 'fewer agreements', () =>
        service.getAgreement(resolverRequester(context, 'agreements:read'), node.agreementId),
      );
      views.set(node, view);
    }
    return view;
  };
  return {
    Agreement: {
      milestones: (node: AgreementNode, _args: unknown, context: GraphqlContext) =>
        resolveWith(context, async () => node.milestones ?? (await viewOf(node, context)).milestones),
      completed: (node: AgreementNode, _args: unknown, context: GraphqlContext) =>
        resolveWith(context, async () => node.completed ?? (await viewOf(node, context)).completed),
      history: (node: AgreementNode, _args: unknown, context: GraphqlContext) =>
        resolveWith(context, async () => node.history ?? (await viewOf(node, context)).history),
    },
    Dispute: {
      supersededVotes: (dispute: Dispute) => dispute.supersededVotes ?? [],
    },
    InstructionKind: { fund_escrow: 'fund-escrow' },
    AcceptanceMode: { review_window_lapsed: 'review-window-lapsed' },
  };
}
