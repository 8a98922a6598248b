import 'reflect-metadata';
import { CredentialContract } from './credential-contract';
import { credentialTransactions } from '../model/credential';
import { credentialEvents } from '../model/credential-events';
import type { IssuerRecord, IssuerVersionRecord } from '../model/credential-records';
import { admin, client, freelancer, freelancerParty } from '../test-support/agreement-fixtures';
import {
  CredentialDriver,
  anonymous,
  certBodyParty,
  hr,
  issuerKey,
  issuerVersionKey,
  registrar,
  registrarParty,
} from '../test-support/credential-fixtures';

describe('CredentialContract: spec', () => {
  it('exposes exactly the transactions of the model spec, each submitted or evaluated as specified', () => {
    const decorated = Reflect.getMetadata('fabric:transactions', CredentialContract.prototype) as {
      name: string;
      tag: string[];
    }[];
    const kinds = Object.fromEntries(
      decorated.map((tx) => [tx.name, tx.tag.includes('SUBMIT') ? 'submit' : 'evaluate']),
    );
    const specified = Object.fromEntries(
      Object.entries(credentialTransactions).map(([key, spec]) => {
        expect(spec.name).toBe(key);
        expect(spec.contract).toBe(new CredentialContract().getName());
        return [spec.name, spec.kind];
      }),
    );
    expect(kinds).toEqual(specified);
  });
});

describe('CredentialContract: issuer records', () => {
  let driver: CredentialDriver;

  beforeEach(() => {
    driver = new CredentialDriver();
  });

  it('lets an admin register an issuer with a grant, writing version 1 and emitting IssuerRegistered', async () => {
    const record = await driver.registerIssuer(registrarParty, ['Course', 'Certification']);
    const tx = driver.ledger.transactions.at(-1)!;

    expect(record).toEqual({
      issuer: registrarParty,
      displayName: 'Issuer uni-registrar',
      credentialTypes: ['Certification', 'Course'],
      status: 'active',
      version: 1,
      registeredAt: record.updatedAt,
      registeredTxId: tx.txId,
      updatedAt: new Date(tx.timestampSeconds * 1000).toISOString(),
      updatedTxId: tx.txId,
      provenance: {
        source: 'genesis',
        by: { mspId: 'ClientOrgMSP', userId: 'ops', role: 'admin' },
        at: record.updatedAt,
        txId: tx.txId,
      },
    } satisfies IssuerRecord);
    expect(driver.ledger.read(issuerKey(registrarParty))).toEqual(record);
    const version: IssuerVersionRecord = {
      issuer: registrarParty,
      version: 1,
      status: 'active',
      displayName: 'Issuer uni-registrar',
      credentialTypes: ['Certification', 'Course'],
      by: { mspId: 'ClientOrgMSP', userId: 'ops', role: 'admin' },
      at: record.updatedAt,
      txId: tx.txId,
      provenance: record.provenance,
    };
    expect(driver.ledger.read(issuerVersionKey(registrarParty, 1))).toEqual(version);
    expect(driver.ledger.lastEvent!.name).toBe('credential.IssuerRegistered');
    expect(credentialEvents.issuerRegistered.payload.parse(driver.ledger.lastEvent!.payload)).toEqual({
      at: record.updatedAt,
      txId: tx.txId,
      actor: { mspId: 'ClientOrgMSP', userId: 'ops', role: 'admin' },
      issuer: record,
      version,
    });
  });

  it('changes a grant as a new version and keeps every earlier version readable', async () => {
    const first = await driver.registerIssuer(registrarParty, ['Course']);
    driver.ledger.advanceSeconds(3600);
    const second = await driver.registerIssuer(registrarParty, ['Course', 'Employment']);

    expect(second).toMatchObject({ version: 2, credentialTypes: ['Course', 'Employment'], status: 'active' });
    expect(second.registeredAt).toBe(first.registeredAt);
    expect(second.registeredTxId).toBe(first.registeredTxId);
    const details = await driver.call(hr, (c, ctx) => c.getIssuer(ctx, JSON.stringify(registrarParty)));
    expect(details.issuer).toEqual(second);
    expect(details.versions.map((version) => [version.version, version.credentialTypes, version.txId])).toEqual([
      [1, ['Course'], first.updatedTxId],
      [2, ['Course', 'Employment'], second.updatedTxId],
    ]);
  });

  it('refuses to register an active issuer again with the same name and grant, writing nothing', async () => {
    await driver.registerIssuer(registrarParty, ['Course']);
    await driver.expectRefusal(
      () => driver.registerIssuer(registrarParty, ['Course']),
      /^ALREADY_EXISTS\[issuer\]: issuer AuditOrgMSP user uni-registrar is already active with exactly this name and grant \(version 1\)$/,
    );
  });

  it('returns the stored result when a request id is repeated, writing nothing the second time', async () => {
    const request = {
      requestId: 'issuer-0001',
      issuer: registrarParty,
      displayName: 'TU Example',
      credentialTypes: ['Course'],
    };
    const first = await driver.call(admin, (c, ctx) => c.registerIssuer(ctx, JSON.stringify(request)));
    const second = await driver.call(admin, (c, ctx) => c.registerIssuer(ctx, JSON.stringify(request)));

    expect(second).toEqual(first);
    expect(driver.ledger.transactions.at(-1)!.writes).toEqual([]);
    expect(driver.ledger.transactions.at(-1)!.event).toEqual({
      name: 'request.Replayed',
      payload: { txId: driver.ledger.transactions.at(-2)!.txId },
    });
  });

  it.each([
    ['a client', client],
    ['an issuer', registrar],
    ['a freelancer', freelancer],
    ['an identity without role', anonymous],
  ])('refuses %s managing issuer records, before reading any state', async (_, identity) => {
    await driver.registerIssuer(registrarParty, ['Course']);
    await driver.expectRefusal(
      () => driver.registerIssuer(certBodyParty, ['Course'], identity),
      /^FORBIDDEN: only admin may register issuers; the caller has (role \w+|no role)$/,
    );
    await driver.expectRefusal(
      () => driver.removeIssuer(registrarParty, identity),
      /^FORBIDDEN: only admin may remove issuers; the caller has (role \w+|no role)$/,
    );
    // The role is checked before any state is read: an unknown issuer is FORBIDDEN, not NOT_FOUND.
    await driver.expectRefusal(() => driver.removeIssuer(certBodyParty, identity), /^FORBIDDEN: /);
  });

  it.each([
    [{ credentialTypes: [] }, 'credentialTypes', 'must grant at least one credential type'],
    [{ credentialTypes: ['Course', 'Course'] }, 'credentialTypes.1', 'repeats Course'],
    [{ credentialTypes: ['Diploma'] }, 'credentialTypes.0', ''],
    [{ displayName: '   ' }, 'displayName', 'must not be blank'],
    [{ issuer: { mspId: 'AuditOrgMSP', userId: 'Bad User' } }, 'issuer.userId', ''],
    [{ requestId: 'short' }, 'requestId', 'must be at least 8 characters'],
    [{ unexpected: true }, 'request', ''],
  ])('refuses an invalid registration %j, naming the field', async (extra, field, message) => {
    await driver.expectRefusal(
      () => driver.registerIssuer(registrarParty, ['Course'], admin, extra),
      new RegExp(
        `^VALIDATION_FAILED\\[${field.replaceAll('.', '\\.')}\\]: ${field.replaceAll('.', '\\.')}: .*${message}`,
      ),
    );
  });

  it('removes an issuer as a new version with the reason, and emits IssuerRemoved', async () => {
    await driver.registerIssuer(registrarParty, ['Course']);
    const removed = await driver.removeIssuer(registrarParty, admin, 'Accreditation withdrawn');

    expect(removed).toMatchObject({
      status: 'removed',
      version: 2,
      credentialTypes: ['Course'],
      removal: { reason: 'Accreditation withdrawn', txId: removed.updatedTxId },
    });
    expect(driver.ledger.read(issuerVersionKey(registrarParty, 2))).toMatchObject({
      status: 'removed',
      reason: 'Accreditation withdrawn',
      version: 2,
    });
    expect(driver.ledger.lastEvent!.name).toBe('credential.IssuerRemoved');
    expect(credentialEvents.issuerRemoved.payload.parse(driver.ledger.lastEvent!.payload).issuer).toEqual(removed);
  });

  it('refuses removing an unknown or already removed issuer', async () => {
    await driver.expectRefusal(
      () => driver.removeIssuer(registrarParty),
      'NOT_FOUND[issuer]: AuditOrgMSP user uni-registrar has no issuer record',
    );
    await driver.registerIssuer(registrarParty, ['Course']);
    await driver.removeIssuer(registrarParty);
    await driver.expectRefusal(
      () => driver.removeIssuer(registrarParty),
      /^INVALID_STATE\[issuer\]: issuer AuditOrgMSP user uni-registrar was already removed at /,
    );
  });

  it('re-registers a removed issuer as a new active version without the removal', async () => {
    await driver.registerIssuer(registrarParty, ['Course']);
    await driver.removeIssuer(registrarParty);
    const again = await driver.registerIssuer(registrarParty, ['Course']);

    expect(again.status).toBe('active');
    expect(again.version).toBe(3);
    expect(again.removal).toBeUndefined();
  });

  it('lists issuers by status and by a type they may issue, to any caller', async () => {
    await driver.registerIssuer(registrarParty, ['Course', 'Certification']);
    await driver.registerIssuer(certBodyParty, ['Certification']);
    await driver.registerIssuer(freelancerParty, ['Employment']);
    await driver.removeIssuer(freelancerParty);

    const list = (request: Record<string, unknown>) =>
      driver.call(anonymous, (c, ctx) => c.listIssuers(ctx, JSON.stringify(request)));
    const names = (records: IssuerRecord[]) => records.map((record) => record.issuer.userId);

    expect(names(await list({}))).toEqual(['uni-registrar', 'cert-body', 'tara']);
    expect(names(await list({ status: 'active' }))).toEqual(['uni-registrar', 'cert-body']);
    expect(names(await list({ credentialType: 'Certification' }))).toEqual(['uni-registrar', 'cert-body']);
    expect(names(await list({ status: 'removed' }))).toEqual(['tara']);
    expect(names(await list({ credentialType: 'KYC' }))).toEqual([]);
  });

  it('reports an identity that was never an issuer', async () => {
    await expect(driver.call(hr, (c, ctx) => c.getIssuer(ctx, JSON.stringify(registrarParty)))).rejects.toThrow(
      'NOT_FOUND[userId]: AuditOrgMSP user uni-registrar has no issuer record',
    );
  });
});
