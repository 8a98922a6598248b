import { AgreementKit } from '../test-support/agreement-test-kit.js';

interface ErrorResponse {
  status?: number;
  code?: string;
  field?: string;
  requestId?: string;
}

describe('path parameters that are not valid percent-encoding', () => {
  let kit: AgreementKit;

  beforeAll(async () => {
    kit = await AgreementKit.start();
  });

  afterAll(async () => {
    await kit.close();
  });

  it.each([
    ['GET', '/v1/agreements/%E0%A4%A', 'path.agreementId'],
    ['POST', '/v1/agreements/%E0%A4%A/accept', 'path.agreementId'],
    ['POST', '/v1/agreements/A-001/milestones/%FF/fund', 'path.milestoneId'],
    ['GET', '/v1/agreements/A-001/milestones/m1%/history', 'path.milestoneId'],
    ['GET', '/v1/reputation/ClientOrgMSP/%C3', 'path.userId'],
    ['DELETE', '/v1/admin/api-keys/%E0%A4%A/', 'path.keyId'],
    ['GET', '/V1/CREDENTIALS/%E0%A4%A', 'path.credentialId'],
    ['POST', '/v1/settlement/callbacks/%E0%A4%A', 'path.provider'],
  ])('%s %s answers 400 naming %s, to anonymous and known callers alike', async (method, path, field) => {
    const before = kit.mark();
    for (const credential of [{}, { token: kit.cast.client.token }, { apiKey: kit.cast.hrKey }]) {
      const response = await kit.server.request(method, path, {
        ...credential,
        ...(method === 'POST' ? { body: { requestId: 'req-path-parameters-1' } } : {}),
      });
      const body = response.body as ErrorResponse;
      expect([response.status, body.code, body.field]).toEqual([400, 'MALFORMED_REQUEST', field]);
      expect(body.requestId).toBe(response.headers.get('x-request-id'));
    }
    expect(kit.mark()).toEqual(before);
  });

  it('still answers a route it does not know with 404, and a decodable parameter as before', async () => {
    const unknown = await kit.server.request('GET', '/v1/no-such-thing/%E0%A4%A');
    expect([unknown.status, (unknown.body as ErrorResponse).code]).toEqual([404, 'ROUTE_NOT_FOUND']);
    const missing = await kit.server.request('GET', '/v1/agreements/A-%39%39%39', { token: kit.cast.client.token });
    expect(missing.status).toBe(404);
  });
});
