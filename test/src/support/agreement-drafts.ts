/** An agreement with one deliverable milestone, as the suites draft it. */
export interface OneMilestoneDraft {
  agreementId: string;
  title: string;
  /** The confidential terms' scope of work. */
  scope: string;
  /** The milestone's title, amount in minor units and acceptance criteria; any other field overrides the defaults. */
  milestone: { title: string; amount: string; criteria: string } & Record<string, unknown>;
}

/**
 * The body of `POST /v1/agreements` for `draft`: milestone `m1`, EUR, due in 14 days,
 * unless `draft.milestone` says otherwise.
 */
export function oneMilestoneDraft(
  client: { mspId: string; userId: string },
  freelancer: { mspId: string; userId: string },
  { agreementId, title, scope, milestone }: OneMilestoneDraft,
) {
  const { title: milestoneTitle, criteria, ...rest } = milestone;
  return {
    agreementId,
    title,
    client,
    freelancer,
    milestones: [
      {
        kind: 'deliverable',
        milestoneId: 'm1',
        title: milestoneTitle,
        currency: 'EUR',
        dueDate: new Date(Date.now() + 14 * 86_400_000).toISOString(),
        acceptanceCriteria: { description: criteria },
        ...rest,
      },
    ],
    terms: { scope },
  };
}
