import { RefusedError } from '@gigledger/gateway';
import { ApiError } from '../errors/api-error.js';
import { refusalsUnderSentParts } from './refusal-fields.js';

const refusedAt = (field: string) =>
  new RefusedError({ code: 'VALIDATION_FAILED', message: `${field}: is not a member organisation`, field });

const sent = {
  body: { subject: { mspId: 'GhostOrgMSP', userId: 'tara' }, type: 'KYC' },
  params: { agreementId: 'A-1' },
  query: { as: 'issuer' },
};

describe('refusalsUnderSentParts', () => {
  it.each([
    ['subject.mspId', 'body.subject.mspId'],
    ['agreementId', 'path.agreementId'],
    ['as', 'query.as'],
  ])('names a chaincode refusal of %s under the part the caller sent it in: %s', async (field, named) => {
    const refusal = refusalsUnderSentParts(sent, () => Promise.reject(refusedAt(field)));
    await expect(refusal).rejects.toBeInstanceOf(ApiError);
    await expect(refusal).rejects.toMatchObject({
      status: 422,
      code: 'VALIDATION_FAILED',
      field: named,
      message: `${named}: is not a member organisation`,
    });
  });

  it("renames the server's own refusal in its message as well as its field, keeping its status", async () => {
    const own = new ApiError(422, 'VALIDATION_FAILED', 'scopes: role hr cannot hold scope admin', 'scopes');
    await expect(
      refusalsUnderSentParts({ body: { scopes: ['admin'] } }, () => Promise.reject(own)),
    ).rejects.toMatchObject({
      status: 422,
      field: 'body.scopes',
      message: 'body.scopes: role hr cannot hold scope admin',
    });
    const conflict = new ApiError(409, 'NAME_TAKEN', 'the name is taken', 'name');
    await expect(refusalsUnderSentParts({ body: { name: 'x' } }, () => Promise.reject(conflict))).rejects.toMatchObject(
      {
        status: 409,
        field: 'body.name',
        message: 'the name is taken',
      },
    );
  });

  it('leaves a field nobody sent as the chaincode named it, and other refusals as they are', async () => {
    const unnamed = refusedAt('requestId');
    await expect(refusalsUnderSentParts(sent, () => Promise.reject(unnamed))).rejects.toBe(unnamed);
    const state = new RefusedError({ code: 'INVALID_STATE', message: 'already accepted' });
    await expect(refusalsUnderSentParts(sent, () => Promise.reject(state))).rejects.toBe(state);
    const named = new ApiError(422, 'VALIDATION_FAILED', 'input.subject: bad', 'input.subject');
    await expect(refusalsUnderSentParts(sent, () => Promise.reject(named))).rejects.toBe(named);
    await expect(refusalsUnderSentParts(sent, () => Promise.resolve(7))).resolves.toBe(7);
  });
});
