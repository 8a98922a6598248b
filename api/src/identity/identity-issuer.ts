import { randomBytes } from 'node:crypto';
import {
  AlreadyRegisteredError,
  CertificateAuthority,
  type ConnectionProfile,
  type SigningIdentity,
} from '@gigledger/gateway';
import type { Role } from '@gigledger/chaincode/model';

/** Whom to register and enroll: see {@link IdentityIssuer.issue}. */
export interface IdentityRequest {
  readonly org: string;
  readonly enrollmentId: string;
  readonly role: Role;
  readonly userId: string;
  readonly ownRegistrationsOnly?: boolean;
}

/** Issues Fabric identities carrying GigLedger's certificate attributes. */
export interface IdentityIssuer {
  /** Organisation names and MSP ids this issuer serves. */
  readonly organizations: readonly { readonly name: string; readonly mspId: string }[];
  /**
   * Registers (or re-keys) `enrollmentId` in the organisation's CA with attributes
   * `role` and `userId`, and enrolls it. With `ownRegistrationsOnly`, an identity the CA
   * already knows is re-keyed only if this server's code registered it for the same
   * `userId` (never the CA's registrar, the network's operators or an API key's service
   * identity, whose names a person could otherwise take).
   *
   * @throws IdentityTakenError when `ownRegistrationsOnly` and the CA holds another's registration by that id.
   * @throws Error when the organisation is unknown or the CA refuses.
   */
  issue(request: IdentityRequest): Promise<SigningIdentity>;
  /** Whether every organisation's CA answers. */
  ready(): Promise<boolean>;
}

/** The organisation's CA holds a registration by this id that this server did not make. */
export class IdentityTakenError extends Error {
  constructor(readonly enrollmentId: string) {
    super(
      `the organisation's certificate authority already holds an identity ${enrollmentId} that this server did not register`,
    );
    this.name = 'IdentityTakenError';
  }
}

/** Identities from the organisations' Fabric CAs, as listed in the connection profile. */
export class FabricCaIssuer implements IdentityIssuer {
  readonly organizations: readonly { readonly name: string; readonly mspId: string }[];
  readonly #authorities: Map<string, CertificateAuthority>;

  constructor(profile: ConnectionProfile) {
    this.organizations = profile.organizations.map((org) => ({ name: org.name, mspId: org.mspId }));
    this.#authorities = new Map(profile.organizations.map((org) => [org.name, new CertificateAuthority(org)]));
  }

  async issue(request: IdentityRequest): Promise<SigningIdentity> {
    const authority = this.#authorities.get(request.org);
    if (authority === undefined) throw new Error(`no certificate authority for organisation ${request.org}`);
    const secret = randomBytes(18).toString('base64url');
    const registration = { enrollmentId: request.enrollmentId, role: request.role, userId: request.userId, secret };
    try {
      await authority.register(registration);
    } catch (error) {
      if (!(error instanceof AlreadyRegisteredError)) throw error;
      // Only the same user's registration, made by this server: not the CA's registrar, an
      // operator, or an API key's service identity whose enrollment id a person's name matches.
      if (
        request.ownRegistrationsOnly === true &&
        (await authority.gigLedgerRegistration(request.enrollmentId))?.userId !== request.userId
      )
        throw new IdentityTakenError(request.enrollmentId);
      // Known to the CA but not to this server (e.g. its database was reset): new secret, same attributes.
      await authority.updateRegistration(registration);
    }
    return authority.enroll(request.enrollmentId, secret);
  }

  async ready(): Promise<boolean> {
    const answers = await Promise.all([...this.#authorities.values()].map((authority) => authority.ping()));
    return answers.every(Boolean);
  }
}
