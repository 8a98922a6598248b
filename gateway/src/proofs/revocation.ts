import { verify as verifySignature, type X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificateList } from '@peculiar/asn1-x509';

/** One certificate revocation list of an MSP, read and checked against the MSP's CAs. */
export interface RevocationList {
  /** The MSP CA (root or intermediate) whose key signed the list. */
  readonly issuer: X509Certificate;
  /** Revocation time (ms since the epoch) by certificate serial number, upper-case hex without leading zeros. */
  readonly revoked: ReadonlyMap<string, number>;
}

/** Digest of each signature algorithm Fabric's CAs sign with (RFC 5758, RFC 4055). */
const digestOfAlgorithm = new Map([
  ['1.2.840.10045.4.3.2', 'sha256'], // ecdsa-with-SHA256
  ['1.2.840.10045.4.3.3', 'sha384'], // ecdsa-with-SHA384
  ['1.2.840.10045.4.3.4', 'sha512'], // ecdsa-with-SHA512
  ['1.2.840.113549.1.1.11', 'sha256'], // sha256WithRSAEncryption
  ['1.2.840.113549.1.1.12', 'sha384'], // sha384WithRSAEncryption
  ['1.2.840.113549.1.1.13', 'sha512'], // sha512WithRSAEncryption
]);

/** A serial number as Node's X509Certificate prints it: upper-case hex, no leading zeros. */
export function normalisedSerial(hex: string): string {
  return hex.toUpperCase().replace(/^0+(?=.)/, '');
}

function derOf(bytes: Uint8Array): Uint8Array {
  const text = Buffer.from(bytes).toString('latin1');
  // Fabric CA writes `X509 CRL`, RFC 7468 names the label `CRL`.
  const pem = /-----BEGIN (?:X509 )?CRL-----([\s\S]+?)-----END (?:X509 )?CRL-----/.exec(text);
  return pem?.[1] === undefined ? bytes : Buffer.from(pem[1].replace(/\s+/g, ''), 'base64');
}

/**
 * Reads an MSP's `revocation_list` entry (PEM or DER, RFC 5280 §5 CertificateList) and
 * finds the CA among `authorities` whose key signed it, as Fabric's MSP does when it
 * loads a configuration.
 *
 * @throws Error when the list cannot be parsed, uses an unknown signature algorithm, or
 *   no CA of the MSP signed it.
 */
export function readRevocationList(bytes: Uint8Array, authorities: readonly X509Certificate[]): RevocationList {
  const list = AsnConvert.parse(derOf(bytes), CertificateList);
  const digest = digestOfAlgorithm.get(list.signatureAlgorithm.algorithm);
  if (digest === undefined)
    throw new Error(`CRL signed with unsupported algorithm ${list.signatureAlgorithm.algorithm}`);
  const signed = Buffer.from(list.tbsCertListRaw ?? AsnConvert.serialize(list.tbsCertList));
  // The ASN.1 parser reads the revoked entries of a list without nextUpdate as none at
  // all; such a list is not RFC 5280 conforming (§5.1.2.5), so it is refused rather than
  // read as empty.
  if (list.tbsCertList.nextUpdate === undefined) {
    throw new Error('CRL has no nextUpdate, which RFC 5280 §5.1.2.5 requires of a conforming CRL');
  }
  const signature = Buffer.from(list.signature);
  const issuer = authorities.find((candidate) => {
    try {
      return verifySignature(digest, signed, candidate.publicKey, signature);
    } catch {
      return false;
    }
  });
  if (issuer === undefined) throw new Error('CRL is not signed by a CA of its MSP');
  const revoked = new Map<string, number>();
  for (const entry of list.tbsCertList.revokedCertificates ?? []) {
    revoked.set(
      normalisedSerial(Buffer.from(entry.userCertificate).toString('hex')),
      entry.revocationDate.getTime().getTime(),
    );
  }
  return { issuer, revoked };
}

/**
 * When `certificate` was revoked by a list its own issuer signed, or undefined when no
 * list names it. Fabric refuses a revoked identity whatever the time of revocation; a
 * proof verifier compares the time with the transaction's instead (see checkIdentity).
 */
export function revokedAt(certificate: X509Certificate, lists: readonly RevocationList[]): Date | undefined {
  const serial = normalisedSerial(certificate.serialNumber);
  for (const list of lists) {
    if (!certificate.checkIssued(list.issuer)) continue;
    const at = list.revoked.get(serial);
    if (at !== undefined) return new Date(at);
  }
  return undefined;
}
