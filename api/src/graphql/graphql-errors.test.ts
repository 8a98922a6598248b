import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
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
    const refused = graphqlErrorOf(context, new ApiError(422, 'VALIDATION_FAILED', 'after: is not a cursor', 'after'));
    expect(refused.extensions.http).toBeUndefined();
  });
});
