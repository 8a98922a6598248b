import { grantAuditEverywhere } from './audit-grants.js';
import { canonicalJson, type CredentialRecord, type Party, type SaltedClaim } from '@gigledger/chaincode/model';
import type { Principal } from '../auth/principal.js';
import { suiteServer } from './suite-server.js';
import type { Person, TestServer } from './test-server.js';
import type { IssuedCredential } from '../credentials/credential-service.js';
import type { Committed } from '../ledger/committed.js';

/*
 * Test support for the credential suites: people on a running test server, issuers
 * registered and credentials issued through HTTP, and a view of the in-memory ledger for
 * showing that a refused request wrote nothing.
 */

export type { Person };

export interface CredentialCast {
  /** ClientOrg's: neither the freelancers' nor the registrar's organisation. */
  readonly admin: Person;
  /** TalentOrg's, the freelancers' organisation. */
  readonly talentAdmin: Person;
  /** Active issuer of Certification and Course credentials. */
  readonly registrar: Person;
  /** Active issuer of Certification credentials only. */
  readonly certBody: Person;
  /** Holds role issuer but has no issuer record. */
  readonly rogue: Person;
  readonly freelancer: Person;
  readonly otherFreelancer: Person;
  readonly client: Person;
  readonly auditor: Person;
  /** No credential scope at all. */
  readonly evaluator: Person;
  /** An HR system's API key. */
  readonly hrKey: string;
}

/** People with distinct user ids, prefixed so that several casts can share a server. */
export async function credentialCast(server: TestServer, prefix = ''): Promise<CredentialCast> {
  const person = (userId: string, org: string, role: Principal['role']) =>
    server.person(`${prefix}${userId}`, org, role);
  const cast: CredentialCast = {
    admin: await person('cred-admin', 'ClientOrg', 'admin'),
    talentAdmin: await person('cred-talent-admin', 'TalentOrg', 'admin'),
    registrar: await person('uni-registrar', 'AuditOrg', 'issuer'),
    certBody: await person('cert-body', 'ClientOrg', 'issuer'),
    rogue: await person('rogue-issuer', 'AuditOrg', 'issuer'),
    freelancer: await person('tara', 'TalentOrg', 'freelancer'),
    otherFreelancer: await person('tom', 'TalentOrg', 'freelancer'),
    client: await person('carol', 'ClientOrg', 'client'),
    auditor: await person('audrey', 'AuditOrg', 'auditor'),
    evaluator: await person('harness', 'ClientOrg', 'evaluator'),
    hrKey: (await server.service(`${prefix}acme-hr`, 'ClientOrg', 'hr')).key,
  };
  await grantAuditEverywhere(server, cast.auditor);
  await registerIssuer(server, cast.admin, cast.registrar.party, 'TU Delft registrar', ['Certification', 'Course']);
  await registerIssuer(server, cast.admin, cast.certBody.party, 'ML certification body', ['Certification']);
  return cast;
}

/**
 * A test server with a credential cast for the enclosing `describe`: started and cast in
 * its `beforeAll`, closed in its `afterAll` (see {@link suiteServer}).
 *
 * @throws Error when either function is called before the suite's `beforeAll` has run.
 */
export function credentialSuite(): { server: () => TestServer; cast: () => CredentialCast } {
  const server = suiteServer();
  let cast: CredentialCast | undefined;
  beforeAll(async () => {
    cast = await credentialCast(server());
  });
  return {
    server,
    cast: () => {
      if (cast === undefined) throw new Error('the credential cast is made in beforeAll; ask for it inside a test');
      return cast;
    },
  };
}

/** Registers an issuer through the admin API. */
export async function registerIssuer(
  server: TestServer,
  admin: Person,
  issuer: Party,
  displayName: string,
  credentialTypes: readonly string[],
): Promise<void> {
  const response = await server.request('PUT', `/v1/admin/issuers/${issuer.mspId}/${issuer.userId}`, {
    token: admin.token,
    body: { displayName, credentialTypes },
  });
  if (response.status !== 200) throw new Error(`registering issuer failed: ${JSON.stringify(response.body)}`);
}

export const degreeClaims = [
  { name: 'degree', value: 'MSc Machine Learning' },
  { name: 'grade', value: 'distinction' },
  { name: 'thesis', value: 'Robust vision transformers under label noise' },
] as const;

/** Instant `days` after the test ledger's transaction clock. */
export function ledgerDaysFromNow(server: TestServer, days: number): string {
  return new Date((server.ledger.ledger.nowSeconds + days * 24 * 3600) * 1000).toISOString();
}

/** A credential issued through HTTP: the command's result with the envelope's ids beside it. */
export type IssuedThroughHttp = IssuedCredential & Omit<Required<Committed<IssuedCredential>>, 'result'>;

/** Issues a credential through HTTP and returns the 201 body's result and transaction. */
export async function issue(
  server: TestServer,
  issuer: Person,
  subject: Party,
  overrides: Record<string, unknown> = {},
): Promise<IssuedThroughHttp> {
  const response = await server.request('POST', '/v1/credentials', {
    token: issuer.token,
    body: { subject, type: 'Certification', claims: degreeClaims, ...overrides },
  });
  if (response.status !== 201) throw new Error(`issuing failed: ${JSON.stringify(response.body)}`);
  const { result, ...transaction } = response.body as Required<Committed<IssuedCredential>>;
  return { ...result, ...transaction };
}

/** The claim of a given name from a list of salted claims. */
export function claimNamed(claims: readonly SaltedClaim[], name: string): SaltedClaim {
  const claim = claims.find((candidate) => candidate.name === name);
  if (claim === undefined) throw new Error(`no claim ${name}`);
  return claim;
}

/** Path segment of a credential id (they contain colons). */
export const idPath = (credentialId: string): string => encodeURIComponent(credentialId);

/** What the ledger holds, to show that a refused request wrote nothing. */
export function ledgerState(server: TestServer): { writes: number; keys: string[]; values: string } {
  const ledger = server.ledger.ledger;
  const keys = ledger.keys();
  return {
    writes: ledger.transactions.filter((transaction) => transaction.writes.length > 0).length,
    keys,
    values: canonicalJson(keys.map((key) => ledger.read(key))),
  };
}

/**
 * Writes a credential record straight to state, as no issue transaction could, the way
 * the chaincode's own tests forge records: under the key its store uses.
 */
export async function forgeCredential(server: TestServer, record: CredentialRecord): Promise<void> {
  await server.ledger.ledger.invoke({ mspId: 'ClientOrgMSP', name: 'forger' }, async (ctx) => {
    await ctx.stub.putState(
      ctx.stub.createCompositeKey('credential', [record.credentialId]),
      new TextEncoder().encode(canonicalJson(record)),
    );
  });
}
