import { createHash } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { CredentialContract } from '../contracts/credential-contract';
import type { CredentialType, SaltedClaim } from '../model/credential-records';
import { admin, compositeKey, freelancerParty } from './agreement-fixtures';
import { InMemoryLedger, testIdentity, type TestIdentity } from './in-memory-ledger';

/** A university registrar allowed to issue degrees and courses. */
export const registrar = testIdentity('AuditOrgMSP', 'registrar', 'issuer', 'uni-registrar');
export const registrarParty = { mspId: 'AuditOrgMSP', userId: 'uni-registrar' };

/** A certification body, a second issuer. */
export const certBody = testIdentity('ClientOrgMSP', 'certbody', 'issuer', 'cert-body');
export const certBodyParty = { mspId: 'ClientOrgMSP', userId: 'cert-body' };

/** Holds role issuer on its certificate but has no issuer record. */
export const unregisteredIssuer = testIdentity('AuditOrgMSP', 'rogue', 'issuer', 'rogue-issuer');

/** The registrar's userId in a certificate without the issuer role. */
export const registrarAsClient = testIdentity('AuditOrgMSP', 'registrar-2', 'client', 'uni-registrar');

export const hr = testIdentity('ClientOrgMSP', 'hr-sync', 'hr');
export const anonymous: TestIdentity = { mspId: 'ClientOrgMSP', name: 'anonymous' };

export const credentialId = 'urn:uuid:0d4c3a52-7f1e-4a8e-9c61-2b7f3f6c9a01';

/**
 * The one refusal for a credential id the caller cannot rely on: no such credential, or
 * one the caller may not read. Matches the whole message.
 */
export function missingCredential(id = credentialId): RegExp {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^NOT_FOUND\\[credentialId\\]: credential ${escaped} does not exist$`);
}

/** A deterministic salt for tests; the API draws real ones from a CSPRNG. */
export function testSalt(label: string): string {
  return createHash('sha256').update(`salt of ${label}`).digest('hex');
}

export const degreeClaims: readonly SaltedClaim[] = [
  { name: 'degree', value: 'MSc Machine Learning', salt: testSalt('degree') },
  { name: 'grade', value: 'distinction', salt: testSalt('grade') },
  { name: 'thesis', value: 'Robust vision transformers under label noise', salt: testSalt('thesis') },
];

const day = 24 * 3600;

/** Instant `days` after the test ledger's current time. */
export function daysAfterNow(ledger: InMemoryLedger, days: number): string {
  return new Date((ledger.nowSeconds + days * day) * 1000).toISOString();
}

export const issuerKey = (party: { mspId: string; userId: string }): string =>
  compositeKey('issuer', party.mspId, party.userId);
export const issuerVersionKey = (party: { mspId: string; userId: string }, version: number): string =>
  compositeKey('issuerVersion', party.mspId, party.userId, String(version).padStart(10, '0'));
export const credentialKey = (id = credentialId): string => compositeKey('credential', id);
export const claimsKey = (id = credentialId): string => compositeKey('credentialClaims', id);

/** Drives the credential contract the way the gateway would: one transaction per call, JSON arguments, transient claims. */
export class CredentialDriver {
  readonly contract = new CredentialContract();
  #requests = 0;

  constructor(readonly ledger: InMemoryLedger = new InMemoryLedger()) {}

  nextRequestId(): string {
    this.#requests += 1;
    return `cred-req-${String(this.#requests).padStart(6, '0')}`;
  }

  call<Result>(
    identity: TestIdentity,
    body: (contract: CredentialContract, ctx: Context) => Promise<Result>,
    transient?: Record<string, unknown>,
  ): Promise<Result> {
    return this.ledger.invoke(identity, (ctx) => body(this.contract, ctx), { transient });
  }

  registerIssuer(
    issuer: { mspId: string; userId: string },
    credentialTypes: readonly CredentialType[],
    as: TestIdentity = admin,
    extra: Record<string, unknown> = {},
  ) {
    const request = {
      requestId: this.nextRequestId(),
      issuer,
      displayName: `Issuer ${issuer.userId}`,
      credentialTypes,
      ...extra,
    };
    return this.call(as, (c, ctx) => c.registerIssuer(ctx, JSON.stringify(request)));
  }

  removeIssuer(issuer: { mspId: string; userId: string }, as: TestIdentity = admin, reason = 'Accreditation lapsed') {
    return this.call(as, (c, ctx) => c.removeIssuer(ctx, JSON.stringify({ issuer, reason })));
  }

  /** Registers the registrar (Certification, Course) and the certification body (Certification). */
  async issuers(): Promise<void> {
    await this.registerIssuer(registrarParty, ['Certification', 'Course']);
    await this.registerIssuer(certBodyParty, ['Certification']);
  }

  issueRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      requestId: this.nextRequestId(),
      credentialId,
      subject: freelancerParty,
      type: 'Certification',
      expirationDate: daysAfterNow(this.ledger, 365),
      ...overrides,
    };
  }

  issue(
    request: Record<string, unknown> = this.issueRequest(),
    claims: unknown = degreeClaims,
    as: TestIdentity = registrar,
  ) {
    return this.call(as, (c, ctx) => c.issueCredential(ctx, JSON.stringify(request)), { claims });
  }

  suspend(id = credentialId, as: TestIdentity = registrar, reason = 'Under investigation') {
    return this.call(as, (c, ctx) => c.suspendCredential(ctx, JSON.stringify({ credentialId: id, reason })));
  }

  reinstate(id = credentialId, as: TestIdentity = registrar, reason = 'Investigation closed') {
    return this.call(as, (c, ctx) => c.reinstateCredential(ctx, JSON.stringify({ credentialId: id, reason })));
  }

  revoke(id = credentialId, as: TestIdentity = registrar, reason = 'Degree rescinded') {
    return this.call(as, (c, ctx) => c.revokeCredential(ctx, JSON.stringify({ credentialId: id, reason })));
  }

  verify(presentation: Record<string, unknown>, as: TestIdentity = hr) {
    return this.call(as, (c, ctx) => c.verifyPresentation(ctx, JSON.stringify(presentation)));
  }

  /** Runs a refused transaction and checks that it left the ledger as it was, private claims included. */
  async expectRefusal(promise: () => Promise<unknown>, expected: RegExp | string, ids: string[] = [credentialId]) {
    const before = this.#snapshot(ids);
    await expect(promise()).rejects.toThrow(expected);
    expect(this.#snapshot(ids)).toEqual(before);
  }

  #snapshot(ids: string[]): unknown {
    const keys = this.ledger.keys();
    return {
      transactions: this.ledger.transactions.length,
      keys,
      values: keys.map((key) => this.ledger.read(key)),
      claims: ids.map((id) => this.ledger.readPrivate('credentialSecrets', claimsKey(id))),
    };
  }
}
