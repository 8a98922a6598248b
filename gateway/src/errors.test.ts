import { refusalIn } from './errors.js';

describe('refusalIn', () => {
  it("reads a refusal from a peer's detail before the error's own message", () => {
    const error = Object.assign(new Error('failed to endorse transaction, see attached details for more info'), {
      details: [
        { address: 'peer0', message: 'chaincode response 500, something else went wrong' },
        { address: 'peer1', message: 'chaincode response 500, ALREADY_EXISTS[agreementId]: agreement A-1 exists' },
      ],
    });
    expect(refusalIn(error)).toEqual({ code: 'ALREADY_EXISTS', field: 'agreementId', message: 'agreement A-1 exists' });
  });

  it('reads a refusal from the message when no detail carries one', () => {
    expect(refusalIn(new Error('chaincode response 500, INVALID_STATE: milestone m1 is paid'))).toEqual({
      code: 'INVALID_STATE',
      message: 'milestone m1 is paid',
    });
  });

  it('finds nothing in errors without a refusal code, nor in what is not an Error', () => {
    expect(refusalIn(new Error('UNAVAILABLE: no peer answered'))).toBeUndefined();
    expect(refusalIn(Object.assign(new Error('failed'), { details: [{ address: 'peer0' }] }))).toBeUndefined();
    expect(refusalIn('FORBIDDEN: a string, not an error')).toBeUndefined();
  });
});
