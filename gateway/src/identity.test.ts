import { createHash, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist';
import { gatewayCredentials } from './identity.js';

function identityOn(namedCurve: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { identity: { mspId: 'ClientOrgMSP', certificatePem: 'unused', privateKeyPem }, publicKey };
}

/** The uncompressed point (0x04, x, y) of an EC public key. */
function pointOf(publicKey: KeyObject): Uint8Array {
  const { x, y } = publicKey.export({ format: 'jwk' });
  return Buffer.concat([Buffer.of(4), Buffer.from(x ?? '', 'base64url'), Buffer.from(y ?? '', 'base64url')]);
}

describe('gatewayCredentials', () => {
  it.each([
    ['P-256', 'prime256v1', p256],
    ['P-384', 'secp384r1', p384],
  ] as const)(
    'signs the SHA-256 of each message on %s with a low S, in DER, as Fabric checks',
    async (_, namedCurve, curve) => {
      const { identity, publicKey } = identityOn(namedCurve);
      const credentials = gatewayCredentials(identity);
      // fabric-gateway hands the signer what `hash` returns: with hash.none, the message itself.
      expect(Buffer.from(credentials.hash(Buffer.from('abc')))).toEqual(Buffer.from('abc'));
      // OpenSSL picks a high S about half the time: 64 signatures all low by chance is 2^-64.
      for (let round = 0; round < 64; round += 1) {
        const message = Buffer.from(`proposal ${round}`);
        const signature = await credentials.signer(message);
        expect(verify('sha256', message, publicKey, signature)).toBe(true);
        expect(curve.Signature.fromBytes(signature, 'der').hasHighS()).toBe(false);
        // The peer's check: ECDSA over the message's SHA-256 digest, high S refused.
        const digest = createHash('sha256').update(message).digest();
        expect(curve.verify(signature, digest, pointOf(publicKey), { prehash: false, lowS: true, format: 'der' })).toBe(
          true,
        );
      }
    },
  );

  it('refuses a key Fabric would not accept, naming its curve', () => {
    expect(() => gatewayCredentials(identityOn('secp256k1').identity)).toThrow(
      'private key: an EC key on P-256 or P-384 is required, not ec secp256k1',
    );
  });
});
