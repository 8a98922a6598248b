import { createPrivateKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { hash, type Hash, type Identity, type Signer } from '@hyperledger/fabric-gateway';
import { p256, p384 } from '@noble/curves/nist';

/** An identity that signs transactions: its X.509 certificate and the matching private key. */
export interface SigningIdentity {
  readonly mspId: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/**
 * What fabric-gateway needs to act as a signing identity: pass all three to `connect`
 * (the signer expects messages hashed by `hash`).
 */
export interface GatewayCredentials {
  readonly identity: Identity;
  readonly signer: Signer;
  readonly hash: Hash;
}

/** Curves whose signatures Fabric accepts, by the name Node gives an EC key's curve. */
const curves = { prime256v1: p256, secp384r1: p384 } as const;

/**
 * Credentials whose signer runs ECDSA in Node's OpenSSL: about ten times less CPU per
 * signature than fabric-gateway's `signers.newPrivateKeySigner` (pure JavaScript), and
 * every transaction is signed three times (proposal, envelope, commit-status request).
 * Node cannot sign a digest it did not compute, so the signer gets the whole message
 * (`hash.none`) and hashes it with SHA-256 as Fabric does. Fabric refuses signatures
 * whose S is in the upper half of the curve order (`IsLowS` in its bccsp), which OpenSSL
 * does not avoid; the signature is normalised to low S before DER encoding.
 *
 * @throws Error when the private key is not an EC key on P-256 or P-384.
 */
export function gatewayCredentials(identity: SigningIdentity): GatewayCredentials {
  return {
    identity: { mspId: identity.mspId, credentials: Buffer.from(identity.certificatePem) },
    signer: nativeEcdsaSigner(createPrivateKey(identity.privateKeyPem)),
    hash: hash.none,
  };
}

/**
 * Whether a DER-encoded ECDSA signature by `publicKey` has its S above half the curve's
 * order: (r, n − s) verifies wherever (r, s) does, so a verifier that takes both lets
 * anyone change a signature's bytes and keep it valid. Fabric signs the low form and its
 * BCCSP refuses the other (`verifyECDSA`: "Invalid S. Must be smaller than half the
 * order"). False for a key on another curve or of another type.
 *
 * @throws Error when the bytes are not a DER ECDSA signature on the key's curve.
 */
export function hasHighS(signature: Uint8Array, publicKey: KeyObject): boolean {
  const curve = curveOf(publicKey);
  return curve !== undefined && curve.Signature.fromBytes(signature, 'der').hasHighS();
}

/** The curve of an EC key on P-256 or P-384, or undefined for any other key. */
function curveOf(key: KeyObject) {
  const curveName = key.asymmetricKeyDetails?.namedCurve ?? '';
  return key.asymmetricKeyType === 'ec' ? curves[curveName as keyof typeof curves] : undefined;
}

/**
 * Signs SHA-256 of `message` with ECDSA, the signature DER-encoded with S in its low form
 * (see {@link hasHighS}): the one signature of the message by this key a verifier that
 * refuses the high form accepts.
 *
 * @throws Error when the private key is not an EC key on P-256 or P-384.
 */
export function signLowS(message: Uint8Array, key: KeyObject): Uint8Array {
  const curve = curveOf(key);
  if (curve === undefined) throw notP256OrP384(key);
  const order = curve.Point.Fn.ORDER;
  const raw = sign('sha256', message, { key, dsaEncoding: 'ieee-p1363' });
  const { r, s } = curve.Signature.fromBytes(raw, 'compact');
  const lowS = s > order >> 1n ? order - s : s;
  return new curve.Signature(r, lowS).toBytes('der');
}

function notP256OrP384(key: KeyObject): Error {
  return new Error(
    `private key: an EC key on P-256 or P-384 is required, not ${key.asymmetricKeyType ?? 'unknown'} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`,
  );
}

function nativeEcdsaSigner(key: KeyObject): Signer {
  // Refused when the credentials are made, not at the first transaction.
  if (curveOf(key) === undefined) throw notP256OrP384(key);
  return (message) => Promise.resolve(signLowS(message, key));
}

/**
 * Reads a signing identity from an MSP folder as cryptogen or fabric-ca-client write
 * it: one certificate in signcerts/ and one key in keystore/.
 *
 * @throws Error naming the folder that lacks a certificate or key.
 */
export function readMspIdentity(mspDir: string, mspId: string): SigningIdentity {
  return {
    mspId,
    certificatePem: readFileSync(onlyFile(path.join(mspDir, 'signcerts')), 'utf8'),
    privateKeyPem: readFileSync(onlyFile(path.join(mspDir, 'keystore')), 'utf8'),
  };
}

function onlyFile(dir: string): string {
  const entries = readdirSync(dir).filter((entry) => !entry.startsWith('.'));
  const [first] = entries;
  if (first === undefined) throw new Error(`${dir} is empty`);
  if (entries.length > 1) throw new Error(`${dir} holds ${entries.length} files; expected one`);
  return path.join(dir, first);
}

/** The subject common name of a certificate, e.g. the enrollment id of a CA-issued identity. */
export function certificateCommonName(certificatePem: string): string {
  const subject = new X509Certificate(certificatePem).subject;
  const match = /^CN=(.*)$/m.exec(subject);
  return match?.[1] ?? subject;
}
