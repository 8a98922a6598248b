import { createRequire } from 'node:module';

/** The part of @fidm/x509's `Certificate` class this module relies on. */
interface CertificateClass {
  fromPEM(pem: Buffer | string): unknown;
  [memoised]?: true;
}

const memoised = Symbol.for('gigledger.parsedCertificates');

/**
 * Makes fabric-shim parse each distinct creator certificate once per chaincode server
 * rather than once per invocation.
 *
 * fabric-shim builds a new `ClientIdentity` for every invocation, before the contract
 * runs, and its constructor parses the creator's PEM certificate with @fidm/x509
 * (`Certificate.fromPEM`: base64, then ASN.1). A profile of the chaincode server on the
 * agreement workload put that at 7–8% of its CPU, and a transaction is endorsed by two
 * peers, so it runs twice per transaction: about 0.16 ms each time against 0.04 ms with
 * the parse reused (bench/README.md, "Cheaper commands end to end"). The callers of a
 * consortium are few and call again and again, so the parsed certificate is kept per PEM
 * text; the same text always parses to the same certificate, so identities, attributes
 * and every authorisation decision are as before. `ClientIdentity` only reads the parsed
 * certificate (subject, issuer, extensions), so one object serves every invocation.
 *
 * The chaincode's own code reads the identity fabric-shim built (`ctx.clientIdentity`)
 * once per transaction (`txOf`) and never parses a certificate itself.
 *
 * @param limit How many distinct certificates are kept; beyond it the oldest is dropped.
 * @returns whether this call installed the reuse (false when it already was).
 */
export function reuseParsedCertificates(limit = 1024): boolean {
  const fromShim = createRequire(require.resolve('fabric-shim'));
  const { Certificate } = fromShim('@fidm/x509') as { Certificate: CertificateClass };
  if (Certificate[memoised]) return false;
  const parse = Certificate.fromPEM.bind(Certificate);
  const parsed = new Map<string, unknown>();
  Certificate.fromPEM = (pem: Buffer | string): unknown => {
    const text = typeof pem === 'string' ? pem : pem.toString('latin1');
    const known = parsed.get(text);
    if (known !== undefined) return known;
    const certificate = parse(pem);
    if (parsed.size >= limit) parsed.delete(parsed.keys().next().value as string);
    parsed.set(text, certificate);
    return certificate;
  };
  Certificate[memoised] = true;
  return true;
}
