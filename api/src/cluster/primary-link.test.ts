import { describe, expect, it } from '@jest/globals';
import {
  CommitStatusUnknownError,
  EndorsementError,
  EvaluationError,
  PeersBusyError,
  SubmissionError,
} from '@gigledger/gateway';
import { errorBody } from '../errors/error-handler.js';
import { rebuildError } from './primary-link.js';

describe("a worker rebuilding the primary's ledger errors", () => {
  it('keeps the class of every ledger error the error handler tells apart, so the answer is the same', () => {
    for (const failure of [
      new PeersBusyError('waited 10000 ms for a free slot', { transactionId: 'tx-1' }),
      new EvaluationError('peer down'),
      new EndorsementError('peers down', { transactionId: 'tx-2', organisations: ['TalentOrgMSP'] }),
      new SubmissionError('orderers down', { transactionId: 'tx-3' }),
      new CommitStatusUnknownError('timed out', { transactionId: 'tx-4' }),
    ]) {
      const rebuilt = rebuildError({
        name: failure.name,
        message: failure.message,
        detail: {
          transactionId: failure.transactionId,
          ...(failure instanceof EndorsementError ? { organisations: failure.organisations } : {}),
        },
      });
      expect(rebuilt).toBeInstanceOf(failure.constructor);
      expect(errorBody(rebuilt, 'r1')).toEqual(errorBody(failure, 'r1'));
    }
  });
});
