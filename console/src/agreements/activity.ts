/** How each agreement event reads in the page's live activity, past tense. */
const eventWords: Readonly<Record<string, string>> = {
  AgreementDrafted: 'Agreement drafted',
  AgreementAccepted: 'Agreement accepted',
  AgreementDeclined: 'Agreement declined',
  CancellationRequested: 'Cancellation requested',
  AgreementCancelled: 'Agreement cancelled',
  FundingRequested: 'Funding requested',
  DeliverableSubmitted: 'Work delivered',
  DeliverableRejected: 'Delivery rejected',
  MilestoneAccepted: 'Milestone accepted',
  EvaluationRecorded: 'Evaluation recorded',
  MilestoneReleased: 'Payout released',
  PayoutCleared: 'Held payout cleared',
  PayoutReissued: 'Failed payout reissued',
  DisputeOpened: 'Dispute opened',
  DisputeVoteCast: 'Arbitrator voted',
  DisputeDecided: 'Dispute decided',
  TasksSubmitted: 'Tasks delivered',
  TasksReviewed: 'Tasks reviewed',
};

/** A settlement provider's answer by what it settled and how: `${kind} ${outcome}` as the chaincode writes them. */
const settlementWords: Readonly<Record<string, string>> = {
  'fund-escrow paid': 'Escrow funded',
  'fund-escrow failed': 'Funding failed',
  'release paid': 'Payout paid',
  'release failed': 'Payout failed',
  'refund paid': 'Refund paid',
  'refund failed': 'Refund failed',
};

interface SettledInstruction {
  readonly kind?: unknown;
  readonly milestoneId?: unknown;
  readonly confirmation?: { readonly outcome?: unknown; readonly reason?: unknown };
}

/**
 * One committed event of an agreement in words: what happened and, for a settlement the
 * provider answered, whether the money moved and, when it did not, the provider's reason.
 * A `SettlementConfirmed` event records the provider's answer, paid or failed, so its name
 * alone would read as success either way.
 *
 * @param name the event's name, `agreement.<Event>` as the chaincode emits it.
 * @param payload the event's payload as emitted (`instruction` for a settlement).
 */
export function activityWords(name: string, payload: unknown): { what: string; reason?: string } {
  const event = name.replace(/^agreement\./, '');
  if (event === 'SettlementConfirmed' && typeof payload === 'object' && payload !== null) {
    const instruction = (payload as { instruction?: SettledInstruction }).instruction;
    const settled = settlementWords[`${String(instruction?.kind)} ${String(instruction?.confirmation?.outcome)}`];
    if (settled !== undefined) {
      const reason = instruction?.confirmation?.reason;
      const milestone = typeof instruction?.milestoneId === 'string' ? ` (${instruction.milestoneId})` : '';
      return { what: `${settled}${milestone}`, ...(typeof reason === 'string' ? { reason } : {}) };
    }
  }
  return { what: eventWords[event] ?? event };
}
