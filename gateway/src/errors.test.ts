import { isNonMemberRefusal, refusalIn } from './errors.js';

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

describe('isNonMemberRefusal', () => {
  it("recognises the peers' refusal of a creator whose organisation left the channel, in a detail or the message", () => {
    const endorse = Object.assign(new Error('failed to endorse transaction, see attached details for more info'), {
      details: [
        { address: 'peer0', message: 'access denied: channel [gigledger] creator org unknown, creator is malformed' },
      ],
    });
    expect(isNonMemberRefusal(endorse)).toBe(true);
    expect(isNonMemberRefusal(new Error('access denied: channel [gigledger] creator org [LabelOrgMSP]'))).toBe(true);
  });

  it('leaves other endorsement failures and chaincode refusals alone', () => {
    expect(isNonMemberRefusal(new Error('UNAVAILABLE: no peer answered'))).toBe(false);
    expect(isNonMemberRefusal(new Error('chaincode response 500, FORBIDDEN: only the client may fund'))).toBe(false);
    expect(isNonMemberRefusal('access denied: channel [x] creator org unknown')).toBe(false);
  });
});
