import { ReputationContract } from '../contracts/reputation-contract';
import type { z } from 'zod';
import type { Actor, Party } from '../model/party';
import type { EventSpec } from '../model/spec';
import {
  AgreementDriver,
  client,
  compositeKey,
  daysFrom,
  draftRequest,
  freelancer,
  freelancerParty,
  termsSha256,
} from './agreement-fixtures';
import { CredentialDriver } from './credential-fixtures';
import { testIdentity, type InMemoryLedger, type TestIdentity } from './in-memory-ledger';

export const tomParty = { mspId: 'TalentOrgMSP', userId: 'tom' };

/** A third ML professional who shared no work with anyone. */
export const zoe = testIdentity('TalentOrgMSP', 'zoe', 'freelancer');

export const completionKey = (subject: Party, agreementId: string, milestoneId: string): string =>
  compositeKey('completion', subject.mspId, subject.userId, agreementId, milestoneId);

export const attestationKey = (subject: Party, attester: Party, agreementId: string): string =>
  compositeKey('attestation', subject.mspId, subject.userId, attester.mspId, attester.userId, agreementId);

/** A draft with one deliverable milestone due in `dueDays` days. */
export function singleMilestoneDraft(
  ledger: InMemoryLedger,
  agreementId: string,
  freelancerParty: Party,
  overrides: Record<string, unknown> = {},
  dueDays = 14,
): Record<string, unknown> {
  const base = draftRequest(ledger);
  const [first] = base.milestones as Record<string, unknown>[];
  return {
    ...base,
    requestId: `draft-${agreementId}`,
    agreementId,
    freelancer: freelancerParty,
    evaluator: undefined,
    milestones: [{ ...first, dueDate: daysFrom(ledger, dueDays) }],
    ...overrides,
  };
}

/**
 * Drives the reputation contract beside the agreement and credential contracts on one
 * ledger, the way the gateway would.
 */
export class ReputationDriver {
  readonly contract = new ReputationContract();
  readonly agreements: AgreementDriver;
  readonly credentials: CredentialDriver;
  #requests = 0;

  constructor(readonly ledger: InMemoryLedger = new AgreementDriver().ledger) {
    this.agreements = new AgreementDriver(ledger);
    this.credentials = new CredentialDriver(ledger);
  }

  nextRequestId(): string {
    this.#requests += 1;
    return `rep-req-${String(this.#requests).padStart(6, '0')}`;
  }

  /** Drafts a one-milestone agreement for `freelancerIdentity` and has them accept it. */
  async activeAgreement(
    agreementId: string,
    freelancerIdentity: TestIdentity = freelancer,
    overrides: Record<string, unknown> = {},
    dueDays = 14,
    clientIdentity: TestIdentity = client,
  ): Promise<void> {
    const party = {
      mspId: freelancerIdentity.mspId,
      userId: freelancerIdentity.attributes?.userId ?? '',
    };
    await this.agreements.draft(
      singleMilestoneDraft(this.ledger, agreementId, party, overrides, dueDays),
      clientIdentity,
    );
    await this.agreements.accept(freelancerIdentity, termsSha256, agreementId);
  }

  /** Funds, delivers and accepts milestone m1 of an active agreement. */
  async completed(agreementId: string, freelancerIdentity: TestIdentity = freelancer): Promise<void> {
    await this.agreements.funded('m1', agreementId);
    await this.agreements.submit('m1', undefined, freelancerIdentity, {}, agreementId);
    await this.agreements.acceptMilestone('m1', client, agreementId);
  }

  rate(agreementId: string, milestoneId: string, rating: number, as: TestIdentity = client, requestId?: string) {
    const request = { requestId: requestId ?? this.nextRequestId(), agreementId, milestoneId, rating };
    return this.ledger.invoke(as, (ctx) => this.contract.recordCompletion(ctx, JSON.stringify(request)));
  }

  attest(as: TestIdentity, request: Record<string, unknown>) {
    return this.ledger.invoke(as, (ctx) =>
      this.contract.attest(ctx, JSON.stringify({ requestId: this.nextRequestId(), ...request })),
    );
  }

  reputationOf(subject: Party, as: TestIdentity = client) {
    return this.ledger.invoke(as, (ctx) => this.contract.reputationOf(ctx, JSON.stringify(subject)));
  }

  /**
   * Checks that the last transaction wrote `record` at `key` and nothing else besides the
   * request record that makes its request id replayable.
   */
  expectSoleWrite(key: string, record: unknown): void {
    expect(this.ledger.read(key)).toEqual(record);
    const writes = this.ledger.transactions.at(-1)?.writes ?? [];
    expect(writes.filter((written) => !written.startsWith(compositeKey('request')))).toEqual([key]);
  }

  /**
   * Checks that the last transaction emitted `event` about the freelancer, by `actor`,
   * carrying `body` beside the subject, time and transaction id every reputation event
   * carries; the payload must also parse as the event's schema to the same value.
   */
  expectLastEvent(event: EventSpec<z.ZodType>, actor: Actor, body: Record<string, unknown>): void {
    const tx = this.ledger.transactions.at(-1)!;
    const payload = {
      subject: freelancerParty,
      at: new Date(tx.timestampSeconds * 1000).toISOString(),
      txId: tx.txId,
      actor,
      ...body,
    };
    expect(this.ledger.lastEvent).toEqual({ name: event.name, payload });
    expect(event.payload.parse(this.ledger.lastEvent!.payload)).toEqual(payload);
  }

  /** Runs a refused transaction and checks that it left the ledger as it was. */
  async expectRefusal(promise: () => Promise<unknown>, expected: RegExp | string): Promise<void> {
    const before = this.#snapshot();
    await expect(promise()).rejects.toThrow(expected);
    expect(this.#snapshot()).toEqual(before);
  }

  #snapshot(): unknown {
    const keys = this.ledger.keys();
    return { transactions: this.ledger.transactions.length, keys, values: keys.map((key) => this.ledger.read(key)) };
  }
}
