import { countOf } from '../format.js';

interface Party {
  readonly userId: string;
  readonly mspId: string;
}

/** An arbitrator as governance lists them: `active` while governed, `removed` after a removal. */
export interface ArbitratorStanding {
  readonly arbitrator: Party;
  readonly status: string;
}

function sameParty(a: Party, b: Party): boolean {
  return a.userId === b.userId && a.mspId === b.mspId;
}

/**
 * How a dispute's votes stand under the chaincode's rule: a vote counts only while its
 * arbitrator is governed, and the majority is of the panel's members still governed. An
 * arbitrator removed after voting keeps their vote on the record, where it decides nothing.
 */
export function panelVotes(
  dispute: { panel?: readonly Party[] | null; votes: readonly { arbitrator: Party }[] },
  arbitrators: readonly ArbitratorStanding[],
): { counting: number; uncounted: number; seated: number | undefined; removed: number } {
  const isGoverned = (party: Party) =>
    arbitrators.some((record) => record.status === 'active' && sameParty(record.arbitrator, party));
  const counting = dispute.votes.filter((vote) => isGoverned(vote.arbitrator)).length;
  const seated = dispute.panel?.filter(isGoverned).length;
  return {
    counting,
    uncounted: dispute.votes.length - counting,
    seated,
    removed: (dispute.panel?.length ?? 0) - (seated ?? 0),
  };
}

/**
 * The votes that count, of the panel's members still governed, in words: `1 of 2`, and
 * when governance has removed members since the panel was drawn, how many and how many
 * votes no longer count. A dispute opened before panels were recorded shows the votes
 * that count alone.
 */
export function panelVotesInWords(votes: ReturnType<typeof panelVotes>): string {
  const notes = [
    ...(votes.removed === 0
      ? []
      : [`${String(votes.removed)} of the ${String(votes.removed + (votes.seated ?? 0))} drawn removed by governance`]),
    ...(votes.uncounted === 0 ? [] : [`${countOf(votes.uncounted, 'vote')} not counted`]),
  ];
  const count =
    votes.seated === undefined
      ? countOf(votes.counting, 'vote')
      : `${String(votes.counting)} of ${String(votes.seated)}`;
  return notes.length === 0 ? count : `${count} (${notes.join('; ')})`;
}
