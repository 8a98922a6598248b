import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { roleSchema, userIdSchema, type Role } from '@gigledger/chaincode/model';
import type { Db } from '../db/database.js';
import { ApiError, conflict, invalidInput, notFound, unauthenticated } from '../errors/api-error.js';
import type { IdentityIssuer } from '../identity/identity-issuer.js';
import type { Wallet } from '../identity/wallet.js';
import { hashPassword, verifyPassword } from './passwords.js';
import {
  personIdentityLabel,
  scopesByRole,
  scopeSchema,
  serviceIdentityLabel,
  type Principal,
  type Scope,
} from './principal.js';

export const createPersonSchema = z.strictObject({
  userId: userIdSchema,
  org: z.string().min(1),
  role: roleSchema,
  displayName: z.string().trim().min(1).max(200).optional(),
  password: z.string().min(12, 'must be at least 12 characters').max(200).optional(),
});
export type CreatePerson = z.infer<typeof createPersonSchema>;

export const createApiKeySchema = z.strictObject({
  name: userIdSchema,
  org: z.string().min(1),
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

/**
 * People and service accounts, each bound to a Fabric identity enrolled from its
 * organisation's CA with the GigLedger attributes and kept in the wallet.
 */
export class AccountService {
  readonly #db: Db;
  readonly #wallet: Wallet;
  readonly #issuer: IdentityIssuer;

  constructor(db: Db, wallet: Wallet, issuer: IdentityIssuer) {
    this.#db = db;
    this.#wallet = wallet;
    this.#issuer = issuer;
  }

  /**
   * Registers and enrolls a person in their organisation's CA and records them.
   *
   * @throws ApiError 422 for an unknown organisation; 409 USER_EXISTS when the userId is taken.
   */
  async createPerson(request: CreatePerson, source: 'local' | 'oidc' = 'local'): Promise<PersonView> {
    const mspId = this.#mspIdOf(request.org);
    const existing = await this.#db
      .selectFrom('users')
      .select('user_id')
      .where('user_id', '=', request.userId)
      .executeTakeFirst();
    if (existing !== undefined) throw conflict('USER_EXISTS', `user ${request.userId} already exists`, 'userId');
    const identity = await this.#issuer.issue({
      org: request.org,
      enrollmentId: request.userId,
      role: request.role,
      userId: request.userId,
    });
    await this.#wallet.put({ ...identity, label: personIdentityLabel(request.userId), enrollmentId: request.userId });
    await this.#db
      .insertInto('users')
      .values({
        user_id: request.userId,
        org: request.org,
        role: request.role,
        display_name: request.displayName ?? null,
        password_hash: request.password === undefined ? null : await hashPassword(request.password),
        source,
        disabled: 0,
        created_at: new Date().toISOString(),
      })
      .execute();
    return {
      userId: request.userId,
      org: request.org,
      mspId,
      role: request.role,
      displayName: request.displayName ?? null,
      source,
    };
  }

  /** @throws ApiError 401 for an unknown user, a wrong password or a disabled account, without saying which. */
  async checkPassword(userId: string, password: string): Promise<Principal> {
    const row = await this.#db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
    const valid = row?.password_hash != null && (await verifyPassword(password, row.password_hash));
    if (row === undefined || !valid || row.disabled !== 0) throw unauthenticated('wrong user id or password');
    return this.#personPrincipal(row.user_id, row.org, roleSchema.parse(row.role));
  }

  /** The principal of a person named by a verified token. */
  async personPrincipal(userId: string): Promise<Principal | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
    if (row === undefined || row.disabled !== 0) return undefined;
    return this.#personPrincipal(row.user_id, row.org, roleSchema.parse(row.role));
  }

  /**
   * A person known only to the OIDC issuer is enrolled on first use with the
   * organisation and role its token carries.
   *
   * @throws ApiError 401 when the token lacks a valid organisation, role or user id.
   */
  async oidcPrincipal(subject: string, org: string | undefined, role: string | undefined): Promise<Principal> {
    const known = await this.personPrincipal(subject);
    if (known !== undefined) return known;
    const request = createPersonSchema.safeParse({ userId: subject, org, role });
    if (!request.success || !this.#issuer.organizations.some((candidate) => candidate.name === org)) {
      throw unauthenticated('the token does not name a valid user id, organisation and role');
    }
    await this.createPerson(request.data, 'oidc');
    const created = await this.personPrincipal(subject);
    if (created === undefined) throw unauthenticated();
    return created;
  }

  async listPeople(): Promise<PersonView[]> {
    const rows = await this.#db.selectFrom('users').selectAll().orderBy('user_id').execute();
    return rows.map((row) => ({
      userId: row.user_id,
      org: row.org,
      mspId: this.#mspIdOf(row.org),
      role: roleSchema.parse(row.role),
      displayName: row.display_name,
      source: row.source,
    }));
  }

  /**
   * Creates a service account: a Fabric identity enrolled for it and a key shown once.
   *
   * @throws ApiError 422 for an unknown organisation or a scope the role does not have.
   */
  async createApiKey(request: CreateApiKey, createdBy: string): Promise<{ key: string; apiKey: ApiKeyView }> {
    this.#mspIdOf(request.org);
    const allowed = scopesByRole[request.role];
    const scopes: Scope[] = request.scopes ?? [...allowed];
    const outside = scopes.find((scope) => !allowed.includes(scope));
    if (outside !== undefined) throw invalidInput('scopes', `role ${request.role} cannot hold scope ${outside}`);
    const id = randomBytes(9)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '0')
      .slice(0, 12);
    const secret = randomBytes(32).toString('base64url');
    const enrollmentId = `svc-${id}`;
    const identity = await this.#issuer.issue({
      org: request.org,
      enrollmentId,
      role: request.role,
      userId: request.name,
    });
    await this.#wallet.put({ ...identity, label: serviceIdentityLabel(id), enrollmentId });
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

  async listApiKeys(): Promise<ApiKeyView[]> {
    const rows = await this.#db.selectFrom('api_keys').selectAll().orderBy('created_at').execute();
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      org: row.org,
      role: roleSchema.parse(row.role),
      scopes: z.array(scopeSchema).parse(JSON.parse(row.scopes)),
      createdAt: row.created_at,
      revokedAt: row.revoked_at,
      lastUsedAt: row.last_used_at,
    }));
  }

  /** @throws ApiError 404 when no such key exists. */
  async revokeApiKey(id: string): Promise<void> {
    const result = await this.#db
      .updateTable('api_keys')
      .set({ revoked_at: new Date().toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound(`active API key ${id}`);
  }

  /** The principal of a presented API key, or undefined when it is unknown, wrong or revoked. */
  async apiKeyPrincipal(key: string): Promise<Principal | undefined> {
    const match = keyPattern.exec(key);
    if (match?.[1] === undefined || match[2] === undefined) return undefined;
    const row = await this.#db.selectFrom('api_keys').selectAll().where('id', '=', match[1]).executeTakeFirst();
    if (row === undefined || row.revoked_at !== null) return undefined;
    const expected = Buffer.from(row.secret_hash, 'hex');
    const actual = Buffer.from(hashSecret(match[2]), 'hex');
    if (!timingSafeEqual(expected, actual)) return undefined;
    // Recorded to the minute: a write on every request of a busy HR sync is not worth it.
    const now = new Date();
    if (row.last_used_at === null || now.getTime() - Date.parse(row.last_used_at) >= lastUsedResolutionMs) {
      await this.#db
        .updateTable('api_keys')
        .set({ last_used_at: now.toISOString() })
        .where('id', '=', row.id)
        .execute();
    }
    return {
      kind: 'service',
      id: row.id,
      userId: row.name,
      org: row.org,
      mspId: this.#mspIdOf(row.org),
      role: roleSchema.parse(row.role),
      scopes: z.array(scopeSchema).parse(JSON.parse(row.scopes)),
      identityLabel: row.identity_label,
    };
  }

  /**
   * Creates the first administrator when the server has none, with a generated
   * password written to `<dataDir>/bootstrap-admin.json` (mode 0600).
   */
  async ensureBootstrapAdmin(dataDir: string): Promise<{ created: boolean; file: string }> {
    const file = path.join(dataDir, 'bootstrap-admin.json');
    const admin = await this.#db.selectFrom('users').select('user_id').where('role', '=', 'admin').executeTakeFirst();
    if (admin !== undefined) return { created: false, file };
    const [firstOrg] = this.#issuer.organizations;
    if (firstOrg === undefined) throw new Error('no organisation to enroll the administrator in');
    const password = randomBytes(18).toString('base64url');
    await this.createPerson({
      userId: 'admin',
      org: firstOrg.name,
      role: 'admin',
      displayName: 'Administrator',
      password,
    });
    writeFileSync(file, `${JSON.stringify({ userId: 'admin', password }, null, 2)}\n`, { mode: 0o600 });
    return { created: true, file };
  }

  #personPrincipal(userId: string, org: string, role: Role): Principal {
    return {
      kind: 'person',
      id: userId,
      userId,
      org,
      mspId: this.#mspIdOf(org),
      role,
      scopes: scopesByRole[role],
      identityLabel: personIdentityLabel(userId),
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

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
