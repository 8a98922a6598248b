import { pino } from 'pino';
import { startTestServer, testOperator } from '../test-support/test-server.js';
import { ReadLog, type ReadLogEntry } from './read-log.js';
import { ReadLogAnchorer } from './read-log-anchorer.js';

const entry = (n: number): ReadLogEntry => ({
  at: new Date(Date.UTC(2026, 11, 2, 0, 0, n)).toISOString(),
  principal: { kind: 'user', id: 'anchor-auditor', userId: 'anchor-auditor', mspId: 'AuditOrgMSP', role: 'auditor' },
  operation: 'graphql query __typename',
  argumentsSha256: '0'.repeat(64),
  kinds: [],
  organisations: [],
  resultCount: 0,
  status: 200,
  grants: [],
});

/**
 * A test server, its read log, and a maker of anchorers over it under the service
 * identity: each new anchorer is a process that has not anchored anything yet.
 */
async function anchoring() {
  const server = await startTestServer();
  const silent = pino({ level: 'silent' });
  const ledger = await server.ledger.clientFor(
    { ...testOperator, id: 'read-log-anchor', userId: 'svc.read-log-anchor', role: 'settlement' },
    silent,
  );
  return {
    server,
    readLog: new ReadLog(server.db),
    anchorer: () => new ReadLogAnchorer({ readLog: new ReadLog(server.db), ledger, log: silent, intervalMs: 0 }),
  };
}

describe('ReadLogAnchorer', () => {
  it('answers a retry the anchor its request id made, after the log grew and after a restart (a new anchorer on the same database)', async () => {
    const { server, readLog, anchorer } = await anchoring();
    try {
      expect(await anchorer().anchorRequested('before-any-read')).toBeUndefined();
      await readLog.append(entry(1));
      await readLog.append(entry(2));
      const first = await anchorer().anchorRequested('anchor-after-two');
      expect(first?.result).toMatchObject({ sequence: 2 });

      await readLog.append(entry(3));
      // A restarted server holds nothing in memory: a new anchorer over the same database.
      const retried = await anchorer().anchorRequested('anchor-after-two');
      expect(retried?.result).toEqual(first?.result);

      const newer = await anchorer().anchorRequested('anchor-after-three');
      expect(newer?.result).toMatchObject({ sequence: 3 });
      // An id first used on an empty log keeps nothing: it anchors the head it finds now.
      expect((await anchorer().anchorRequested('before-any-read'))?.result).toMatchObject({ sequence: 3 });
    } finally {
      await server.close();
    }
  });

  it('anchorNow: a fresh anchorer (the anchor-read-log command) finds a head anchored before and anchors nothing', async () => {
    const { server, readLog, anchorer } = await anchoring();
    try {
      await readLog.append(entry(1));
      const anchored = await anchorer().anchorNow();
      expect(anchored).toMatchObject({ sequence: 1 });
      // Another process: it knows nothing of the anchor above until the chaincode answers with it.
      expect(await anchorer().anchorNow()).toBeUndefined();
      await readLog.append(entry(2));
      const next = await anchorer().anchorNow();
      expect(next).toMatchObject({ sequence: 2 });
      expect(next?.txId).not.toBe(anchored?.txId);
    } finally {
      await server.close();
    }
  });
});
