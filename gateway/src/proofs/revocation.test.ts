import 'reflect-metadata';
import { X509Certificate, webcrypto } from 'node:crypto';
import { msp } from '@hyperledger/fabric-protos';
import * as x509 from '@peculiar/x509';
import type { ChannelMsp } from './channel-config.js';
import { checkIdentity } from './identities.js';
import { readRevocationList } from './revocation.js';

/*
 * A CA, a member's certificate and revocation lists made with @peculiar/x509 the way a
 * Fabric CA's `gencrl` makes them (ECDSA P-256, RFC 5280 CertificateList), read back by
 * the proof verifier's own code.
 */
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const notBefore = new Date('2026-01-01T00:00:00Z');
const notAfter = new Date('2027-01-01T00:00:00Z');
const revokedOn = new Date('2026-06-01T00:00:00Z');

async function keys(): Promise<webcrypto.CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
}

async function authority(name: string): Promise<{ certificate: x509.X509Certificate; keys: webcrypto.CryptoKeyPair }> {
  const pair = await keys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore,
    notAfter,
    keys: pair,
    signingAlgorithm: algorithm,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  return { certificate, keys: pair };
}

const node = (certificate: x509.X509Certificate) => new X509Certificate(Buffer.from(certificate.rawData));

describe('certificate revocation lists in a proof’s channel configuration', () => {
  let ca: Awaited<ReturnType<typeof authority>>;
  let stranger: Awaited<ReturnType<typeof authority>>;
  let member: x509.X509Certificate;
  let crl: x509.X509Crl;

  beforeAll(async () => {
    ca = await authority('ca.clientorg.example');
    stranger = await authority('ca.elsewhere.example');
    member = await x509.X509CertificateGenerator.create({
      serialNumber: '00a1b2c3',
      issuer: ca.certificate.subject,
      subject: 'CN=user1,OU=client',
      notBefore,
      notAfter,
      publicKey: (await keys()).publicKey,
      signingKey: ca.keys.privateKey,
      signingAlgorithm: algorithm,
    });
    crl = await x509.X509CrlGenerator.create({
      issuer: ca.certificate.subject,
      thisUpdate: revokedOn,
      nextUpdate: notAfter,
      entries: [
        { serialNumber: '00a1b2c3', revocationDate: revokedOn },
        { serialNumber: '7f', revocationDate: revokedOn },
      ],
      signingKey: ca.keys.privateKey,
      signingAlgorithm: algorithm,
    });
  });

  const channelMsp = (lists: Uint8Array[]): ChannelMsp => {
    const roots = [node(ca.certificate)];
    return {
      mspId: 'ClientOrgMSP',
      group: '/Channel/Application/ClientOrg',
      kind: 'application',
      roots,
      intermediates: [],
      admins: [],
      revocationLists: lists.map((bytes) => readRevocationList(bytes, roots)),
    };
  };
  const serialized = () => {
    const identity = new msp.SerializedIdentity();
    identity.setMspid('ClientOrgMSP');
    identity.setIdBytes(Buffer.from(member.toString('pem')));
    return identity.serializeBinary();
  };

  it('reads PEM and DER lists, naming the CA that signed them and each revoked serial', () => {
    for (const bytes of [Buffer.from(crl.toString('pem')), Buffer.from(crl.rawData)]) {
      const list = readRevocationList(bytes, [node(stranger.certificate), node(ca.certificate)]);
      expect(list.issuer.subject).toBe('CN=ca.clientorg.example');
      expect([...list.revoked.keys()]).toEqual(['A1B2C3', '7F']);
      expect(list.revoked.get('A1B2C3')).toBe(revokedOn.getTime());
    }
  });

  it('refuses a list no CA of the MSP signed', async () => {
    const forged = await x509.X509CrlGenerator.create({
      issuer: ca.certificate.subject,
      nextUpdate: notAfter,
      entries: [{ serialNumber: '00a1b2c3', revocationDate: revokedOn }],
      signingKey: stranger.keys.privateKey,
      signingAlgorithm: algorithm,
    });
    expect(() => readRevocationList(Buffer.from(forged.rawData), [node(ca.certificate)])).toThrow(
      'CRL is not signed by a CA of its MSP',
    );
    expect(() => readRevocationList(Buffer.from('not a list'), [node(ca.certificate)])).toThrow();
  });

  it('refuses a list it cannot read whole instead of reading it as empty', async () => {
    const withoutNextUpdate = await x509.X509CrlGenerator.create({
      issuer: ca.certificate.subject,
      thisUpdate: revokedOn,
      entries: [{ serialNumber: '00a1b2c3', revocationDate: revokedOn }],
      signingKey: ca.keys.privateKey,
      signingAlgorithm: algorithm,
    });
    expect(() => readRevocationList(Buffer.from(withoutNextUpdate.rawData), [node(ca.certificate)])).toThrow(
      /nextUpdate/,
    );
  });

  it('refuses an identity revoked at or before the transaction, and accepts it before its revocation', () => {
    const lists = [Buffer.from(crl.toString('pem'))];
    const after = checkIdentity(serialized(), [channelMsp(lists)], new Date('2026-07-01T00:00:00Z'));
    expect(after.untrusted).toBe(
      'certificate of ClientOrgMSP (serial A1B2C3) was revoked at 2026-06-01T00:00:00.000Z, before 2026-07-01T00:00:00.000Z',
    );
    expect(checkIdentity(serialized(), [channelMsp(lists)], revokedOn).untrusted).toMatch(/was revoked/);
    const before = checkIdentity(serialized(), [channelMsp(lists)], new Date('2026-05-01T00:00:00Z'));
    expect(before.untrusted).toBeUndefined();
    expect(before.msp?.mspId).toBe('ClientOrgMSP');
    const unlisted = checkIdentity(serialized(), [channelMsp([])], new Date('2026-07-01T00:00:00Z'));
    expect(unlisted.untrusted).toBeUndefined();
  });

  it('over a span (when an orderer signed), counts a certificate valid and unrevoked at some instant of it', () => {
    const msps = (lists: Uint8Array[]) => [channelMsp(lists)];
    const span = (from: string, to: string) => ({ from: new Date(from), to: new Date(to) });
    // Issued after the transaction (a renewal) and valid when the newest block was signed.
    expect(checkIdentity(serialized(), msps([]), span('2025-06-01T00:00:00Z', '2026-02-01T00:00:00Z')).untrusted).toBe(
      undefined,
    );
    // Expired before the transaction was created: it signed no block after it.
    expect(checkIdentity(serialized(), msps([]), span('2027-02-01T00:00:00Z', '2028-01-01T00:00:00Z')).untrusted).toBe(
      'certificate of ClientOrgMSP (valid 2026-01-01T00:00:00.000Z to 2027-01-01T00:00:00.000Z) was valid at no time from 2027-02-01T00:00:00.000Z to 2028-01-01T00:00:00.000Z',
    );
    // Issued after the span: not yet valid at any instant of it.
    expect(
      checkIdentity(serialized(), msps([]), span('2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z')).untrusted,
    ).toMatch(/was valid at no time from 2025-01-01/);
    // Revoked before the span begins; revoked within it, after an instant it was still good.
    const lists = [Buffer.from(crl.toString('pem'))];
    expect(
      checkIdentity(serialized(), msps(lists), span('2026-07-01T00:00:00Z', '2026-12-01T00:00:00Z')).untrusted,
    ).toBe(
      'certificate of ClientOrgMSP (serial A1B2C3) was revoked at 2026-06-01T00:00:00.000Z, before 2026-07-01T00:00:00.000Z',
    );
    expect(
      checkIdentity(serialized(), msps(lists), span('2026-05-01T00:00:00Z', '2026-12-01T00:00:00Z')).untrusted,
    ).toBeUndefined();
  });
});
