import { createRequire } from 'node:module';
import type { Context } from 'fabric-contract-api';
import { callerOf } from './ledger/caller';
import { reuseParsedCertificates } from './server-identity';

/** Self-signed test certificates carrying Fabric CA attributes (role client, userId ana or ben). */
const anaPem = [
  '-----BEGIN CERTIFICATE-----',
  'MIIBZzCCAQ2gAwIBAgIBATAKBggqhkjOPQQDAjAfMQwwCgYDVQQDEwNhbmExDzAN',
  'BgNVBAsTBmNsaWVudDAeFw0yNjAxMDEwMDAwMDBaFw0zNjAxMDEwMDAwMDBaMB8x',
  'DDAKBgNVBAMTA2FuYTEPMA0GA1UECxMGY2xpZW50MFkwEwYHKoZIzj0CAQYIKoZI',
  'zj0DAQcDQgAEMlCBgfvhkqSEc8pwXANBXc+s3fO6oBmOdtbPvPDARJpxcPA+rAWt',
  'ueRUyJq7P/5SXskyT0FMrewmm1nZIwXjX6M6MDgwNgYIKgMEBQYHCAEEKnsiYXR0',
  'cnMiOnsicm9sZSI6ImNsaWVudCIsInVzZXJJZCI6ImFuYSJ9fTAKBggqhkjOPQQD',
  'AgNIADBFAiBvWGBJ51t/9WOL/0FN4lJx3bZ+9xiVbi0dykiZYItzLwIhAO+RPf7t',
  'pGr9/ickRBc+MA+o9CWbyynOwQgfkt9J9qVM',
  '-----END CERTIFICATE-----',
].join('\n');
const benPem = [
  '-----BEGIN CERTIFICATE-----',
  'MIIBZzCCAQ2gAwIBAgIBAjAKBggqhkjOPQQDAjAfMQwwCgYDVQQDEwNiZW4xDzAN',
  'BgNVBAsTBmNsaWVudDAeFw0yNjAxMDEwMDAwMDBaFw0zNjAxMDEwMDAwMDBaMB8x',
  'DDAKBgNVBAMTA2JlbjEPMA0GA1UECxMGY2xpZW50MFkwEwYHKoZIzj0CAQYIKoZI',
  'zj0DAQcDQgAEfbhVN+ix2FDviPqxbK7Y/4BwhV6zmUpF5SfPNgj5C6I7cswPMkNk',
  'dGNwCJ5GbgmZwiXYjCEc14AyWg1NGP75DKM6MDgwNgYIKgMEBQYHCAEEKnsiYXR0',
  'cnMiOnsicm9sZSI6ImNsaWVudCIsInVzZXJJZCI6ImJlbiJ9fTAKBggqhkjOPQQD',
  'AgNIADBFAiA3UNhUKeNilQ8ZgiDMkGLY0mGqcEwXcmVRowKPGHyBZAIhAKI1hZeZ',
  'nHTTRBGa8q4sgYLQRQGQup9u6dRum3vg6eZh',
  '-----END CERTIFICATE-----',
].join('\n');

interface ShimIdentity {
  getID(): string;
  getMSPID(): string;
  getAttributeValue(name: string): string | null;
}

const fromShim = createRequire(require.resolve('fabric-shim'));
const { ClientIdentity } = fromShim('fabric-shim') as {
  ClientIdentity: new (stub: object) => ShimIdentity;
};
const { Certificate } = fromShim('@fidm/x509') as { Certificate: { fromPEM(pem: Buffer | string): unknown } };

/** The identity fabric-shim builds for an invocation by the holder of `pem`. */
function identityOf(pem: string): ShimIdentity {
  const stub = {
    getChannelID: () => 'gigledger',
    getTxID: () => 'tx-1',
    getCreator: () => ({ mspid: 'ClientOrgMSP', idBytes: Buffer.from(pem) }),
  };
  return new ClientIdentity(stub);
}

function described(identity: ShimIdentity): unknown {
  return callerOf({ clientIdentity: identity } as unknown as Context);
}

describe('reuseParsedCertificates', () => {
  it('parses each distinct certificate once, keeping at most `limit`, and every caller reads as before', () => {
    const before = [described(identityOf(anaPem)), described(identityOf(benPem))];
    expect(before).toEqual([
      { mspId: 'ClientOrgMSP', id: 'x509::/CN=ana/OU=client::/CN=ana/OU=client', role: 'client', userId: 'ana' },
      { mspId: 'ClientOrgMSP', id: 'x509::/CN=ben/OU=client::/CN=ben/OU=client', role: 'client', userId: 'ben' },
    ]);

    // Counts the parses that reach @fidm/x509 beneath the reuse.
    let parses = 0;
    const parse = Certificate.fromPEM.bind(Certificate);
    Certificate.fromPEM = (pem) => {
      parses += 1;
      return parse(pem);
    };
    expect(reuseParsedCertificates(1)).toBe(true);
    expect(reuseParsedCertificates(1)).toBe(false);

    for (let call = 0; call < 10; call += 1) expect(described(identityOf(anaPem))).toEqual(before[0]);
    expect(parses).toBe(1);
    // One kept: ben's certificate takes ana's place, so ana's is parsed again.
    expect(described(identityOf(benPem))).toEqual(before[1]);
    expect(described(identityOf(anaPem))).toEqual(before[0]);
    expect(parses).toBe(3);
  });
});
