import { credentialOrganisationReaderRoles, credentialReaderRoles } from '../../model/access-roles';
import type { Context } from 'fabric-contract-api';
import { z } from 'zod';
import type { Party } from '../../model/party';
import {
  credentialRecordSchema,
  credentialSecretsCollection,
  credentialSecretsSchema,
  issuerRecordSchema,
  issuerVersionRecordSchema,
  type CredentialRecord,
  type CredentialSecrets,
  type CredentialType,
  type IssuerRecord,
  type IssuerVersionRecord,
} from '../../model/credential-records';
import type { Caller } from '../../model/identity';
import { refuse } from '../../ledger/refusal';
import {
  decodeRecord,
  encodeRecord,
  readByPartialKey,
  readPageByPartialKey,
  readRecord,
  writeRecord,
} from '../../ledger/state';
import type { PageRequest } from '../../model/page';
import { isParty } from '../../ledger/caller';
import type { AuditedRecord } from '../../model/audit';
import { auditGrantAllows, refuseMissingRecord, requireAuditGrant } from '../audit/scope';
import { recordObjectTypes } from '../../model/record-keys';

/*
 * Key layout of the credential contract. Credential keys belong to one credential; the
 * index entries are written once, when the credential is issued, and never updated, so
 * issuing and changing the status of different credentials never touch the same key.
 *
 *   issuer                  [mspId, userId]                         current issuer record
 *   issuerVersion           [mspId, userId, version (10 digits)]    one immutable version of the grant
 *   credential              [credentialId]                          the credential: commitments, status
 *   credentialBySubject     [mspId, userId, credentialId]           index: credentials by holder
 *   credentialBySubjectType [mspId, userId, type, credentialId]     index: credentials by holder and type
 *   credentialByIssuer      [mspId, userId, type, credentialId]     index: credentials by issuer and type
 *   credentialClaims        [credentialId]                          claims and salts, in the credentialSecrets collection
 *
 * `credentialBySubjectType` lets a command that needs one type of a holder's credentials
 * (the payout compliance check) range over that type alone, so that issuing the holder a
 * credential of another type does not invalidate it as a phantom read. Credentials
 * issued before it existed have no entry there: see {@link readCredentialsOfSubjectOfTypes}.
 */
const issuerObjectType = 'issuer';
const issuerVersionObjectType = 'issuerVersion';
const credentialObjectType = recordObjectTypes.credential;
const subjectIndexObjectType = 'credentialBySubject';
const subjectTypeIndexObjectType = 'credentialBySubjectType';
const issuerIndexObjectType = 'credentialByIssuer';
const claimsObjectType = 'credentialClaims';

/** Zero-padded so that versions sort numerically in key order. */
const versionAttribute = (version: number): string => String(version).padStart(10, '0');

export function issuerKey(ctx: Context, issuer: Party): string {
  return ctx.stub.createCompositeKey(issuerObjectType, [issuer.mspId, issuer.userId]);
}

export function issuerVersionKey(ctx: Context, issuer: Party, version: number): string {
  return ctx.stub.createCompositeKey(issuerVersionObjectType, [issuer.mspId, issuer.userId, versionAttribute(version)]);
}

export function credentialKey(ctx: Context, credentialId: string): string {
  return ctx.stub.createCompositeKey(credentialObjectType, [credentialId]);
}

function claimsKey(ctx: Context, credentialId: string): string {
  return ctx.stub.createCompositeKey(claimsObjectType, [credentialId]);
}

export function sameParty(a: Party, b: Party): boolean {
  return a.mspId === b.mspId && a.userId === b.userId;
}

export function describeParty(party: Party): string {
  return `${party.mspId} user ${party.userId}`;
}

export async function readIssuer(ctx: Context, issuer: Party): Promise<IssuerRecord | undefined> {
  return readRecord(ctx, issuerRecordSchema, issuerKey(ctx, issuer));
}

export async function readIssuerVersion(
  ctx: Context,
  issuer: Party,
  version: number,
): Promise<IssuerVersionRecord | undefined> {
  return readRecord(ctx, issuerVersionRecordSchema, issuerVersionKey(ctx, issuer, version));
}

/** Writes the current issuer record and its new immutable version. */
export async function writeIssuer(ctx: Context, record: IssuerRecord, version: IssuerVersionRecord): Promise<void> {
  await writeRecord(ctx, issuerKey(ctx, record.issuer), record);
  await writeRecord(ctx, issuerVersionKey(ctx, version.issuer, version.version), version);
}

export async function readIssuerVersions(ctx: Context, issuer: Party): Promise<IssuerVersionRecord[]> {
  const records = await readByPartialKey(ctx, issuerVersionRecordSchema, issuerVersionObjectType, [
    issuer.mspId,
    issuer.userId,
  ]);
  return records.map((record) => record.value);
}

export async function readIssuers(ctx: Context): Promise<IssuerRecord[]> {
  return (await readByPartialKey(ctx, issuerRecordSchema, issuerObjectType, [])).map((record) => record.value);
}

export async function readCredential(ctx: Context, credentialId: string): Promise<CredentialRecord | undefined> {
  return readRecord(ctx, credentialRecordSchema, credentialKey(ctx, credentialId));
}

/**
 * Refuses exactly as for a credential id that names no record, so that a refusal never
 * tells someone who may not read a credential that it exists, or anything in it.
 *
 * @throws RefusalError NOT_FOUND, always.
 */
export function refuseCredentialAsMissing(credentialId: string): never {
  refuse('NOT_FOUND', `credential ${credentialId} does not exist`, 'credentialId');
}

/**
 * @throws RefusalError NOT_FOUND when no credential has the id.
 */
export async function requireCredential(ctx: Context, credentialId: string): Promise<CredentialRecord> {
  const credential = await readCredential(ctx, credentialId);
  if (credential === undefined) refuseCredentialAsMissing(credentialId);
  return credential;
}

/**
 * Whether the caller may read the credential's channel record: its subject, its issuer,
 * hr, auditor, or an admin of the subject's or the issuer's organisation.
 */
export function canReadCredential(caller: Caller, credential: CredentialRecord): boolean {
  if (isParty(caller, credential.subject) || isParty(caller, credential.issuer)) return true;
  if (caller.role === undefined) return false;
  if (credentialOrganisationReaderRoles.includes(caller.role)) {
    return credential.subject.mspId === caller.mspId || credential.issuer.mspId === caller.mspId;
  }
  return credentialReaderRoles.includes(caller.role);
}

/**
 * @throws RefusalError NOT_FOUND, worded as for a missing credential, unless the caller may read it.
 */
export function requireVisibleCredential(caller: Caller, credential: CredentialRecord): void {
  if (!canReadCredential(caller, credential)) refuseCredentialAsMissing(credential.credentialId);
}

/** The credential as an audit grant sees it: it concerns its subject's and its issuer's organisations, dated at issue. */
export function auditedCredential(credential: CredentialRecord): AuditedRecord {
  return {
    kind: 'credential',
    organisations: [...new Set([credential.subject.mspId, credential.issuer.mspId])],
    at: credential.issuedAt,
  };
}

/** Whether an auditor's grants let them read the credential (always true for other roles); lists drop the rest. */
export function auditGrantCoversCredential(
  ctx: Context,
  caller: Caller,
  credential: CredentialRecord,
): Promise<boolean> {
  return auditGrantAllows(ctx, caller, auditedCredential(credential), [credential.subject, credential.issuer]);
}

/**
 * {@link requireVisibleCredential}, and for an auditor a live grant from the subject's or
 * the issuer's organisation naming credentials and a time range holding the issue.
 *
 * @throws RefusalError NOT_FOUND as there, and as for a missing credential when an auditor's grants do not cover it.
 */
export async function requireReadableCredential(
  ctx: Context,
  caller: Caller,
  credential: CredentialRecord,
): Promise<void> {
  requireVisibleCredential(caller, credential);
  await requireAuditGrant(ctx, caller, auditedCredential(credential), [credential.subject, credential.issuer], () =>
    refuseCredentialAsMissing(credential.credentialId),
  );
}

/**
 * The credential with the id, for a caller who may read it ({@link requireReadableCredential}).
 *
 * @throws RefusalError NOT_FOUND, one answer whether no credential has the id or the caller
 *   may not read it, and after the same reads of the caller's audit grants.
 */
export async function requireReadableCredentialById(
  ctx: Context,
  caller: Caller,
  credentialId: string,
): Promise<CredentialRecord> {
  const credential = await readCredential(ctx, credentialId);
  if (credential === undefined) {
    return refuseMissingRecord(ctx, caller, () => refuseCredentialAsMissing(credentialId));
  }
  await requireReadableCredential(ctx, caller, credential);
  return credential;
}

export async function credentialExists(ctx: Context, credentialId: string): Promise<boolean> {
  return (await ctx.stub.getState(credentialKey(ctx, credentialId))).length > 0;
}

export async function writeCredential(ctx: Context, credential: CredentialRecord): Promise<void> {
  await writeRecord(ctx, credentialKey(ctx, credential.credentialId), credential);
}

const indexEntrySchema = z.object({ credentialId: z.string() });

/** Writes the three index entries of a new credential. The value is never empty: Fabric treats that as a delete. */
export async function indexCredential(ctx: Context, credential: CredentialRecord): Promise<void> {
  const { credentialId, type, subject, issuer } = credential;
  const entry = { credentialId };
  const indexKeys: [string, string[]][] = [
    [subjectIndexObjectType, [subject.mspId, subject.userId, credentialId]],
    [subjectTypeIndexObjectType, [subject.mspId, subject.userId, type, credentialId]],
    [issuerIndexObjectType, [issuer.mspId, issuer.userId, type, credentialId]],
  ];
  for (const [objectType, attributes] of indexKeys) {
    await writeRecord(ctx, ctx.stub.createCompositeKey(objectType, attributes), entry);
  }
}

async function readIndexed(ctx: Context, objectType: string, attributes: string[]): Promise<CredentialRecord[]> {
  const entries = await readByPartialKey(ctx, indexEntrySchema, objectType, attributes);
  const credentials: CredentialRecord[] = [];
  for (const entry of entries) {
    const credential = await readCredential(ctx, entry.value.credentialId);
    if (credential === undefined) throw new Error(`index entry ${entry.key} names missing credential`);
    credentials.push(credential);
  }
  return credentials;
}

/** One page of the credentials an index names under `attributes`, and the bookmark of the next. */
async function readIndexedPage(
  ctx: Context,
  objectType: string,
  attributes: string[],
  page: PageRequest,
): Promise<{ credentials: CredentialRecord[]; bookmark: string }> {
  const { records, bookmark } = await readPageByPartialKey(ctx, indexEntrySchema, objectType, attributes, page);
  const credentials: CredentialRecord[] = [];
  for (const entry of records) {
    const credential = await readCredential(ctx, entry.value.credentialId);
    if (credential === undefined) throw new Error(`index entry ${entry.key} names missing credential`);
    credentials.push(credential);
  }
  return { credentials, bookmark };
}

/**
 * One page of the credentials `subject` holds, in credential id order (for a list
 * answered to a caller; an evaluation only, as every paged read).
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export function readCredentialsOfSubjectPage(
  ctx: Context,
  subject: Party,
  page: PageRequest,
): Promise<{ credentials: CredentialRecord[]; bookmark: string }> {
  return readIndexedPage(ctx, subjectIndexObjectType, [subject.mspId, subject.userId], page);
}

/**
 * One page of the credentials `issuer` issued, of one type or of every type.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it is not one of this list's.
 */
export function readCredentialsOfIssuerPage(
  ctx: Context,
  issuer: Party,
  type: CredentialType | undefined,
  page: PageRequest,
): Promise<{ credentials: CredentialRecord[]; bookmark: string }> {
  const attributes = type === undefined ? [issuer.mspId, issuer.userId] : [issuer.mspId, issuer.userId, type];
  return readIndexedPage(ctx, issuerIndexObjectType, attributes, page);
}

/**
 * Credentials held by `subject`, in credential id order. The range read covers only
 * this subject's own index entries, which only issuance to this subject inserts.
 */
export async function readCredentialsOfSubject(ctx: Context, subject: Party): Promise<CredentialRecord[]> {
  return readIndexed(ctx, subjectIndexObjectType, [subject.mspId, subject.userId]);
}

/**
 * The credentials of `types` held by `subject`, type by type in the order given, each in
 * credential id order. Each type is one range over the holder's own entries of that
 * type only, so issuing the holder a credential of any other type cannot conflict with
 * the reading transaction (as it would through `credentialBySubject`).
 *
 * Credentials issued before the `credentialBySubjectType` index existed are not listed
 * (see {@link readOlderCredentialsOfSubject}).
 */
export async function readCredentialsOfSubjectByType(
  ctx: Context,
  subject: Party,
  types: readonly CredentialType[],
): Promise<CredentialRecord[]> {
  const credentials: CredentialRecord[] = [];
  for (const type of new Set(types)) {
    credentials.push(...(await readIndexed(ctx, subjectTypeIndexObjectType, [subject.mspId, subject.userId, type])));
  }
  return credentials;
}

/**
 * The credentials of `types` held by `subject` that {@link readCredentialsOfSubjectByType}
 * does not list: those issued by a chaincode version without the
 * `credentialBySubjectType` index, which a ledger upgraded from it still holds (chaincode
 * upgrades keep the world state). Reads the holder's whole `credentialBySubject` range,
 * so a caller should need it only when the typed entries did not settle its question.
 */
export async function readOlderCredentialsOfSubject(
  ctx: Context,
  subject: Party,
  types: readonly CredentialType[],
): Promise<CredentialRecord[]> {
  const older: CredentialRecord[] = [];
  for (const credential of await readCredentialsOfSubject(ctx, subject)) {
    if (!types.includes(credential.type)) continue;
    const typedKey = ctx.stub.createCompositeKey(subjectTypeIndexObjectType, [
      subject.mspId,
      subject.userId,
      credential.type,
      credential.credentialId,
    ]);
    if ((await ctx.stub.getState(typedKey)).length === 0) older.push(credential);
  }
  return older;
}

export async function writeSecrets(ctx: Context, secrets: CredentialSecrets): Promise<void> {
  await ctx.stub.putPrivateData(
    credentialSecretsCollection,
    claimsKey(ctx, secrets.credentialId),
    encodeRecord(secrets),
  );
}

/** The claims and salts from this peer's copy of the collection; undefined when it holds none. */
export async function readSecrets(ctx: Context, credentialId: string): Promise<CredentialSecrets | undefined> {
  const bytes = await ctx.stub.getPrivateData(credentialSecretsCollection, claimsKey(ctx, credentialId));
  return bytes.length === 0 ? undefined : decodeRecord(credentialSecretsSchema, bytes);
}
