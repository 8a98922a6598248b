// @peculiar/x509 needs the Reflect metadata API (tsyringe checks for it as it loads).
import 'reflect-metadata';
import { KeyObject, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type FabricCAServicesClass from 'fabric-ca-client';
import type * as FabricCommon from 'fabric-common';
import type { User } from 'fabric-common';
import { Pkcs10CertificateRequestGenerator } from '@peculiar/x509';
import { z } from 'zod';
import { identityAttributes, type Role } from '@gigledger/chaincode/model';
import type { OrganizationProfile } from './connection-profile.js';
import type { SigningIdentity } from './identity.js';

/**
 * fabric-common reads the process's whole command line into its configuration when it is
 * first loaded (nconf's `argv()` store, through yargs), and yargs answers `help`, `--help`
 * or `--version` there by printing its own options and ending the process, so `gigledger
 * help` showed yargs' help instead of ours. Every command of this project owns its command
 * line: the libraries are loaded, and their configuration created, with it hidden.
 */
function withoutCommandLine<T>(load: () => T): T {
  const commandLine = process.argv;
  process.argv = commandLine.slice(0, 2);
  try {
    return load();
  } finally {
    process.argv = commandLine;
  }
}

/**
 * fabric-ca-client gives up on a CA request after 3 s of socket silence by default. A CA
 * hashing secrets (bcrypt) on a busy host can take longer, and the request then fails
 * though the CA would have answered; 30 s still reports a CA that is really down.
 */
const caRequestTimeoutMs = 30_000;

const requireCommonJs = createRequire(import.meta.url);
const { FabricCAServices, FabricUser } = withoutCommandLine(() => {
  const common = requireCommonJs('fabric-common') as typeof FabricCommon;
  // The first setting written creates fabric-common's configuration (a singleton), so
  // this is where the command line would be read.
  (common.Utils as unknown as { setConfigSetting(name: string, value: unknown): void }).setConfigSetting(
    'connection-timeout',
    caRequestTimeoutMs,
  );
  return {
    FabricCAServices: requireCommonJs('fabric-ca-client') as typeof FabricCAServicesClass,
    FabricUser: common.User,
  };
});

/**
 * fabric-ca-client adds a `timeout` listener to the socket of every request it makes and
 * never removes it. Node's global HTTPS agent keeps sockets alive and reuses them, so on
 * one socket the listeners pile up (MaxListenersExceededWarning after ten requests), each
 * holding its finished request. Requests to the CA are few and slow (it hashes secrets),
 * so a socket of their own costs nothing that matters.
 */
const socketPerRequest = new https.Agent({ keepAlive: false });

function withSocketPerRequest(service: FabricCAServicesClass): void {
  const client = (service as unknown as { _fabricCAClient?: { _httpClient?: unknown } })._fabricCAClient;
  // A fabric-ca-client whose internals differ is left as it is rather than broken.
  if (client?._httpClient !== https) return;
  client._httpClient = {
    request: (options: https.RequestOptions, callback: (response: IncomingMessage) => void) =>
      https.request({ ...options, agent: socketPerRequest }, callback),
  };
}

const registrarFileSchema = z.object({ enrollmentId: z.string(), secret: z.string() });

/** Who to register: the enrollment id and the GigLedger attributes its certificates carry. */
export interface RegistrationRequest {
  readonly enrollmentId: string;
  readonly role: Role;
  readonly userId: string;
  /** Chosen by the CA when absent. */
  readonly secret?: string;
}

/**
 * A registration attribute (kept by the CA, never put in certificates) that marks an
 * identity this code registered, as against the CA's registrar, the network's operators or
 * anything else registered there, whose secret it must never replace.
 */
export const registeredByGigLedger = { name: 'gigledger.registered', value: 'true' } as const;

function attributesOf(request: RegistrationRequest): { name: string; value: string; ecert: boolean }[] {
  return [
    { name: identityAttributes.role, value: request.role, ecert: true },
    { name: identityAttributes.userId, value: request.userId, ecert: true },
    { ...registeredByGigLedger, ecert: false },
  ];
}

/** The CA could not be reached or did not answer in time: nothing was decided, a retry may succeed. */
export class CertificateAuthorityUnavailableError extends Error {
  constructor(caName: string, options?: { cause?: unknown }) {
    super(`certificate authority ${caName} did not answer`, options);
    this.name = 'CertificateAuthorityUnavailableError';
  }
}

/** fabric-ca-client reports transport failures (refused, reset, timed out) as `Calling <api> endpoint failed…`. */
function isTransportFailure(error: unknown): boolean {
  return error instanceof Error && /^Calling \w+ endpoint failed/.test(error.message);
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
  readonly #service: FabricCAServicesClass;
  #registrar: Promise<User> | undefined;

  constructor(organization: OrganizationProfile) {
    this.#organization = organization;
    this.#service = new FabricCAServices(
      organization.ca.url,
      { trustedRoots: [readFileSync(organization.ca.tlsRootCert, 'utf8')], verify: true },
      organization.ca.caName,
    );
    withSocketPerRequest(this.#service);
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
          attrs: attributesOf(request),
        },
        registrar,
      );
    } catch (error) {
      if (error instanceof Error && /already registered/i.test(error.message)) {
        throw new AlreadyRegisteredError(request.enrollmentId, { cause: error });
      }
      if (isTransportFailure(error))
        throw new CertificateAuthorityUnavailableError(this.#organization.ca.caName, { cause: error });
      throw error;
    }
  }

  /**
   * The CA's registration of `enrollmentId` when this code made it (a client carrying
   * {@link registeredByGigLedger}), with the `userId` attribute it gives, so that a caller
   * may replace its secret for the same user only; undefined for any other.
   *
   * @throws CertificateAuthorityUnavailableError when the CA does not answer.
   */
  async gigLedgerRegistration(enrollmentId: string): Promise<{ readonly userId: string | undefined } | undefined> {
    const registrar = await this.#registrarUser();
    let response: { success: boolean; result?: { type?: string; attrs?: { name: string; value: string }[] } };
    try {
      response = await this.#service.newIdentityService().getOne(enrollmentId, registrar);
    } catch (error) {
      if (isTransportFailure(error))
        throw new CertificateAuthorityUnavailableError(this.#organization.ca.caName, { cause: error });
      // The CA refuses to show an identity its registrar may not manage (its own registrar, say): not ours.
      return undefined;
    }
    const attributes = response.result?.attrs ?? [];
    const ours =
      response.success &&
      response.result?.type === 'client' &&
      attributes.some(
        (attribute) => attribute.name === registeredByGigLedger.name && attribute.value === registeredByGigLedger.value,
      );
    if (!ours) return undefined;
    return { userId: attributes.find((attribute) => attribute.name === identityAttributes.userId)?.value };
  }

  /**
   * Gives an existing registration a new secret and the attributes of `request`, for an
   * identity whose secret was lost. Its earlier certificates stay valid. Callers check
   * {@link gigLedgerRegistration} first for an identity anyone may name.
   */
  async updateRegistration(request: RegistrationRequest & { secret: string }): Promise<void> {
    const registrar = await this.#registrarUser();
    const response = await this.#service.newIdentityService().update(
      request.enrollmentId,
      {
        enrollmentID: request.enrollmentId,
        affiliation: '',
        enrollmentSecret: request.secret,
        attrs: attributesOf(request),
      },
      registrar,
    );
    if (!response.success) {
      throw new Error(`CA refused to update ${request.enrollmentId}: ${JSON.stringify(response.errors)}`);
    }
  }

  /** Whether the CA answers its info endpoint over TLS. */
  ping(timeoutMs = 3000): Promise<boolean> {
    const url = new URL(
      `/api/v1/cainfo?ca=${encodeURIComponent(this.#organization.ca.caName)}`,
      this.#organization.ca.url,
    );
    return new Promise((resolve) => {
      const request = https.get(
        url,
        { ca: readFileSync(this.#organization.ca.tlsRootCert), timeout: timeoutMs },
        (response) => {
          response.resume();
          resolve(response.statusCode === 200);
        },
      );
      request.on('timeout', () => request.destroy());
      request.on('error', () => {
        resolve(false);
      });
    });
  }

  /**
   * Enrolls a registered identity: a new P-256 key pair and a certificate for it.
   *
   * The key pair and the certificate request are made with Node's own crypto: left to
   * itself, fabric-ca-client makes them with jsrsasign, pure JavaScript that spends close
   * to 0.1 s of CPU per enrolment, and ten times that inside a `vm` context such as a
   * test runner's.
   *
   * @throws CertificateAuthorityUnavailableError when the CA does not answer.
   */
  async enroll(enrollmentId: string, secret: string): Promise<SigningIdentity> {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    // Fabric CA requires the request's common name to be the enrollment id.
    const request = await Pkcs10CertificateRequestGenerator.create(
      { name: [{ CN: [enrollmentId] }], keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } },
      webcrypto,
    );
    const response = await this.#service
      .enroll({ enrollmentID: enrollmentId, enrollmentSecret: secret, csr: request.toString('pem') })
      .catch((error: unknown) => {
        if (isTransportFailure(error)) {
          throw new CertificateAuthorityUnavailableError(this.#organization.ca.caName, { cause: error });
        }
        throw error;
      });
    return {
      mspId: this.#organization.mspId,
      certificatePem: response.certificate,
      privateKeyPem: KeyObject.from(keys.privateKey).export({ format: 'pem', type: 'pkcs8' }).toString(),
    };
  }

  /**
   * @throws AlreadyRegisteredError when the enrollment id is taken;
   *   CertificateAuthorityUnavailableError when the CA does not answer.
   */
  async registerAndEnroll(request: RegistrationRequest): Promise<SigningIdentity> {
    const secret = await this.register(request);
    return this.enroll(request.enrollmentId, secret);
  }

  #registrarUser(): Promise<User> {
    // Enrolled once and kept; a failure (e.g. the CA not up yet) is not kept, so the next call tries again.
    this.#registrar ??= (async () => {
      const registrar = registrarFileSchema.parse(
        JSON.parse(readFileSync(this.#organization.ca.registrarFile, 'utf8')),
      );
      const enrollment = await this.enroll(registrar.enrollmentId, registrar.secret);
      return FabricUser.createUser(
        registrar.enrollmentId,
        '',
        this.#organization.mspId,
        enrollment.certificatePem,
        enrollment.privateKeyPem,
      );
    })().catch((error: unknown) => {
      this.#registrar = undefined;
      throw error;
    });
    return this.#registrar;
  }
}
