/**
 * A process of its own that appends to the read log of a shared database, as a worker
 * of an API cluster does: `node read-log-appender.js <database JSON> <label> <rounds>
 * <per round>`. Once its database is open it says `ready` to its parent and waits for
 * `go`, so that all start together; each round appends `per round` entries at once (one
 * group commit in this process), with a pause of a few milliseconds between rounds, so
 * the processes' transactions interleave. Exits 0 once every append has committed, 1
 * with the error otherwise.
 */
import type { ApiConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { ReadLog } from '../audit/read-log.js';

const [databaseJson, label, roundsText, perRoundText] = process.argv.slice(2);
const database = JSON.parse(databaseJson ?? '') as ApiConfig['database'];
const rounds = Number(roundsText);
const perRound = Number(perRoundText);
const db = await openDatabase(database);
try {
  const log = new ReadLog(db);
  const go = new Promise((resolve) => process.once('message', resolve));
  process.send?.('ready');
  await go;
  for (let round = 0; round < rounds; round += 1) {
    await new Promise((resolve) => setTimeout(resolve, 2 + (round % 3)));
    await Promise.all(
      Array.from({ length: perRound }, (_, n) =>
        log.append({
          at: new Date().toISOString(),
          principal: { kind: 'person', id: 'audrey', userId: 'audrey', mspId: 'AuditOrgMSP', role: 'auditor' },
          operation: `${label ?? ''} ${String(round)}/${String(n)}`,
          argumentsSha256: 'a'.repeat(64),
          kinds: ['agreement'],
          organisations: ['ClientOrgMSP'],
          resultCount: 1,
          status: 200,
          grants: ['AG-1'],
        }),
      ),
    );
  }
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await db.destroy();
  process.disconnect();
}
