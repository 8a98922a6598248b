import {
  AgreementDriver,
  agreementId,
  client,
  draftRequest,
  freelancer,
  terms,
} from '../test-support/agreement-fixtures';
import { CredentialDriver, credentialId, degreeClaims } from '../test-support/credential-fixtures';

/*
 * Whatever is hashed, fingerprinted or stored must reach the ledger exactly as sent, or
 * not at all: a `__proto__` key (which zod and object assignment drop) or a lone
 * surrogate (which UTF-8 turns into U+FFFD) is refused, naming the field.
 */

/** JSON text whose object at `path` holds an own `__proto__` key, which no object literal can express. */
function withProtoKey(value: unknown, path: readonly string[]): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  let target = copy;
  for (const key of path) target = target[key] as Record<string, unknown>;
  Object.defineProperty(target, '__proto__', {
    value: { admin: true },
    enumerable: true,
    configurable: true,
    writable: true,
  });
  return copy;
}

const protoMessage = 'the key __proto__ cannot be encoded canonically';
const surrogateMessage = 'is not well-formed Unicode (it holds a lone surrogate)';

describe('canonical encoding of chaincode arguments', () => {
  let driver: AgreementDriver;

  beforeEach(async () => {
    driver = new AgreementDriver();
    await driver.setParameters();
  });

  it('refuses a __proto__ key in a transaction argument, naming its path, writing nothing', async () => {
    const request = withProtoKey(draftRequest(driver.ledger), ['client']);
    expect(JSON.stringify(request)).toContain('"__proto__"');
    await driver.expectRefusal(
      () => driver.draft(request as Record<string, unknown>),
      `VALIDATION_FAILED[client.__proto__]: client.__proto__: ${protoMessage}`,
    );
  });

  it('refuses a lone surrogate in a transaction argument, naming its path, writing nothing', async () => {
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger, { title: 'Defect classifier \ud800' })),
      `VALIDATION_FAILED[title]: title: ${surrogateMessage}`,
    );
    const milestones = draftRequest(driver.ledger).milestones as Record<string, unknown>[];
    await driver.expectRefusal(
      () =>
        driver.draft(
          draftRequest(driver.ledger, {
            milestones: milestones.map((milestone, index) =>
              index === 1 ? { ...milestone, title: '\udc00' } : milestone,
            ),
          }),
        ),
      `VALIDATION_FAILED[milestones.1.title]: milestones.1.title: ${surrogateMessage}`,
    );
  });

  it('refuses confidential terms holding a __proto__ key or a lone surrogate, naming the field', async () => {
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger), client, withProtoKey(terms, ['personalData'])),
      `VALIDATION_FAILED[terms.personalData.__proto__]: terms.personalData.__proto__: ${protoMessage}`,
    );
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger), client, { ...terms, scope: 'Label \ud83d images' }),
      `VALIDATION_FAILED[terms.scope]: terms.scope: ${surrogateMessage}`,
    );
  });

  it('refuses a terms document to verify that could not be hashed as sent', async () => {
    await driver.draft();
    await driver.accept();
    const verify = (document: unknown) => () =>
      driver.call(freelancer, (c, ctx) => c.verifyTerms(ctx, JSON.stringify({ agreementId, terms: document })));
    await driver.expectRefusal(
      verify(withProtoKey(terms, ['personalData'])),
      `VALIDATION_FAILED[terms.personalData.__proto__]: terms.personalData.__proto__: ${protoMessage}`,
    );
    await driver.expectRefusal(
      verify({ ...terms, additionalTerms: '\ud800' }),
      `VALIDATION_FAILED[terms.additionalTerms]: terms.additionalTerms: ${surrogateMessage}`,
    );
  });

  it('refuses credential claims holding a __proto__ key or a lone surrogate, naming the field', async () => {
    const credentials = new CredentialDriver(driver.ledger);
    await credentials.issuers();
    const claims = JSON.parse(JSON.stringify(degreeClaims)) as Record<string, unknown>[];
    await credentials.expectRefusal(
      () => credentials.issue(credentials.issueRequest(), withProtoKey(claims, ['0'])),
      `VALIDATION_FAILED[claims.0.__proto__]: claims.0.__proto__: ${protoMessage}`,
    );
    await credentials.expectRefusal(
      () => credentials.issue(credentials.issueRequest(), [{ ...claims[0], value: 'MSc \udfff' }]),
      `VALIDATION_FAILED[claims.0.value]: claims.0.value: ${surrogateMessage}`,
    );
    await credentials.expectRefusal(
      () =>
        credentials.call(client, (c, ctx) =>
          c.verifyPresentation(
            ctx,
            JSON.stringify({ credentialId, revealedClaims: [{ ...degreeClaims[0], value: 'MSc \ud800' }] }),
          ),
        ),
      `VALIDATION_FAILED[revealedClaims.0.value]: revealedClaims.0.value: ${surrogateMessage}`,
    );
  });

  it('refuses control and bidirectional formatting characters in arguments and transient data, naming the field', async () => {
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger, { title: 'Invoice \u202Egnp.exe' })),
      'VALIDATION_FAILED[title]: title: holds U+202E, a bidirectional formatting character, which could make the text display otherwise than it is stored',
    );
    await driver.expectRefusal(
      () => driver.draft(draftRequest(driver.ledger), client, { ...terms, scope: 'Label\u0000images' }),
      'VALIDATION_FAILED[terms.scope]: terms.scope: holds U+0000, a control character (only tab, line feed and carriage return are allowed)',
    );
    const credentials = new CredentialDriver(driver.ledger);
    await credentials.issuers();
    await credentials.expectRefusal(
      () => credentials.issue(credentials.issueRequest(), [{ ...degreeClaims[0], value: 'MSc\u0007' }]),
      'VALIDATION_FAILED[claims.0.value]: claims.0.value: holds U+0007, a control character (only tab, line feed and carriage return are allowed)',
    );
    // An evaluation stores nothing: terms re-sent to be verified are checked as sent.
    await driver.draft();
    await driver.accept();
    const verdict = (await driver.call(freelancer, (c, ctx) =>
      c.verifyTerms(ctx, JSON.stringify({ agreementId, terms: { ...terms, scope: 'Label\u0007images' } })),
    )) as unknown;
    expect(verdict).toMatchObject({ matches: false });
    // Multi-line text keeps its line breaks and tabs.
    await driver.draft(draftRequest(driver.ledger, { agreementId: 'A-lines', requestId: 'draft-lines' }), client, {
      ...terms,
      scope: 'Label images:\n\t- cats\r\n\t- dogs',
    });
  });
});
