import { X509Certificate } from 'node:crypto';
import { msp } from '@hyperledger/fabric-protos';
import type { ChannelMsp } from './channel-config.js';
import { revokedAt } from './revocation.js';

/** A signer as a verifier sees it: who it claims to be, and whether its certificate holds. */
export interface CheckedIdentity {
  readonly mspId: string;
  readonly certificate: X509Certificate;
  /** The MSP it chains to, when it does. */
  readonly msp?: ChannelMsp;
  /** Why the certificate is not trusted, when it is not. */
  readonly untrusted?: string;
}

/**
 * When a signature was made: an instant a signature binds, or, where none does, the span
 * it was made in (`from` and `to` included).
 */
export type SigningTime = Date | { readonly from: Date; readonly to: Date };

/**
 * Decodes a `msp.SerializedIdentity` and checks its certificate against the channel's MSP
 * of the same id: issued (signature checked) through the MSP's intermediates up to one of
 * its root CA certificates, within its validity period at `at`, and not revoked at or
 * before `at` by a revocation list of the MSP signed by the certificate's issuer. A
 * revocation after `at` does not count: a proof shows the ledger as it was when the
 * transaction committed, and Fabric's MSP accepted the identity then. Given a span, the
 * certificate counts when it held so at some instant of it: the earliest at which it was
 * valid, when not revoked by then.
 *
 * @throws Error when the bytes are not a serialised identity with a PEM certificate.
 */
export function checkIdentity(serialized: Uint8Array, msps: readonly ChannelMsp[], at: SigningTime): CheckedIdentity {
  const identity = msp.SerializedIdentity.deserializeBinary(serialized);
  const mspId = identity.getMspid();
  const certificate = new X509Certificate(Buffer.from(identity.getIdBytes_asU8()));
  const member = msps.find((candidate) => candidate.mspId === mspId);
  if (member === undefined)
    return { mspId, certificate, untrusted: `MSP ${mspId} is not in the channel configuration` };
  const validFrom = new Date(certificate.validFrom);
  const validTo = new Date(certificate.validTo);
  const { from, to } = at instanceof Date ? { from: at, to: at } : at;
  // A revocation takes effect from its date on, so the earliest valid instant is the one that can count.
  const moment = from < validFrom ? validFrom : from;
  if (moment > to || moment > validTo)
    return {
      mspId,
      certificate,
      untrusted:
        at instanceof Date
          ? `certificate of ${mspId} was not valid at ${at.toISOString()}`
          : `certificate of ${mspId} (valid ${validFrom.toISOString()} to ${validTo.toISOString()}) was valid at no time from ${from.toISOString()} to ${to.toISOString()}`,
    };
  let current = certificate;
  for (let depth = 0; depth < 8; depth += 1) {
    const root = member.roots.find(
      (candidate) => current.checkIssued(candidate) && current.verify(candidate.publicKey),
    );
    if (root !== undefined) {
      const revoked = revokedAt(certificate, member.revocationLists);
      if (revoked !== undefined && revoked <= moment) {
        return {
          mspId,
          certificate,
          untrusted: `certificate of ${mspId} (serial ${certificate.serialNumber}) was revoked at ${revoked.toISOString()}, before ${moment.toISOString()}`,
        };
      }
      return { mspId, certificate, msp: member };
    }
    const intermediate = member.intermediates.find(
      (candidate) => current.checkIssued(candidate) && current.verify(candidate.publicKey),
    );
    if (intermediate === undefined) break;
    current = intermediate;
  }
  return { mspId, certificate, untrusted: `certificate of ${mspId} does not chain to a CA of MSP ${mspId}` };
}

/** The organisational units in a certificate's subject. */
function organisationalUnits(certificate: X509Certificate): string[] {
  return certificate.subject
    .split('\n')
    .filter((line) => line.startsWith('OU='))
    .map((line) => line.slice(3));
}

/**
 * Whether a trusted identity satisfies an `msp.MSPRole` principal, as Fabric's MSP does
 * with NodeOUs: MEMBER is any valid identity of the MSP; CLIENT, PEER, ORDERER and ADMIN
 * need the node OU in the certificate (ADMIN also matches a certificate in the MSP's admins).
 */
export function satisfiesRole(identity: CheckedIdentity, role: msp.MSPRole): boolean {
  const member = identity.msp;
  if (member === undefined || member.mspId !== role.getMspIdentifier()) return false;
  const units = organisationalUnits(identity.certificate);
  const hasOu = (ou: string | undefined) => ou !== undefined && ou !== '' && units.includes(ou);
  switch (role.getRole()) {
    case msp.MSPRole.MSPRoleType.MEMBER:
      return true;
    case msp.MSPRole.MSPRoleType.PEER:
      return hasOu(member.nodeOus?.peer);
    case msp.MSPRole.MSPRoleType.CLIENT:
      return hasOu(member.nodeOus?.client);
    case msp.MSPRole.MSPRoleType.ORDERER:
      return hasOu(member.nodeOus?.orderer);
    case msp.MSPRole.MSPRoleType.ADMIN:
      return hasOu(member.nodeOus?.admin) || member.admins.some((admin) => admin.raw.equals(identity.certificate.raw));
    default:
      return false;
  }
}
