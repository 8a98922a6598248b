import { iso4217Currencies } from '@gigledger/chaincode/model';
import { suiteServer } from '../test-support/suite-server.js';

describe('the ledger currency table', () => {
  const server = suiteServer();

  it("gives anyone the ledger's ISO 4217 exponents, which differ from the browser's for some codes", async () => {
    const answer = await server().request('GET', '/v1/system/currencies');
    expect(answer.status).toBe(200);
    const table = answer.body as { code: string; minorUnitExponent: number }[];
    expect(table).toHaveLength(Object.keys(iso4217Currencies).length);
    expect(table).toEqual(
      expect.arrayContaining([
        { code: 'EUR', minorUnitExponent: 2 },
        { code: 'JPY', minorUnitExponent: 0 },
        { code: 'KWD', minorUnitExponent: 3 },
        // Intl says 0 for both; ISO 4217 says 2 and 3.
        { code: 'HUF', minorUnitExponent: 2 },
        { code: 'IQD', minorUnitExponent: 3 },
      ]),
    );
  });
});
