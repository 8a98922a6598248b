import { randomBytes } from 'node:crypto';
import type { Party } from '@gigledger/chaincode/model';
import type { LedgerSession } from '@gigledger/gateway';
import type { BenchNetwork } from './bench-network.js';

/** A fresh request id for each command a benchmark submits, so no command is a replay. */
export const benchRequestId = (): string => `bench-${randomBytes(8).toString('hex')}`;

/**
 * Milestone `m1` of a benchmark's agreements: by default a 750.00 USD deliverable due in
 * seven days; `overrides` change its title, amount (minor units), currency or criteria.
 */
export const milestoneDraft = (
  overrides: { title?: string; amount?: string; currency?: string; acceptanceCriteria?: { description: string } } = {},
) => ({
  kind: 'deliverable' as const,
  milestoneId: 'm1',
  title: 'Annotated clips',
  amount: '75000',
  currency: 'USD',
  dueDate: new Date(Date.now() + 7 * 86_400_000).toISOString(),
  acceptanceCriteria: { description: 'two-pass review' },
  ...overrides,
});

/**
 * Drafts a one-milestone labelling agreement between two parties as `client`, its terms in
 * the transient map; `milestone` changes the milestone as {@link milestoneDraft} does.
 *
 * @returns the draft's transaction id and block number.
 */
export async function draftLabellingAgreement(
  client: LedgerSession,
  agreementId: string,
  clientParty: Party,
  freelancer: Party,
  milestone: Parameters<typeof milestoneDraft>[0] = {},
): Promise<{ transactionId: string; blockNumber: bigint }> {
  const { transactionId, blockNumber } = await client.agreements.draftAgreement(
    {
      requestId: benchRequestId(),
      agreementId,
      title: 'Label 2k frames',
      client: clientParty,
      freelancer,
      milestones: [milestoneDraft(milestone)],
    },
    { transient: { terms: { scope: `labelling work ${agreementId}`, salt: randomBytes(16).toString('hex') } } },
  );
  return { transactionId, blockNumber };
}

/** The people of a benchmark's agreements, with the user ids their certificates carry. */
export interface BenchParties {
  readonly client: LedgerSession;
  readonly clientId: string;
  readonly freelancer: LedgerSession;
  readonly freelancerId: string;
  readonly settlement: LedgerSession;
}

/**
 * Enrolls a client (ClientOrg), a freelancer (TalentOrg) and a settlement provider
 * (ClientOrg) under the given enrollment-name prefixes.
 *
 * @throws the CA's or the gateway's errors when an enrollment fails.
 */
export async function enrollParties(
  bench: BenchNetwork,
  prefixes: { readonly client: string; readonly freelancer: string; readonly settlement: string },
): Promise<BenchParties> {
  const client = await bench.enroll('ClientOrg', 'client', prefixes.client);
  const freelancer = await bench.enroll('TalentOrg', 'freelancer', prefixes.freelancer);
  const settlement = await bench.enroll('ClientOrg', 'settlement', prefixes.settlement);
  return {
    client: client.session,
    clientId: client.userId,
    freelancer: freelancer.session,
    freelancerId: freelancer.userId,
    settlement: settlement.session,
  };
}

/** What a benchmark's one-milestone agreement is about; `amount` in minor units of `currency` (ISO 4217). */
export interface BenchWork {
  readonly title: string;
  readonly milestoneTitle: string;
  readonly amount: string;
  readonly currency: string;
  readonly acceptanceCriteria: string;
  readonly scope: string;
  /** Where the delivered artifact is said to be; its hash is random. */
  readonly artifactUri: string;
}

/**
 * Drafts a one-deliverable agreement (milestone `m1`, due in seven days), has the freelancer
 * accept its terms, the client fund `m1` and the settlement provider confirm the payment,
 * and the freelancer deliver: the milestone then awaits the client's acceptance.
 *
 * @throws Error when funding left no payment instruction to confirm; the gateway's errors as they come.
 */
export async function deliveredAgreement(parties: BenchParties, agreementId: string, work: BenchWork): Promise<void> {
  const milestone = { agreementId, milestoneId: 'm1' };
  await parties.client.agreements.draftAgreement(
    {
      requestId: benchRequestId(),
      agreementId,
      title: work.title,
      client: { mspId: 'ClientOrgMSP', userId: parties.clientId },
      freelancer: { mspId: 'TalentOrgMSP', userId: parties.freelancerId },
      milestones: [
        {
          kind: 'deliverable',
          milestoneId: 'm1',
          title: work.milestoneTitle,
          amount: work.amount,
          currency: work.currency,
          dueDate: new Date(Date.now() + 7 * 86_400_000).toISOString(),
          acceptanceCriteria: { description: work.acceptanceCriteria },
        },
      ],
    },
    { transient: { terms: { scope: work.scope, salt: randomBytes(16).toString('hex') } } },
  );
  const terms = await parties.freelancer.agreements.getTerms({ agreementId });
  await parties.freelancer.agreements.acceptAgreement({ agreementId, termsSha256: terms.termsSha256 });
  const funding = await parties.client.agreements.fundMilestone({ requestId: benchRequestId(), ...milestone });
  const instruction = funding.result.instructions.at(-1);
  if (instruction === undefined) throw new Error(`no funding instruction for ${agreementId}`);
  await parties.settlement.agreements.confirmSettlement({
    requestId: benchRequestId(),
    ...milestone,
    instructionId: instruction.instructionId,
    outcome: 'paid',
    providerReference: `fund-${agreementId}`,
  });
  await parties.freelancer.agreements.submitDeliverable({
    requestId: benchRequestId(),
    ...milestone,
    artifactSha256: randomBytes(32).toString('hex'),
    uri: work.artifactUri,
  });
}
