import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { CommitStatusUnknownError, PeersBusyError } from '@gigledger/gateway';
import { ApiError } from '../errors/api-error.js';
import { graphqlErrorOf, type GraphqlContext } from './context.js';

const context = { requestId: 'r-1', log: pino({ level: 'silent' }) } as unknown as GraphqlContext;

describe('GraphQL errors at the HTTP level', () => {
  it('says Retry-After for a passing failure of the peers, keeping GraphQL status, and nothing for a refusal', () => {
    const busy = graphqlErrorOf(
      context,
      new ApiError(503, 'ENDORSEMENT_FAILED', 'the peers could not answer; try again'),
    );
    expect(busy.extensions).toMatchObject({
      code: 'ENDORSEMENT_FAILED',
      status: 503,
      http: { headers: { 'retry-after': '1' } },
    });
    expect((busy.extensions.http as { status?: number }).status).toBeUndefined();
    const shed = graphqlErrorOf(context, new PeersBusyError('waited 10000 ms for a free slot'));
    expect(shed.extensions).toMatchObject({ code: 'PEERS_BUSY', http: { headers: { 'retry-after': '5' } } });
    const unknown = graphqlErrorOf(context, new CommitStatusUnknownError('commit not seen', { transactionId: 'tx-1' }));
    expect(unknown.extensions).toMatchObject({
      code: 'COMMIT_STATUS_UNKNOWN',
      status: 504,
      http: { headers: { 'retry-after': '5' } },
    });
    const refused = graphqlErrorOf(context, new ApiError(422, 'VALIDATION_FAILED', 'after: is not a cursor', 'after'));
    expect(refused.extensions.http).toBeUndefined();
  });
});
