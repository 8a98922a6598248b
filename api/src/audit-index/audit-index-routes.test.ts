import { suiteServer } from '../test-support/suite-server.js';

describe('GET /v1/index/transactions/{transactionId}', () => {
  const server = suiteServer();

  it('answers 422 naming path.transactionId for an id that is no Fabric transaction id, as the proofs do', async () => {
    const admin = await server().person('index-ops', 'AuditOrg', 'admin');
    const answer = await server().request('GET', '/v1/index/transactions/XYZ', { token: admin.token });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'path.transactionId' });
    const unknown = await server().request('GET', `/v1/index/transactions/${'a'.repeat(64)}`, { token: admin.token });
    expect(unknown.status).toBe(404);
  });
});
