import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type { SigningIdentity } from '@gigledger/gateway';

/*
 * X.509 certificates for tests of statement signing: an organisation CA and identities it
 * issues, ECDSA P-256 like the ones a Fabric CA enrolls. Node can read and verify
 * certificates but not write them, so this writes the DER by hand; it is for tests only.
 */

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const sequence = (...contents: Buffer[]) => tlv(0x30, ...contents);
const set = (...contents: Buffer[]) => tlv(0x31, ...contents);
const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));

function objectIdentifier(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let high = arc >> 7; high > 0; high >>= 7) chunk.unshift((high & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function positiveInteger(bytes: Buffer): Buffer {
  return tlv(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function utcTime(date: Date): Buffer {
  const iso = date.toISOString();
  const text = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

function distinguishedName(name: TestName): Buffer {
  return sequence(
    set(sequence(objectIdentifier('2.5.4.10'), utf8String(name.organization))),
    set(sequence(objectIdentifier('2.5.4.3'), utf8String(name.commonName))),
  );
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(id), ...(critical ? [boolean(true)] : []), tlv(0x04, value));
}

const ecdsaWithSha256 = sequence(objectIdentifier('1.2.840.10045.4.3.2'));
const basicConstraintsId = '2.5.29.19';
const keyUsageId = '2.5.29.15';

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

export interface TestName {
  readonly organization: string;
  readonly commonName: string;
}

/** A test certificate authority: its self-signed certificate and its key. */
export interface TestCertificateAuthority {
  readonly name: TestName;
  readonly certificatePem: string;
  readonly privateKey: KeyObject;
}

interface CertificateRequest {
  readonly subject: TestName;
  readonly publicKey: KeyObject;
  readonly issuer: TestName;
  readonly issuerKey: KeyObject;
  readonly isCa: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * 12 random bytes whose first is never zero: DER wants an INTEGER's shortest encoding,
 * and X.509 parsers refuse a serial number with a redundant leading zero byte (one
 * certificate in about 512 otherwise).
 */
function serialNumber(): Buffer {
  const bytes = randomBytes(12);
  bytes[0] = (bytes[0] ?? 0) | 0x01;
  return bytes;
}

function certificate(request: CertificateRequest): string {
  // keyCertSign and cRLSign for a CA; digitalSignature otherwise (bit 0 is the high bit).
  const keyUsage = request.isCa ? Buffer.from([0x01, 0x06]) : Buffer.from([0x07, 0x80]);
  const tbs = sequence(
    tlv(0xa0, positiveInteger(Buffer.from([2]))),
    positiveInteger(serialNumber()),
    ecdsaWithSha256,
    distinguishedName(request.issuer),
    sequence(utcTime(request.notBefore), utcTime(request.notAfter)),
    distinguishedName(request.subject),
    request.publicKey.export({ type: 'spki', format: 'der' }),
    tlv(
      0xa3,
      sequence(
        extension(basicConstraintsId, true, request.isCa ? sequence(boolean(true)) : sequence()),
        extension(keyUsageId, true, tlv(0x03, keyUsage)),
      ),
    ),
  );
  const signature = sign('sha256', tbs, request.issuerKey);
  return toPem(sequence(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))));
}

const day = 24 * 3600 * 1000;

/** A self-signed P-256 CA for an organisation, valid from yesterday for ten years. */
export function createTestCa(organization: string): TestCertificateAuthority {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = { organization, commonName: `ca.${organization.toLowerCase()}.gigledger.local` };
  const certificatePem = certificate({
    subject: name,
    publicKey,
    issuer: name,
    issuerKey: privateKey,
    isCa: true,
    notBefore: new Date(Date.now() - day),
    notAfter: new Date(Date.now() + 3650 * day),
  });
  return { name, certificatePem, privateKey };
}

/** A P-256 identity the CA issues, valid from yesterday for a year unless told otherwise. */
export function issueTestIdentity(
  ca: TestCertificateAuthority,
  mspId: string,
  commonName: string,
  validity: { notBefore?: Date; notAfter?: Date } = {},
): SigningIdentity {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certificatePem = certificate({
    subject: { organization: ca.name.organization, commonName },
    publicKey,
    issuer: ca.name,
    issuerKey: ca.privateKey,
    isCa: false,
    notBefore: validity.notBefore ?? new Date(Date.now() - day),
    notAfter: validity.notAfter ?? new Date(Date.now() + 365 * day),
  });
  return { mspId, certificatePem, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** The CA of the test server's organisation (ClientOrg), and its operator, who signs statements. */
export const testOrganizationCa: TestCertificateAuthority = createTestCa('ClientOrg');
export const testStatementSigner: SigningIdentity = issueTestIdentity(
  testOrganizationCa,
  'ClientOrgMSP',
  'operator-clientorg',
);
