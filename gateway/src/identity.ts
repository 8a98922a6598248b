import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { signers, type Identity, type Signer } from '@hyperledger/fabric-gateway';

/** An identity that signs transactions: its X.509 certificate and the matching private key. */
export interface SigningIdentity {
  readonly mspId: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** The pair fabric-gateway needs to act as a signing identity. */
export interface GatewayCredentials {
  readonly identity: Identity;
  readonly signer: Signer;
}

export function gatewayCredentials(identity: SigningIdentity): GatewayCredentials {
  return {
    identity: { mspId: identity.mspId, credentials: Buffer.from(identity.certificatePem) },
    signer: signers.newPrivateKeySigner(createPrivateKey(identity.privateKeyPem)),
  };
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
