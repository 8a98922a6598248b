import type { MilestoneRecord } from '@gigledger/chaincode/model';
import { AgreementKit, newRequestId, type Person, type Target } from '../test-support/agreement-test-kit.js';
import { firstErrorField } from '../test-support/party-refusals.js';
import { SseSubscription } from '../test-support/sse-subscription.js';

interface ListedDispute {
  agreement: { agreementId: string };
  milestone: MilestoneRecord;
}

describe('the disputes an arbitrator was drawn for, over REST and GraphQL', () => {
  let kit: AgreementKit;
  let open: Target;
  let decided: Target;

  beforeAll(async () => {
    // A server of its own: the arbitrators sit on every panel drawn here, and on no other.
    kit = await AgreementKit.start();
    open = await kit.disputed();
    decided = await kit.disputed();
    const vote = { escrowAmount: '150000', clientShare: '50000', freelancerShare: '100000', reason: 'Half met' };
    for (const arbitrator of kit.cast.arbitrators.slice(0, 2)) {
      const answer = await kit.server.request(
        'POST',
        `/v1/agreements/${decided.agreementId}/milestones/${decided.milestoneId}/dispute/votes`,
        { token: arbitrator.token, body: { requestId: newRequestId(), ...vote } },
      );
      expect(answer.status).toBe(200);
    }
  });

  afterAll(async () => {
    await kit.close();
  });

  const rest = (as: Person, query = '') => kit.server.request('GET', `/v1/disputes${query}`, { token: as.token });
  const graphql = (as: Person, query: string, variables: Record<string, unknown> = {}) =>
    kit.server.request('POST', '/graphql', { token: as.token, body: { query, variables } });
  const named = (items: ListedDispute[]) =>
    items.map(({ agreement, milestone }) => `${agreement.agreementId}/${milestone.milestoneId}:${milestone.status}`);

  it('lists every panel member the disputes they were drawn for, open or decided, with the votes so far', async () => {
    const both = [`${open.agreementId}/m1:disputed`, `${decided.agreementId}/m1:resolved`];
    for (const arbitrator of kit.cast.arbitrators) {
      const all = await rest(arbitrator);
      expect(all.status).toBe(200);
      expect(named(all.body as ListedDispute[])).toEqual(both);
      expect(named((await rest(arbitrator, '?decided=false')).body as ListedDispute[])).toEqual([both[0]]);
      expect(named((await rest(arbitrator, '?decided=true')).body as ListedDispute[])).toEqual([both[1]]);
    }
    const [, decidedItem] = (await rest(kit.cast.arbitrators[2])).body as ListedDispute[];
    expect(decidedItem?.milestone.dispute).toMatchObject({
      openedBy: 'freelancer',
      votes: [{ clientShare: '50000' }, { clientShare: '50000' }],
      decision: { clientShare: '50000', freelancerShare: '100000' },
    });
  });

  it('pages with a next link whose cursor the list itself names when it is not its own', async () => {
    const first = await rest(kit.cast.arbitrators[0], '?first=1');
    expect(named(first.body as ListedDispute[])).toEqual([`${open.agreementId}/m1:disputed`]);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1];
    expect(next).toMatch(/^\/v1\/disputes\?first=1&after=/);
    const second = await kit.server.request('GET', next!, { token: kit.cast.arbitrators[0].token });
    expect(named(second.body as ListedDispute[])).toEqual([`${decided.agreementId}/m1:resolved`]);

    const foreign = await rest(kit.cast.arbitrators[0], '?after=bm90LW9uZS1vZi1vdXJz');
    expect([foreign.status, (foreign.body as { field?: string }).field]).toEqual([422, 'query.after']);
  });

  it('refuses a caller who is not an arbitrator, and a filter that is not true or false, naming it', async () => {
    for (const caller of [kit.cast.client, kit.cast.freelancer, kit.cast.auditor]) {
      const refused = await rest(caller);
      expect([refused.status, (refused.body as { code: string }).code]).toEqual([403, 'FORBIDDEN']);
      expect((refused.body as { message: string }).message).toMatch(/^only role arbitrator may list the disputes/);
    }
    const wrongFilter = await rest(kit.cast.arbitrators[0], '?decided=yes');
    expect([wrongFilter.status, (wrongFilter.body as { field?: string }).field]).toEqual([422, 'query.decided']);
  });

  it('answers the same list over GraphQL, with each agreement readable as a node', async () => {
    const document = `query ($decided: Boolean, $first: Int, $after: String) {
      panelDisputePage(decided: $decided, first: $first, after: $after) {
        items { agreement { agreementId title status } milestone { milestoneId status dispute { votes { clientShare } decision { clientShare } } } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    const answer = await graphql(kit.cast.arbitrators[1], document, { first: 1 });
    const page = (
      answer.body as {
        data: {
          panelDisputePage: {
            items: { agreement: { agreementId: string; title: string }; milestone: { status: string } }[];
            pageInfo: { hasNextPage: boolean; endCursor: string };
          };
        };
      }
    ).data.panelDisputePage;
    expect(page.items).toEqual([
      {
        agreement: { agreementId: open.agreementId, title: expect.any(String) as string, status: 'active' },
        milestone: { milestoneId: 'm1', status: 'disputed', dispute: { votes: [], decision: null } },
      },
    ]);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const rest = await graphql(kit.cast.arbitrators[1], document, { first: 1, after: page.pageInfo.endCursor });
    expect(rest.body).toMatchObject({
      data: { panelDisputePage: { items: [{ agreement: { agreementId: decided.agreementId } }] } },
    });

    const decidedOnly = await graphql(
      kit.cast.arbitrators[2],
      'query { panelDisputes(decided: true) { agreement { agreementId } } }',
    );
    expect(decidedOnly.body).toEqual({
      data: { panelDisputes: [{ agreement: { agreementId: decided.agreementId } }] },
    });

    const refused = await graphql(kit.cast.client, 'query { panelDisputes { agreement { agreementId } } }');
    expect(refused.body).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN', status: 403 } }] });
    const badCursor = await graphql(
      kit.cast.arbitrators[0],
      'query { panelDisputes(after: "bm90LW91cnM") { agreement { agreementId } } }',
    );
    expect(firstErrorField(badCursor.body)).toBe('after');
  });

  it('shows every vote cast on a dispute, those an arbitrator changed among the superseded ones', async () => {
    const voteOn = (clientShare: string) =>
      kit.server.request('POST', `/v1/agreements/${open.agreementId}/milestones/${open.milestoneId}/dispute/votes`, {
        token: kit.cast.arbitrators[2].token,
        body: {
          requestId: newRequestId(),
          escrowAmount: '150000',
          clientShare,
          freelancerShare: String(150000 - Number(clientShare)),
          reason: 'Weighing the delivery',
        },
      });
    expect((await voteOn('10000')).status).toBe(200);
    expect((await voteOn('20000')).status).toBe(200);
    const answer = await graphql(
      kit.cast.arbitrators[0],
      'query { panelDisputes(decided: false) { milestone { dispute { votes { clientShare } supersededVotes { clientShare arbitrator { userId } } } } } }',
    );
    expect(answer.body).toEqual({
      data: {
        panelDisputes: [
          {
            milestone: {
              dispute: {
                votes: [{ clientShare: '20000' }],
                supersededVotes: [{ clientShare: '10000', arbitrator: { userId: 'arb-cyd' } }],
              },
            },
          },
        ],
      },
    });
  });
});

describe('an arbitrator following a dispute’s agreement', () => {
  let kit: AgreementKit;

  beforeAll(async () => {
    kit = await AgreementKit.start();
  });

  afterAll(async () => {
    await kit.close();
  });

  it('loses the live events with the agreement once governance removes them, as a read would', async () => {
    const disputed = await kit.disputed();
    const arbitrator = kit.cast.arbitrators[2];
    const subscription = await SseSubscription.open(
      kit.server.url,
      `subscription { agreementEvents(agreementId: "${disputed.agreementId}") { name agreementId } }`,
      { authorization: `Bearer ${arbitrator.token}` },
    );
    const publish = (n: number) => {
      kit.server.events.publish({
        name: 'agreement.DeliverableSubmitted',
        transactionId: `tx-panel-${String(n)}`,
        blockNumber: BigInt(700 + n),
        payload: {
          agreementId: disputed.agreementId,
          at: new Date().toISOString(),
          txId: `tx-panel-${String(n)}`,
          actor: { mspId: 'TalentOrgMSP', userId: 'tom', role: 'freelancer' },
          settlementRequests: [],
        },
      });
    };
    try {
      publish(1);
      expect(await subscription.next(5000)).toMatchObject({
        data: { agreementEvents: { name: 'agreement.DeliverableSubmitted', agreementId: disputed.agreementId } },
      });
      await kit.server.genesis([
        { type: 'removeArbitrator', arbitrator: arbitrator.party, reason: 'Conflict of interest declared' },
      ]);
      publish(2);
      const last = (await subscription.next(5000)) as {
        errors?: { message: string; extensions?: { code?: string; field?: string } }[];
      };
      expect(last.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'agreementId' });
      expect(JSON.stringify(last)).not.toContain('tx-panel-2');
      expect(await subscription.next(2000)).toBeUndefined();
    } finally {
      subscription.close();
    }
  });
});
