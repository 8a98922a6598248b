import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { sql, type SqlBool } from 'kysely';
import {
  defaultPageSize,
  maxPageSize,
  roleSchema,
  trimmedText,
  userIdSchema,
  type Role,
} from '@gigledger/chaincode/model';
import type { Db } from '../db/database.js';
import { ApiError, conflict, invalidInput, notFound, notMember, unauthenticated } from '../errors/api-error.js';
import { IdentityTakenError, type IdentityIssuer } from '../identity/identity-issuer.js';
import type { Wallet } from '../identity/wallet.js';
import type { OrganisationMembership } from './channel-membership.js';
import { CredentialThrottle, type CredentialThrottleOptions } from './credential-throttle.js';
import { hashPassword, verifyPassword } from './passwords.js';
import {
  isServiceUserId,
  legacyServiceIdentityLabel,
  personIdentityLabel,
  scopesByRole,
  scopeSchema,
  serviceIdentityLabel,
  serviceUserId,
  reservedServiceNames,
  serviceUserIdPrefix,
  standingCheck,
  type Principal,
  type Scope,
} from './principal.js';

/**
 * Whether a user id is one the server or the network gives its own identities: the first
 * organisation's bootstrap administrator (`admin`), every other's (`admin-<organisation>`,
 * or `admin-<organisation>-<n>` when taken), each organisation's network operator
 * (`operator-<organisation>`), the CA's `registrar`, and the server's own services
 * (`settlement-service`, …: {@link reservedServiceNames}). User ids are global across
 * organisations, so one organisation's administrator naming a person so would take the
 * name of another organisation's administrator or operator, perhaps of one not yet added.
 */
export function isReservedPersonUserId(userId: string): boolean {
  return (
    /^(admin|operator|registrar)$/.test(userId) ||
    /^(admin|operator)-/.test(userId) ||
    reservedServiceNames.includes(userId)
  );
}

/** Why a user id {@link isReservedPersonUserId} is refused, over the API and to any other caller alike. */
const reservedUserIdReason =
  'must not be "admin", "operator", "registrar" or the name of one of the server\'s services, nor start with "admin-" or "operator-": those name the organisations\' administrators, operators and services';

/** A person's user id: never in the namespace of service identities, nor a name reserved for administrators and operators. */
export const personUserIdSchema = userIdSchema
  .refine((userId) => !isServiceUserId(userId), `must not start with "${serviceUserIdPrefix}", which names services`)
  .refine((userId) => !isReservedPersonUserId(userId), reservedUserIdReason);

/** An organisation of the network as the API names it (`ClientOrg`: its MSP id without `MSP`). */
const organisationNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9.-]+$/, 'must be an organisation name (letters, digits, "." or "-")');

export const createPersonSchema = z.strictObject({
  userId: personUserIdSchema,
  org: organisationNameSchema,
  role: roleSchema,
  displayName: trimmedText(200).optional(),
  password: z.string().min(12, 'must be at least 12 characters').max(200).optional(),
});
export type CreatePerson = z.infer<typeof createPersonSchema>;

/**
 * What a password sign-in sends, over REST (`POST /v1/auth/token`) and GraphQL
 * (`createToken`) alike: a user id of the ledger's form and a password as stored (200
 * characters at most), so both refuse the same malformed input with 422 naming the field.
 */
export const passwordCredentialsSchema = z.strictObject({
  userId: userIdSchema,
  password: z.string().min(1).max(200),
});

export const createApiKeySchema = z.strictObject({
  /** The key's Fabric identity carries the user id `svc.<name>`. */
  name: userIdSchema,
  org: organisationNameSchema,
  role: roleSchema,
  /** Defaults to every scope of the role; may only narrow them. */
  scopes: z.array(scopeSchema).min(1).optional(),
});
export type CreateApiKey = z.infer<typeof createApiKeySchema>;

export const personViewSchema = z.object({
  userId: z.string(),
  org: z.string(),
  mspId: z.string(),
  role: roleSchema,
  displayName: z.string().nullable(),
  source: z.enum(['local', 'oidc']),
});
export type PersonView = z.infer<typeof personViewSchema>;

export const apiKeyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  org: z.string(),
  role: roleSchema,
  scopes: z.array(scopeSchema),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  /** To the minute. */
  lastUsedAt: z.string().nullable(),
});
export type ApiKeyView = z.infer<typeof apiKeyViewSchema>;

const lastUsedResolutionMs = 60_000;

const keyPattern = /^glk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

/** The bootstrap administrators and their passwords, as written to `bootstrap-admin.json`. */
interface BootstrapFile {
  /** The first organisation's administrator, `admin`. */
  userId?: string;
  password?: string;
  /** Every organisation's bootstrap administrator, by organisation name. */
  admins?: Record<string, { userId: string; password: string }>;
}

/**
 * The bookmark of a page of one of the administrator's lists: the list (its name and the
 * organisation) and the key values of the page's first row. Callers get it sealed (see
 * http/ledger-pages.ts), so they cannot alter it; naming the list keeps a bookmark of
 * one list, or of another organisation's, from paging another.
 */
function listBookmark(list: readonly [string, string], values: readonly string[]): string {
  return JSON.stringify([...list, ...values]);
}

/** Which page of an administrator's list to read: as many rows (default {@link defaultPageSize}), from the bookmark. */
interface ListPageRequest {
  readonly pageSize?: number;
  readonly bookmark?: string;
}

/**
 * A page from `rows`, read with one row more than `size`: the first `size` as items, and
 * the bookmark of the row after them ('' when there is none: the last page).
 */
function pageOfRows<Row, Item>(
  rows: readonly Row[],
  size: number,
  item: (row: Row) => Item,
  bookmarkOf: (next: Row) => string,
): { items: Item[]; bookmark: string } {
  const next = rows[size];
  return { items: rows.slice(0, size).map(item), bookmark: next === undefined ? '' : bookmarkOf(next) };
}

/**
 * The key values a bookmark of `list` carries.
 *
 * @throws ApiError 422 naming `bookmark` when it is a bookmark of another list.
 */
function listBookmarkValues(bookmark: string, list: readonly [string, string], count: number): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bookmark);
  } catch {
    parsed = undefined;
  }
  const values = z.array(z.string()).safeParse(parsed);
  if (
    !values.success ||
    values.data.length !== list.length + count ||
    values.data[0] !== list[0] ||
    values.data[1] !== list[1]
  ) {
    throw invalidInput('bookmark', 'is not a cursor of this list; start again without it');
  }
  return values.data.slice(list.length);
}

/**
 * People and service accounts, each bound to a Fabric identity enrolled from its
 * organisation's CA with the GigLedger attributes and kept in the wallet.
 *
 * People and services never share a user id on the ledger: a service identity's
 * `userId` attribute is `svc.<key name>`, a prefix no person may have, so an API key
 * cannot act as a person whatever it is called.
 */
export class AccountService {
  readonly #db: Db;
  readonly #wallet: Wallet;
  readonly #issuer: IdentityIssuer;
  readonly #membership: OrganisationMembership | undefined;
  /** Failed credentials per client address and per account, shared with the HTTP layer. */
  readonly throttle: CredentialThrottle;
  /** A hash no password matches, so that checking an unknown user costs what checking a known one does. */
  #dummyHash: Promise<string> | undefined;

  constructor(
    db: Db,
    wallet: Wallet,
    issuer: IdentityIssuer,
    options: {
      readonly credentialThrottle?: CredentialThrottleOptions;
      /** The channel's current members; without it every organisation of the connection profile counts as one. */
      readonly membership?: OrganisationMembership;
    } = {},
  ) {
    this.#db = db;
    this.#wallet = wallet;
    this.#issuer = issuer;
    this.#membership = options.membership;
    this.throttle = new CredentialThrottle(options.credentialThrottle);
  }

  /**
   * Registers and enrolls a person in their organisation's CA and records them.
   * Administrators may only do this for their own organisation; callers check that.
   *
   * @throws ApiError 422 for an unknown organisation, a user id in the service namespace, or
   *   one reserved for administrators and operators (see {@link isReservedPersonUserId})
   *   unless `ownRegistrationsOnly` is false;
   *   409 USER_EXISTS when the userId is taken by a person, an API key's name, or an identity
   *   of the organisation's CA this server did not register (its registrar, the network's operators),
   *   unless `ownRegistrationsOnly` is false (the server's own bootstrap administrators).
   */
  async createPerson(
    request: CreatePerson,
    source: 'local' | 'oidc' = 'local',
    options: { readonly ownRegistrationsOnly?: boolean } = {},
  ): Promise<PersonView> {
    const mspId = this.#mspIdOf(request.org);
    if (isServiceUserId(request.userId)) {
      throw invalidInput('userId', `must not start with "${serviceUserIdPrefix}", which names services`);
    }
    if (options.ownRegistrationsOnly !== false && isReservedPersonUserId(request.userId)) {
      throw invalidInput('userId', reservedUserIdReason);
    }
    const existing = await this.#db
      .selectFrom('users')
      .select('user_id')
      .where('user_id', '=', request.userId)
      .executeTakeFirst();
    const keyNamed = await this.#db
      .selectFrom('api_keys')
      .select('id')
      .where('name', '=', request.userId)
      .executeTakeFirst();
    if (existing !== undefined || keyNamed !== undefined) {
      throw conflict('USER_EXISTS', `user ${request.userId} already exists`, 'userId');
    }
    const passwordHash = request.password === undefined ? null : await hashPassword(request.password);
    // The user id is claimed before the CA is asked, so that of two requests for one id at
    // once (two organisations' admins, two workers) one creates it and the other is refused,
    // rather than both registering and one wallet entry keeping the other's identity. Not
    // usable (disabled) until its identity is in the wallet.
    const claimed = await this.#db
      .insertInto('users')
      .values({
        user_id: request.userId,
        org: request.org,
        role: request.role,
        display_name: request.displayName ?? null,
        password_hash: passwordHash,
        source,
        disabled: 1,
        created_at: new Date().toISOString(),
      })
      .onConflict((conflicting) => conflicting.column('user_id').doNothing())
      .executeTakeFirst();
    if (claimed.numInsertedOrUpdatedRows === 0n)
      throw conflict('USER_EXISTS', `user ${request.userId} already exists`, 'userId');
    try {
      const identity = await this.#issuer.issue({
        org: request.org,
        enrollmentId: request.userId,
        role: request.role,
        userId: request.userId,
        ownRegistrationsOnly: options.ownRegistrationsOnly ?? true,
      });
      await this.#wallet.put({ ...identity, label: personIdentityLabel(request.userId), enrollmentId: request.userId });
    } catch (error) {
      await this.#db.deleteFrom('users').where('user_id', '=', request.userId).execute();
      // The CA's registrar, the network's operators, a service identity: names a person must not take over.
      if (error instanceof IdentityTakenError)
        throw conflict(
          'USER_EXISTS',
          `user ${request.userId} is taken: the organisation's certificate authority holds an identity of that name`,
          'userId',
        );
      throw error;
    }
    await this.#db.updateTable('users').set({ disabled: 0 }).where('user_id', '=', request.userId).execute();
    return {
      userId: request.userId,
      org: request.org,
      mspId,
      role: request.role,
      displayName: request.displayName ?? null,
      source,
    };
  }

  /**
   * Checks a password. Failures count against the user id and the client address of the
   * request being served (see {@link CredentialThrottle.runFor}); an unknown user id costs
   * one password hash like a known one, so the answer's timing does not tell them apart.
   *
   * @throws CredentialsThrottledError 429 when the address, the user id from this address, or the user id
   *   from all addresses failed too often lately (see {@link CredentialThrottle});
   *   ApiError 401 for an unknown user, a wrong password or a disabled account, without saying which;
   *   ApiError 403 ORGANISATION_NOT_MEMBER, after a right password only, when the person's
   *   organisation is no longer a member of the channel.
   */
  async checkPassword(userId: string, password: string): Promise<Principal> {
    const subject = { address: this.throttle.currentAddress(), account: userId };
    const endAttempt = await this.throttle.beginAttempt(subject);
    let row: { user_id: string; org: string; role: string };
    let failed = true;
    try {
      const found = await this.#db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
      const matches = await verifyPassword(password, found?.password_hash ?? (await this.#passwordlessHash()));
      if (found === undefined || found.password_hash === null || !matches || found.disabled !== 0) {
        await this.throttle.recordFailure(subject);
        throw unauthenticated('wrong user id or password');
      }
      await this.throttle.recordSuccess(subject);
      failed = false;
      row = found;
    } finally {
      endAttempt(failed);
    }
    const principal = this.#personPrincipal(row.user_id, row.org, roleSchema.parse(row.role));
    await this.#assertMember(principal);
    return principal;
  }

  /**
   * The principal of a person named by a verified token, when they are active and their
   * account comes from the token's issuer: a local token never names an OIDC person, nor
   * an OIDC token a local one.
   *
   * @throws ApiError 403 ORGANISATION_NOT_MEMBER when their organisation is no longer a member of the channel.
   */
  async personPrincipal(userId: string, source: 'local' | 'oidc' = 'local'): Promise<Principal | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
    if (row === undefined || row.disabled !== 0 || row.source !== source) return undefined;
    const principal = this.#personPrincipal(row.user_id, row.org, roleSchema.parse(row.role));
    await this.#assertMember(principal);
    return principal;
  }

  /**
   * A person known only to the OIDC issuer is enrolled on first use with the
   * organisation and role its token carries. A subject that names a local account (say
   * `admin`) is refused, never resolved to that account.
   *
   * @throws ApiError 401 when the subject names a local or disabled account, or the token
   *   lacks a valid organisation, role or user id.
   */
  async oidcPrincipal(subject: string, org: string | undefined, role: string | undefined): Promise<Principal> {
    const existing = await this.#db
      .selectFrom('users')
      .select(['source', 'disabled'])
      .where('user_id', '=', subject)
      .executeTakeFirst();
    if (existing !== undefined) {
      const known = await this.personPrincipal(subject, 'oidc');
      if (known === undefined) throw unauthenticated('the token does not name an account of its issuer');
      return known;
    }
    const request = createPersonSchema.safeParse({ userId: subject, org, role });
    const keyNamed = await this.#db.selectFrom('api_keys').select('id').where('name', '=', subject).executeTakeFirst();
    if (
      !request.success ||
      keyNamed !== undefined ||
      !this.#issuer.organizations.some((candidate) => candidate.name === org)
    ) {
      throw unauthenticated('the token does not name a valid user id, organisation and role');
    }
    await this.createPerson(request.data, 'oidc');
    const created = await this.personPrincipal(subject, 'oidc');
    if (created === undefined) throw unauthenticated();
    return created;
  }

  /**
   * The role of the identity an organisation's CA issued through this server with the
   * `userId` attribute `userId`: a person's, or an active API key's (`svc.<name>`).
   * `served: false` when the organisation (by MSP id) is none this server enrols for, so
   * it cannot know its people; `role: undefined` when it serves it and knows no such
   * active identity.
   */
  async roleOfIdentity(mspId: string, userId: string): Promise<{ served: boolean; role?: Role }> {
    const org = this.#issuer.organizations.find((candidate) => candidate.mspId === mspId)?.name;
    if (org === undefined) return { served: false };
    if (isServiceUserId(userId)) {
      const key = await this.#db
        .selectFrom('api_keys')
        .select('role')
        .where('name', '=', userId.slice(serviceUserIdPrefix.length))
        .where('org', '=', org)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return key === undefined ? { served: true } : { served: true, role: roleSchema.parse(key.role) };
    }
    const person = await this.#db
      .selectFrom('users')
      .select(['role', 'disabled'])
      .where('user_id', '=', userId)
      .where('org', '=', org)
      .executeTakeFirst();
    return person === undefined || person.disabled !== 0
      ? { served: true }
      : { served: true, role: roleSchema.parse(person.role) };
  }

  /**
   * One page of the people of `org`, in user id order, from `page.bookmark` (the previous
   * page's answer names where the next starts, '' after the last page, as the chaincode's
   * paged lists do).
   *
   * @param page.pageSize at most {@link maxPageSize}; {@link defaultPageSize} when left out.
   */
  async listPeople(org: string, page: ListPageRequest = {}): Promise<{ items: PersonView[]; bookmark: string }> {
    const size = Math.min(page.pageSize ?? defaultPageSize, maxPageSize);
    let query = this.#db.selectFrom('users').selectAll().where('org', '=', org);
    if (page.bookmark !== undefined) {
      const [userId] = listBookmarkValues(page.bookmark, ['people', org], 1);
      query = query.where('user_id', '>=', userId ?? '');
    }
    const rows = await query
      .orderBy('user_id')
      .limit(size + 1)
      .execute();
    return pageOfRows(
      rows,
      size,
      (row) => ({
        userId: row.user_id,
        org: row.org,
        mspId: this.#mspIdOf(row.org),
        role: roleSchema.parse(row.role),
        displayName: row.display_name,
        source: row.source,
      }),
      (next) => listBookmark(['people', org], [next.user_id]),
    );
  }

  /**
   * Creates a service account: a Fabric identity enrolled for it, whose `userId` attribute
   * is `svc.<name>`, and a key shown once. Administrators may only do this for their own
   * organisation; callers check that.
   *
   * @throws ApiError 422 for an unknown organisation or a scope the role does not have;
   *   409 NAME_TAKEN when a person has the name as user id, or a key of the organisation
   *   had it, active or revoked.
   */
  async createApiKey(request: CreateApiKey, createdBy: string): Promise<{ key: string; apiKey: ApiKeyView }> {
    this.#mspIdOf(request.org);
    const allowed = scopesByRole[request.role];
    const scopes: Scope[] = request.scopes ?? [...allowed];
    const outside = scopes.find((scope) => !allowed.includes(scope));
    if (outside !== undefined) throw invalidInput('scopes', `role ${request.role} cannot hold scope ${outside}`);
    // The namespace already keeps them apart on the ledger; refusing the name keeps them apart for people too.
    const person = await this.#db
      .selectFrom('users')
      .select('user_id')
      .where('user_id', '=', request.name)
      .executeTakeFirst();
    if (person !== undefined) throw conflict('NAME_TAKEN', `a person has the user id ${request.name}`, 'name');
    if (reservedServiceNames.includes(request.name)) {
      throw conflict('NAME_TAKEN', `${request.name} names one of the server's own services`, 'name');
    }
    // One key per name and organisation, ever: the name is the key's identity on the ledger,
    // and a revoked key's identity still holds what it did (works, agreements, licences); a
    // new key under its name would take all of that over, in whatever role it is given.
    const sameName = await this.#db
      .selectFrom('api_keys')
      .select('revoked_at')
      .where('name', '=', request.name)
      .where('org', '=', request.org)
      .executeTakeFirst();
    if (sameName !== undefined) {
      throw conflict(
        'NAME_TAKEN',
        sameName.revoked_at === null
          ? `${request.org} already has an active API key named ${request.name}`
          : `${request.org} had an API key named ${request.name}, revoked: its ledger identity svc.${request.name} still holds what it did, so the name is not given again`,
        'name',
      );
    }
    const id = randomBytes(9)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '0')
      .slice(0, 12);
    const secret = randomBytes(32).toString('base64url');
    await this.#enrollService(id, request.org, request.role, request.name);
    const createdAt = new Date().toISOString();
    await this.#db
      .insertInto('api_keys')
      .values({
        id,
        name: request.name,
        org: request.org,
        role: request.role,
        scopes: JSON.stringify(scopes),
        secret_hash: hashSecret(secret),
        identity_label: serviceIdentityLabel(id),
        created_by: createdBy,
        created_at: createdAt,
        revoked_at: null,
        last_used_at: null,
      })
      .execute();
    return {
      key: `glk_${id}_${secret}`,
      apiKey: {
        id,
        name: request.name,
        org: request.org,
        role: request.role,
        scopes,
        createdAt,
        revokedAt: null,
        lastUsedAt: null,
      },
    };
  }

  /**
   * One page of the API keys of `org`, oldest first (ties by key id). `page.bookmark` names
   * the key the page starts at (from the previous page: its creation time and id); the
   * answer's bookmark is the next page's, '' after the last.
   *
   * @param page.pageSize at most {@link maxPageSize}; {@link defaultPageSize} when left out.
   */
  async listApiKeys(org: string, page: ListPageRequest = {}): Promise<{ items: ApiKeyView[]; bookmark: string }> {
    const size = Math.min(page.pageSize ?? defaultPageSize, maxPageSize);
    let query = this.#db.selectFrom('api_keys').selectAll().where('org', '=', org);
    if (page.bookmark !== undefined) {
      const [createdAt, id] = listBookmarkValues(page.bookmark, ['api-keys', org], 2);
      query = query.where(sql<SqlBool>`(created_at, id) >= (${createdAt}, ${id})`);
    }
    const rows = await query
      .orderBy('created_at')
      .orderBy('id')
      .limit(size + 1)
      .execute();
    return pageOfRows(
      rows,
      size,
      (row) => ({
        id: row.id,
        name: row.name,
        org: row.org,
        role: roleSchema.parse(row.role),
        scopes: z.array(scopeSchema).parse(JSON.parse(row.scopes)),
        createdAt: row.created_at,
        revokedAt: row.revoked_at,
        lastUsedAt: row.last_used_at,
      }),
      (next) => listBookmark(['api-keys', org], [next.created_at, next.id]),
    );
  }

  /**
   * Signs a bearer token out before it expires (RFC 7009's token revocation, for the
   * token its holder presents): from now on it authenticates nothing, in every process
   * sharing this database, and an open subscription it opened ends at its next check.
   * Only the token's SHA-256 is kept, until the token would have expired; revoking it
   * again changes nothing. Rows of tokens past their expiry are removed on the way.
   *
   * @param expiresAt when the token expires, epoch milliseconds.
   */
  async revokeToken(token: string, holder: { readonly userId: string; readonly expiresAt: number }): Promise<void> {
    const now = new Date().toISOString();
    await this.#db.deleteFrom('revoked_tokens').where('expires_at', '<', now).execute();
    await this.#db
      .insertInto('revoked_tokens')
      .values({
        token_sha256: hashSecret(token),
        user_id: holder.userId,
        revoked_at: now,
        expires_at: new Date(holder.expiresAt).toISOString(),
      })
      .onConflict((conflict) => conflict.column('token_sha256').doNothing())
      .execute();
  }

  /** Whether the bearer token was signed out (see {@link revokeToken}). */
  async tokenRevoked(token: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('revoked_tokens')
      .select('token_sha256')
      .where('token_sha256', '=', hashSecret(token))
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Revokes a key; with `org`, only a key of that organisation (another organisation's
   * key looks as if it did not exist).
   *
   * @throws ApiError 404 when no such active key exists (in `org`).
   */
  async revokeApiKey(id: string, org?: string): Promise<void> {
    let update = this.#db
      .updateTable('api_keys')
      .set({ revoked_at: new Date().toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null);
    if (org !== undefined) update = update.where('org', '=', org);
    const result = await update.executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound(`active API key ${id}`, 'keyId');
  }

  /**
   * The principal of a presented API key, or undefined when it is unknown, wrong or revoked.
   *
   * @throws ApiError 403 ORGANISATION_NOT_MEMBER when the key's organisation is no longer a member of the channel.
   */
  async apiKeyPrincipal(key: string): Promise<Principal | undefined> {
    const match = keyPattern.exec(key);
    if (match?.[1] === undefined || match[2] === undefined) return undefined;
    const row = await this.#db.selectFrom('api_keys').selectAll().where('id', '=', match[1]).executeTakeFirst();
    if (row === undefined || row.revoked_at !== null) return undefined;
    const expected = Buffer.from(row.secret_hash, 'hex');
    const actual = Buffer.from(hashSecret(match[2]), 'hex');
    if (!timingSafeEqual(expected, actual)) return undefined;
    const role = roleSchema.parse(row.role);
    let identityLabel = row.identity_label;
    if (identityLabel === legacyServiceIdentityLabel(row.id)) {
      // Enrolled when the identity carried the bare key name as userId: re-enrolled into the service namespace.
      identityLabel = await this.#enrollService(row.id, row.org, role, row.name);
      await this.#db.updateTable('api_keys').set({ identity_label: identityLabel }).where('id', '=', row.id).execute();
      await this.#wallet.delete(legacyServiceIdentityLabel(row.id));
    }
    // Recorded to the minute: a write on every request of a busy HR sync is not worth it.
    const now = new Date();
    if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) >= lastUsedResolutionMs) {
      await this.#db
        .updateTable('api_keys')
        .set({ last_used_at: now.toISOString() })
        .where('id', '=', row.id)
        .execute();
    }
    const keyId = row.id;
    const mspId = this.#mspIdOf(row.org);
    const principal: Principal = {
      kind: 'service',
      id: keyId,
      userId: serviceUserId(row.name),
      org: row.org,
      mspId,
      role,
      scopes: z.array(scopeSchema).parse(JSON.parse(row.scopes)),
      identityLabel,
      [standingCheck]: async () => (await this.#keyStanding(keyId)) ?? (await this.#membershipStanding(row.org, mspId)),
    };
    await this.#assertMember(principal);
    return principal;
  }

  /**
   * Gives every organisation without an administrator one, with a generated password
   * written to `<dataDir>/bootstrap-admin.json` (mode 0600). Administrators act only
   * within their own organisation, so one administrator for all would leave the other
   * organisations unmanageable: the first organisation's is `admin` (top-level `userId`
   * and `password` in the file), every other's `admin-<organisation>` (under `admins`,
   * by organisation name, like the first). Entries already in the file are kept, and an
   * organisation the file names but the database has no administrator for (another
   * database beside the same data folder) gets the administrator the file names, with
   * its password.
   *
   * @throws Error when there is no organisation; ApiError 409 when a bootstrap user id is taken by someone else.
   */
  async ensureBootstrapAdmin(dataDir: string): Promise<{ created: boolean; file: string }> {
    const file = path.join(dataDir, 'bootstrap-admin.json');
    const [firstOrg] = this.#issuer.organizations;
    if (firstOrg === undefined) throw new Error('no organisation to enroll the administrator in');
    const stored: BootstrapFile = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BootstrapFile) : {};
    const admins = { ...stored.admins };
    let created = false;
    // A file written before there was one administrator per organisation names the first one only at its top level.
    let rewrite = false;
    if (admins[firstOrg.name] === undefined && stored.userId !== undefined && stored.password !== undefined) {
      admins[firstOrg.name] = { userId: stored.userId, password: stored.password };
      rewrite = true;
    }
    for (const org of this.#issuer.organizations) {
      const admin = await this.#db
        .selectFrom('users')
        .select('user_id')
        .where('role', '=', 'admin')
        .where('org', '=', org.name)
        .executeTakeFirst();
      if (admin !== undefined) continue;
      // A file already naming one is kept as it is: the server may have started over
      // another database (PostgreSQL, then SQLite again) beside the same data folder, and
      // the file's passwords must keep working for every database it served.
      const named = admins[org.name];
      const password = named?.password ?? randomBytes(18).toString('base64url');
      const base = org === firstOrg ? 'admin' : bootstrapAdminId(org.name);
      // User ids are global: another organisation's administrator may have taken the
      // default name of one added later (`admin-<org>`), which must not keep the server
      // from starting; the next free one is taken and written to the file.
      const candidates =
        named === undefined ? [base, ...[2, 3, 4, 5, 6, 7, 8, 9].map((n) => `${base}-${n}`)] : [named.userId];
      let userId: string | undefined;
      for (const candidate of candidates) {
        try {
          await this.createPerson(
            { userId: candidate, org: org.name, role: 'admin', displayName: `Administrator of ${org.name}`, password },
            'local',
            // Its own name, registered by an earlier start of this server (perhaps before registrations were marked).
            { ownRegistrationsOnly: false },
          );
          userId = candidate;
          break;
        } catch (error) {
          const taken = error instanceof ApiError && error.code === 'USER_EXISTS';
          if (!taken || candidate === candidates.at(-1)) throw error;
        }
      }
      if (userId === undefined) continue;
      created = true;
      if (named !== undefined) continue;
      admins[org.name] = { userId, password };
      if (org === firstOrg) Object.assign(stored, { userId, password });
      rewrite = true;
    }
    if (rewrite) writeFileSync(file, `${JSON.stringify({ ...stored, admins }, null, 2)}\n`, { mode: 0o600 });
    return { created, file };
  }

  /**
   * Why a principal this service resolved may no longer act (its account was disabled or
   * removed, its key revoked), or undefined while it may.
   */
  async #personStanding(userId: string): Promise<string | undefined> {
    const row = await this.#db.selectFrom('users').select('disabled').where('user_id', '=', userId).executeTakeFirst();
    return row === undefined || row.disabled !== 0 ? 'the account is disabled' : undefined;
  }

  /** Why an organisation's people and keys may no longer act: it left the channel. */
  async #membershipStanding(org: string, mspId: string): Promise<string | undefined> {
    if (this.#membership === undefined || (await this.#membership.isMember(mspId))) return undefined;
    return notMember(org, mspId).message;
  }

  /** @throws ApiError 403 ORGANISATION_NOT_MEMBER when the principal's organisation left the channel. */
  async #assertMember(principal: Principal): Promise<void> {
    if (this.#membership !== undefined && !(await this.#membership.isMember(principal.mspId))) {
      throw notMember(principal.org, principal.mspId);
    }
  }

  async #keyStanding(keyId: string): Promise<string | undefined> {
    const row = await this.#db.selectFrom('api_keys').select('revoked_at').where('id', '=', keyId).executeTakeFirst();
    return row === undefined || row.revoked_at !== null ? 'the API key was revoked' : undefined;
  }

  /** Enrolls (or re-enrolls) an API key's identity in the service namespace; returns its wallet label. */
  async #enrollService(keyId: string, org: string, role: Role, name: string): Promise<string> {
    const enrollmentId = `svc-${keyId}`;
    const identity = await this.#issuer.issue({ org, enrollmentId, role, userId: serviceUserId(name) });
    const label = serviceIdentityLabel(keyId);
    await this.#wallet.put({ ...identity, label, enrollmentId });
    return label;
  }

  #passwordlessHash(): Promise<string> {
    this.#dummyHash ??= hashPassword(randomBytes(32).toString('base64url'));
    return this.#dummyHash;
  }

  #personPrincipal(userId: string, org: string, role: Role): Principal {
    const mspId = this.#mspIdOf(org);
    return {
      kind: 'person',
      id: userId,
      userId,
      org,
      mspId,
      role,
      scopes: scopesByRole[role],
      identityLabel: personIdentityLabel(userId),
      [standingCheck]: async () => (await this.#personStanding(userId)) ?? (await this.#membershipStanding(org, mspId)),
    };
  }

  #mspIdOf(org: string): string {
    const found = this.#issuer.organizations.find((candidate) => candidate.name === org);
    if (found === undefined) {
      throw new ApiError(
        422,
        'VALIDATION_FAILED',
        `org: must be one of ${this.#issuer.organizations.map((candidate) => candidate.name).join(', ')}`,
        'org',
      );
    }
    return found.mspId;
  }
}

/** `admin-<organisation>`, lowercased and with what a user id cannot hold replaced by `-`. */
function bootstrapAdminId(org: string): string {
  return `admin-${org.toLowerCase().replace(/[^a-z0-9._-]/g, '-')}`.slice(0, 64);
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
