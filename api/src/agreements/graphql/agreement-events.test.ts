import { AgreementKit, newRequestId, termsSha256, type Person } from '../agreement-test-kit.js';

interface EventMessage {
  name: string;
  agreementId: string;
  transactionId: string;
  blockNumber: string;
  actor: { mspId: string; userId?: string; role?: string };
  settlementRequests: { kind: string; amount: string; status: string }[];
  payload: { milestone?: { status: string } };
}

interface StreamedResult {
  data?: { agreementEvents: EventMessage } | null;
  errors?: { message: string; extensions?: { code?: string; status?: number } }[];
}

/**
 * A GraphQL subscription over server-sent events, read as the fetch arrives. The fetch
 * resolves once the server has answered with its headers, which it does only after
 * the subscription resolver has run.
 */
class EventStream {
  readonly #controller: AbortController;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = '';

  private constructor(controller: AbortController, reader: ReadableStreamDefaultReader<Uint8Array>) {
    this.#controller = controller;
    this.#reader = reader;
  }

  static async open(url: string, as: Person | { apiKey: string }, agreementId?: string): Promise<EventStream> {
    const argument = agreementId === undefined ? '' : `(agreementId: "${agreementId}")`;
    const query = `subscription { agreementEvents${argument} { name agreementId transactionId blockNumber actor { mspId userId role } settlementRequests { kind amount status } payload } }`;
    const controller = new AbortController();
    const response = await fetch(`${url}/graphql?query=${encodeURIComponent(query)}`, {
      headers: {
        accept: 'text/event-stream',
        ...('apiKey' in as ? { 'x-api-key': as.apiKey } : { authorization: `Bearer ${as.token}` }),
      },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    if (response.body === null) throw new Error('the event stream has no body');
    return new EventStream(controller, response.body.getReader());
  }

  /** The next `next` message, or undefined when the server completes the stream. */
  async next(timeoutMs = 5000): Promise<StreamedResult | undefined> {
    const deadline = setTimeout(() => {
      this.#controller.abort();
    }, timeoutMs);
    try {
      for (;;) {
        const boundary = this.#buffer.indexOf('\n\n');
        if (boundary >= 0) {
          const block = this.#buffer.slice(0, boundary);
          this.#buffer = this.#buffer.slice(boundary + 2);
          const lines = block.split('\n');
          const event = lines
            .find((line) => line.startsWith('event:'))
            ?.slice(6)
            .trim();
          const data = lines
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (event === 'complete') return undefined;
          if (event === 'next') return JSON.parse(data) as StreamedResult;
          continue; // A keep-alive comment.
        }
        const chunk = await this.#reader.read();
        if (chunk.done) return undefined;
        this.#buffer += this.#decoder.decode(chunk.value, { stream: true });
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  close(): void {
    this.#controller.abort();
  }
}

describe('agreement event subscriptions over SSE', () => {
  let kit: AgreementKit;

  beforeAll(async () => {
    kit = await AgreementKit.start();
  });

  afterAll(async () => {
    await kit.close();
  });

  const rest = async (as: Person, path: string, body: unknown) => {
    const response = await kit.server.request('POST', path, { token: as.token, body });
    expect(response.status).toBe(200);
    return response.body as { result: { instructions: { instructionId: string }[] } };
  };

  it("streams one agreement's events to a party as its transitions commit, and nothing of other agreements", async () => {
    const target = await kit.offered();
    const stream = await EventStream.open(kit.server.url, kit.cast.client, target.agreementId);
    try {
      const base = `/v1/agreements/${target.agreementId}`;
      await rest(kit.cast.freelancer, `${base}/accept`, { termsSha256 });
      await kit.offered(); // Another agreement's event, which this stream must skip.
      const funding = await rest(kit.cast.client, `${base}/milestones/m1/fund`, { requestId: newRequestId() });
      await rest(kit.cast.settlement, `${base}/milestones/m1/settlement-confirmations`, {
        instructionId: funding.result.instructions[0]?.instructionId,
        outcome: 'paid',
        providerReference: 'psp-77',
      });

      const received: EventMessage[] = [];
      for (let index = 0; index < 3; index += 1) {
        const message = await stream.next();
        expect(message?.errors).toBeUndefined();
        if (message?.data) received.push(message.data.agreementEvents);
      }
      expect(received.map((event) => [event.name, event.agreementId])).toEqual([
        ['agreement.AgreementAccepted', target.agreementId],
        ['agreement.FundingRequested', target.agreementId],
        ['agreement.SettlementConfirmed', target.agreementId],
      ]);
      expect(received[0]?.actor).toEqual({ mspId: 'TalentOrgMSP', userId: 'tom', role: 'freelancer' });
      expect(received[1]?.settlementRequests).toEqual([{ kind: 'fund_escrow', amount: '150000', status: 'pending' }]);
      expect(received[2]?.payload.milestone?.status).toBe('funded');
      const transactionIds = new Set(kit.server.ledger.ledger.transactions.map((transaction) => transaction.txId));
      for (const event of received) expect(transactionIds.has(event.transactionId)).toBe(true);
    } finally {
      stream.close();
    }
  });

  it('refuses a subscriber who may not read the agreement with NOT_FOUND, and one without agreementId unless an overseer', async () => {
    const target = await kit.offered();
    const before = kit.mark();
    const stranger = await EventStream.open(kit.server.url, kit.cast.otherClient, target.agreementId);
    const refused = await stranger.next();
    expect(refused?.errors?.[0]).toMatchObject({
      message: `agreement ${target.agreementId} does not exist or is not visible to you`,
      extensions: { code: 'NOT_FOUND', status: 404 },
    });
    expect(await stranger.next()).toBeUndefined();

    const everything = await EventStream.open(kit.server.url, kit.cast.client);
    const forbidden = await everything.next();
    expect(forbidden?.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', status: 403 });

    const hr = await EventStream.open(kit.server.url, { apiKey: kit.cast.hrKey });
    expect((await hr.next())?.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(kit.mark().writes).toBe(before.writes);
  });

  it('streams every agreement to an auditor', async () => {
    const stream = await EventStream.open(kit.server.url, kit.cast.auditor);
    try {
      const first = await kit.offered();
      const second = await kit.offered();
      const names = [(await stream.next())?.data?.agreementEvents, (await stream.next())?.data?.agreementEvents].map(
        (event) => [event?.name, event?.agreementId],
      );
      expect(names).toEqual([
        ['agreement.AgreementDrafted', first.agreementId],
        ['agreement.AgreementDrafted', second.agreementId],
      ]);
    } finally {
      stream.close();
    }
  });
});
