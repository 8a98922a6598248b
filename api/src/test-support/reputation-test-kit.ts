import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { agreementTermsSha256, agreementTermsTransientKey } from '@gigledger/chaincode/model';
import type { LedgerClient } from '@gigledger/gateway';
import type { Person, TestServer } from './test-server.js';

/*
 * Test support for the reputation suites: agreements put into a given state directly
 * through the in-memory ledger, each call signed as the person acting, so that each test
 * drives only the reputation operation it is about through HTTP.
 */

export type { Person };

const silent = pino({ level: 'silent' });
const terms = {
  scope: 'Label defects and fine-tune a classifier; confidential scope text.',
  salt: '0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a',
};

async function as(server: TestServer, person: Person): Promise<LedgerClient> {
  return server.ledger.clientFor(person.principal, silent);
}

const day = 24 * 3600;

/**
 * Drafts a one-milestone agreement between a client and a freelancer, due in `dueDays`
 * days of ledger time, and has the freelancer accept it.
 */
export async function acceptedAgreement(
  server: TestServer,
  parties: { client: Person; freelancer: Person },
  agreementId: string,
  dueDays = 14,
): Promise<void> {
  const client = await as(server, parties.client);
  await client.agreements.draftAgreement(
    {
      requestId: `draft-${agreementId}`,
      agreementId,
      title: `Work on ${agreementId}`,
      client: parties.client.party,
      freelancer: parties.freelancer.party,
      milestones: [
        {
          kind: 'deliverable',
          milestoneId: 'm1',
          title: 'Model and report',
          amount: '150000',
          currency: 'EUR',
          dueDate: new Date((server.ledger.ledger.nowSeconds + dueDays * day) * 1000).toISOString(),
          acceptanceCriteria: { description: 'Accuracy on the hold-out set' },
        },
      ],
    },
    { transient: { [agreementTermsTransientKey]: terms } },
  );
  await (
    await as(server, parties.freelancer)
  ).agreements.acceptAgreement({ agreementId, termsSha256: agreementTermsSha256(terms) });
}

/** Funds (with the settlement provider's confirmation), delivers and accepts milestone m1. */
export async function completedMilestone(
  server: TestServer,
  parties: { client: Person; freelancer: Person; settlement: Person },
  agreementId: string,
): Promise<void> {
  const client = await as(server, parties.client);
  const funded = await client.agreements.fundMilestone({ requestId: randomUUID(), agreementId, milestoneId: 'm1' });
  const instruction = funded.result.instructions.at(-1);
  if (instruction === undefined) throw new Error(`funding ${agreementId} produced no instruction`);
  await (
    await as(server, parties.settlement)
  ).agreements.confirmSettlement({
    requestId: randomUUID(),
    agreementId,
    milestoneId: 'm1',
    instructionId: instruction.instructionId,
    outcome: 'paid',
    providerReference: `psp-${randomUUID()}`,
  });
  await (
    await as(server, parties.freelancer)
  ).agreements.submitDeliverable({
    requestId: randomUUID(),
    agreementId,
    milestoneId: 'm1',
    artifactSha256: 'a'.repeat(64),
    uri: `https://artifacts.example.com/${agreementId}/m1`,
    claimedMetrics: { accuracy: 0.93 },
  });
  await client.agreements.acceptMilestone({ agreementId, milestoneId: 'm1' });
}
