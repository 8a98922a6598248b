import {
  CertificateAuthorityUnavailableError,
  CommitFailedError,
  CommitStatusUnknownError,
  EndorsementError,
  EvaluationError,
  NotMemberError,
  RefusedError,
  SubmissionError,
} from '@gigledger/gateway';
import { errorBody } from './error-handler.js';

describe('errorBody', () => {
  it('tells the stages of a failed transaction apart, each with its transaction id', () => {
    const cases: [Error, number, string][] = [
      [new EndorsementError('peers down', { transactionId: 'tx1' }), 503, 'ENDORSEMENT_FAILED'],
      [new SubmissionError('orderers down', { transactionId: 'tx2' }), 503, 'ORDERING_FAILED'],
      [new CommitStatusUnknownError('timed out', { transactionId: 'tx3' }), 504, 'COMMIT_STATUS_UNKNOWN'],
      [new CommitFailedError('MVCC_READ_CONFLICT', { transactionId: 'tx4' }), 409, 'COMMIT_FAILED'],
    ];
    for (const [error, status, code] of cases) {
      expect(errorBody(error, 'r1')).toMatchObject({
        status,
        code,
        requestId: 'r1',
        transactionId: (error as { transactionId?: string }).transactionId,
      });
    }
  });

  it('says a failed read is a query the peers could not answer, not a transaction they could not endorse', () => {
    expect(errorBody(new EvaluationError('peer down'), 'r1')).toEqual({
      status: 503,
      code: 'ENDORSEMENT_FAILED',
      message: 'the peers could not answer the query; try again',
      requestId: 'r1',
    });
    expect(errorBody(new EndorsementError('peers down'), 'r1')).toMatchObject({
      message: 'the peers could not endorse the transaction',
    });
  });

  it("answers the peers' refusal of a removed organisation's identity as 403 ORGANISATION_NOT_MEMBER, not a retryable 503", () => {
    expect(
      errorBody(
        new NotMemberError('access denied: channel [gigledger] creator org unknown', { transactionId: 'tx5' }),
        'r1',
      ),
    ).toMatchObject({ status: 403, code: 'ORGANISATION_NOT_MEMBER', requestId: 'r1', transactionId: 'tx5' });
  });

  it('answers 503 when an organisation CA does not answer, so a client retries instead of reporting a bug', () => {
    expect(errorBody(new CertificateAuthorityUnavailableError('ca-clientorg'), 'r1')).toEqual({
      status: 503,
      code: 'CA_UNAVAILABLE',
      message: "the organisation's certificate authority did not answer; try again",
      requestId: 'r1',
    });
  });

  it('keeps a chaincode refusal’s code and sentence, with the status of its kind', () => {
    expect(
      errorBody(
        new RefusedError({ code: 'INVALID_STATE', message: 'milestone m2 of A-17 is funded, not submitted' }),
        'r2',
      ),
    ).toEqual({
      status: 409,
      code: 'INVALID_STATE',
      message: 'milestone m2 of A-17 is funded, not submitted',
      requestId: 'r2',
    });
    expect(errorBody(new RefusedError({ code: 'NOT_FOUND', message: 'no agreement A-1' }), 'r3').status).toBe(404);
    expect(
      errorBody(new RefusedError({ code: 'VALIDATION_FAILED', message: 'amount: bad', field: 'amount' }), 'r4'),
    ).toMatchObject({
      status: 422,
      field: 'amount',
    });
  });

  it('answers anything unexpected with a 500 that says nothing of the cause', () => {
    const body = errorBody(new Error('connection string postgres://secret@db'), 'r5');
    expect(body).toEqual({
      status: 500,
      code: 'INTERNAL',
      message: 'an unexpected error occurred; quote the request id',
      requestId: 'r5',
    });
  });
});
