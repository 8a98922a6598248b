import { pino } from 'pino';
import { agreementTermsTransientKey } from '@gigledger/chaincode/model';
import { SignJWT } from 'jose';
import { SseSubscription } from '../test-support/sse-subscription.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

interface Streamed {
  data?: { agreementEvents: { name: string; agreementId: string } } | null;
  errors?: { message: string; extensions?: { code?: string; status?: number } }[];
}

const query = 'subscription { agreementEvents { name agreementId } }';

let published = 0;
function publish(server: TestServer, agreementId: string): void {
  published += 1;
  const transactionId = `tx-standing-${published}`;
  server.events.publish({
    name: 'agreement.AgreementAccepted',
    transactionId,
    blockNumber: BigInt(published),
    payload: {
      agreementId,
      at: new Date().toISOString(),
      txId: transactionId,
      actor: { mspId: 'ClientOrgMSP', userId: 'someone', role: 'client' },
      settlementRequests: [],
    },
  });
}

/**
 * Drafts `agreementId` on the server's ledger: a follower of every agreement receives
 * only the events of agreements it may read, so the published events name real ones.
 */
async function drafted(server: TestServer, agreementId: string): Promise<string> {
  const client = await server.person(`client-${agreementId.toLowerCase()}`, 'ClientOrg', 'client');
  const freelancer = await server.person(`talent-${agreementId.toLowerCase()}`, 'TalentOrg', 'freelancer');
  const ledger = await server.ledger.clientFor(client.principal, pino({ level: 'silent' }));
  await ledger.agreements.draftAgreement(
    {
      requestId: `draft-${agreementId}`,
      agreementId,
      title: `Standing ${agreementId}`,
      client: client.party,
      freelancer: freelancer.party,
      milestones: [
        {
          kind: 'deliverable',
          milestoneId: 'm1',
          title: 'Labels',
          amount: '1000',
          currency: 'EUR',
          dueDate: new Date(Date.now() + 30 * 86_400_000).toISOString(),
          reviewWindowSeconds: 3600,
          acceptanceCriteria: { description: 'Agreement with the gold set' },
        },
      ],
    },
    { transient: { [agreementTermsTransientKey]: { scope: `standing ${agreementId}`, salt: '2'.repeat(32) } } },
  );
  return agreementId;
}

async function open(server: TestServer, headers: Record<string, string>) {
  const subscription = await SseSubscription.open(server.url, query, headers);
  return {
    next: async (timeoutMs = 5000) => (await subscription.next(timeoutMs)) as Streamed | undefined,
    close: () => {
      subscription.close();
    },
  };
}

/** The stream's last message is an UNAUTHENTICATED error, and then it completes. */
async function expectEnded(stream: Awaited<ReturnType<typeof open>>, reason: RegExp): Promise<void> {
  const last = await stream.next();
  expect(last?.data?.agreementEvents ?? null).toBeNull();
  expect(last?.errors).toEqual([
    expect.objectContaining({
      message: expect.stringMatching(reason) as string,
      extensions: expect.objectContaining({ code: 'UNAUTHENTICATED', status: 401 }) as object,
    }),
  ]);
  expect(await stream.next(2000)).toBeUndefined();
}

describe('a live subscription re-checks its caller', () => {
  describe('on every event', () => {
    let server: TestServer;

    beforeAll(async () => {
      // Far longer than any test: only the check on each event can end these streams.
      server = await startTestServer({}, { recheckIntervalMs: 600_000 });
    });

    afterAll(async () => {
      await server.close();
    });

    it('ends when its API key is revoked, before the next event reaches it', async () => {
      const admin = await server.person('events-admin', 'ClientOrg', 'admin');
      const auditKey = await server.service('audit-feed', 'ClientOrg', 'settlement');
      // Drafted before the stream opens, whose first events must be the ones published here.
      const [first, second] = [await drafted(server, 'A-REVOKE-1'), await drafted(server, 'A-REVOKE-2')];
      const stream = await open(server, { 'x-api-key': auditKey.key });
      try {
        publish(server, first);
        expect((await stream.next())?.data?.agreementEvents).toEqual({
          name: 'agreement.AgreementAccepted',
          agreementId: 'A-REVOKE-1',
        });
        const revoked = await server.request('DELETE', `/v1/admin/api-keys/${auditKey.id}`, { token: admin.token });
        expect(revoked.status).toBe(200);
        publish(server, second);
        await expectEnded(stream, /API key was revoked/);
      } finally {
        stream.close();
      }
    });

    it('ends when its account is disabled, and a new one is refused', async () => {
      // A settlement identity of a settlement organisation follows every agreement.
      const follower = await server.person('events-follower', 'AuditOrg', 'settlement');
      const agreementId = await drafted(server, 'A-DISABLED-1');
      const stream = await open(server, { authorization: `Bearer ${follower.token}` });
      try {
        await server.db.updateTable('users').set({ disabled: 1 }).where('user_id', '=', 'events-follower').execute();
        publish(server, agreementId);
        await expectEnded(stream, /account is disabled/);
        await expect(open(server, { authorization: `Bearer ${follower.token}` })).rejects.toThrow(/401/);
      } finally {
        stream.close();
      }
    });
  });

  describe('while idle', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({}, { recheckIntervalMs: 200 });
    });

    afterAll(async () => {
      await server.close();
    });

    it('ends when its bearer token expires, with no event arriving', async () => {
      await server.person('short-lived', 'AuditOrg', 'admin');
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject('short-lived')
        .setIssuer('gigledger-api')
        .setAudience('gigledger')
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
        .sign(new TextEncoder().encode(server.tokenSecret));
      const stream = await open(server, { authorization: `Bearer ${token}` });
      try {
        const started = Date.now();
        await expectEnded(stream, /token has expired/);
        expect(Date.now() - started).toBeLessThan(4000);
      } finally {
        stream.close();
      }
    });

    it('ends when its account is disabled, with no event arriving', async () => {
      const follower = await server.person('idle-follower', 'AuditOrg', 'settlement');
      const agreementId = await drafted(server, 'A-IDLE-1');
      const stream = await open(server, { authorization: `Bearer ${follower.token}` });
      try {
        publish(server, agreementId);
        expect((await stream.next())?.data?.agreementEvents.agreementId).toBe('A-IDLE-1');
        await server.db.updateTable('users').set({ disabled: 1 }).where('user_id', '=', 'idle-follower').execute();
        await expectEnded(stream, /account is disabled/);
      } finally {
        stream.close();
      }
    });
  });
});
