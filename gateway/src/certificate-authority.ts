import { readFileSync } from 'node:fs';
import FabricCAServices from 'fabric-ca-client';
import { User } from 'fabric-common';
import { z } from 'zod';
import { identityAttributes, type Role } from '@gigledger/chaincode/model';
import type { OrganizationProfile } from './connection-profile.js';
import type { SigningIdentity } from './identity.js';

const registrarFileSchema = z.object({ enrollmentId: z.string(), secret: z.string() });

/** Who to register: the enrollment id and the GigLedger attributes its certificates carry. */
export interface RegistrationRequest {
  readonly enrollmentId: string;
  readonly role: Role;
  readonly userId: string;
  /** Chosen by the CA when absent. */
  readonly secret?: string;
}

/** The CA already knows an identity by that enrollment id. */
export class AlreadyRegisteredError extends Error {
  constructor(enrollmentId: string, options?: { cause?: unknown }) {
    super(`identity ${enrollmentId} is already registered`, options);
    this.name = 'AlreadyRegisteredError';
  }
}

/**
 * An organisation's Fabric CA: registers identities with the `role` and `userId`
 * certificate attributes and enrolls them. Certificates come from the organisation's
 * signing CA, so enrolled identities are members of its MSP.
 */
export class CertificateAuthority {
  readonly #organization: OrganizationProfile;
  readonly #service: FabricCAServices;
  #registrar: Promise<User> | undefined;

  constructor(organization: OrganizationProfile) {
    this.#organization = organization;
    this.#service = new FabricCAServices(
      organization.ca.url,
      { trustedRoots: [readFileSync(organization.ca.tlsRootCert, 'utf8')], verify: true },
      organization.ca.caName,
    );
  }

  get mspId(): string {
    return this.#organization.mspId;
  }

  /**
   * Registers an identity of type client whose enrollment certificates carry the
   * GigLedger attributes. Returns the enrollment secret.
   *
   * @throws AlreadyRegisteredError when the enrollment id is taken.
   */
  async register(request: RegistrationRequest): Promise<string> {
    const registrar = await this.#registrarUser();
    try {
      return await this.#service.register(
        {
          enrollmentID: request.enrollmentId,
          ...(request.secret === undefined ? {} : { enrollmentSecret: request.secret }),
          role: 'client',
          affiliation: '',
          maxEnrollments: -1,
          attrs: [
            { name: identityAttributes.role, value: request.role, ecert: true },
            { name: identityAttributes.userId, value: request.userId, ecert: true },
          ],
        },
        registrar,
      );
    } catch (error) {
      if (error instanceof Error && /already registered/i.test(error.message)) {
        throw new AlreadyRegisteredError(request.enrollmentId, { cause: error });
      }
      throw error;
    }
  }

  /** Enrolls a registered identity: a new key pair and a certificate for it. */
  async enroll(enrollmentId: string, secret: string): Promise<SigningIdentity> {
    const response = await this.#service.enroll({ enrollmentID: enrollmentId, enrollmentSecret: secret });
    return {
      mspId: this.#organization.mspId,
      certificatePem: response.certificate,
      privateKeyPem: response.key.toBytes(),
    };
  }

  /**
   * @throws AlreadyRegisteredError when the enrollment id is taken.
   */
  async registerAndEnroll(request: RegistrationRequest): Promise<SigningIdentity> {
    const secret = await this.register(request);
    return this.enroll(request.enrollmentId, secret);
  }

  #registrarUser(): Promise<User> {
    this.#registrar ??= (async () => {
      const registrar = registrarFileSchema.parse(
        JSON.parse(readFileSync(this.#organization.ca.registrarFile, 'utf8')),
      );
      const enrollment = await this.enroll(registrar.enrollmentId, registrar.secret);
      return User.createUser(
        registrar.enrollmentId,
        '',
        this.#organization.mspId,
        enrollment.certificatePem,
        enrollment.privateKeyPem,
      );
    })();
    return this.#registrar;
  }
}
