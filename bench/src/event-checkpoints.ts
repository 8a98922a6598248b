/**
 * What following chaincode events costs the API per event with its database checkpoint:
 * `ChaincodeEventFollower` over a stand-in for the gateway's event stream (each block's
 * events arrive together, as the peer's ChaincodeEventsResponse carries them), the handler
 * doing nothing, checkpointing with the API's `DatabaseCheckpointer` into SQLite (WAL). The
 * process's CPU time (`process.cpuUsage`) and wall time per event. No network: on the shared
 * machine the API's full-stack figure moves by more than this costs.
 *
 * Usage: node bench/dist/event-checkpoints.js [--blocks 100] [--rounds 4] [--per-block 1,5,20]
 *   [--baseline <other checkout>/gateway/dist/event-follower.js]
 * With a baseline, the two builds run in turn each round, on the same database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDatabase } from '@gigledger/api/audit-index';
import { DatabaseCheckpointer } from '@gigledger/api/events/database-checkpointer';
import * as thisBuild from '@gigledger/gateway';
import type { ChaincodeEvent, CloseableAsyncIterable, Network } from '@hyperledger/fabric-gateway';
import { log, machineDescription, option } from './bench-network.js';
import { loadAverage } from './levers.js';

type Followers = Pick<typeof thisBuild, 'ChaincodeEventFollower'>;
type Db = Awaited<ReturnType<typeof openDatabase>>;

const payload = new TextEncoder().encode(
  JSON.stringify({
    agreementId: 'A-1',
    at: '2026-12-01T00:00:00Z',
    actor: { mspId: 'ClientOrgMSP' },
    terms: 'x'.repeat(400),
  }),
);

/** Each opening streams `blocks` new blocks of `perBlock` events, then stays open until closed. */
function scriptedNetwork(blocks: number, perBlock: number, firstBlock: { next: bigint }): Network {
  const getChaincodeEvents = (): Promise<CloseableAsyncIterable<ChaincodeEvent>> => {
    const start = firstBlock.next;
    firstBlock.next += BigInt(blocks);
    let closed = false;
    const stream = {
      close() {
        closed = true;
      },
      [Symbol.dispose]() {
        closed = true;
      },
      async *[Symbol.asyncIterator]() {
        for (let block = 0; block < blocks; block += 1) {
          // Blocks arrive as separate gRPC messages.
          await new Promise((resolve) => setImmediate(resolve));
          for (let event = 0; event < perBlock; event += 1) {
            yield {
              blockNumber: start + BigInt(block),
              transactionId: `tx-${String(block)}-${String(event)}`,
              chaincodeName: 'gigledger',
              eventName: 'agreement.MilestoneReleased',
              payload,
            };
          }
        }
        while (!closed) await new Promise((resolve) => setTimeout(resolve, 5));
      },
    };
    return Promise.resolve(stream);
  };
  return { getChaincodeEvents } as unknown as Network;
}

async function measure(
  followers: Followers,
  db: Db,
  name: string,
  blocks: number,
  perBlock: number,
  firstBlock: { next: bigint },
): Promise<{ cpuMs: number; wallMs: number }> {
  let handled = 0;
  const follower = new followers.ChaincodeEventFollower(
    scriptedNetwork(blocks, perBlock, firstBlock),
    'gigledger',
    new DatabaseCheckpointer(db, name),
    () => {
      handled += 1;
      return Promise.resolve();
    },
  );
  const cpu = process.cpuUsage();
  const wall = performance.now();
  await follower.start();
  while (handled < blocks * perBlock) await new Promise((resolve) => setTimeout(resolve, 1));
  await follower.stop();
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000 / handled, wallMs: (performance.now() - wall) / handled };
}

async function main(): Promise<void> {
  const blocks = option('blocks', 100);
  const rounds = option('rounds', 4);
  const perBlockIndex = process.argv.indexOf('--per-block');
  const perBlocks = (perBlockIndex >= 0 ? (process.argv[perBlockIndex + 1] ?? '') : '1,5,20').split(',').map(Number);
  const builds: [string, Followers][] = [['this build', thisBuild]];
  const baselineIndex = process.argv.indexOf('--baseline');
  const baselinePath = baselineIndex >= 0 ? process.argv[baselineIndex + 1] : undefined;
  if (baselinePath !== undefined) {
    builds.push(['baseline', (await import(pathToFileURL(path.resolve(baselinePath)).href)) as Followers]);
  }
  log(`machine: ${machineDescription()}; ${String(blocks)} blocks per round`);
  const directory = mkdtempSync(path.join(os.tmpdir(), 'gl-bench-checkpoints-'));
  const db = await openDatabase({ kind: 'sqlite', file: path.join(directory, 'api.sqlite') });
  const firstBlock = { next: 0n };
  try {
    for (const perBlock of perBlocks) {
      for (const [name, followers] of builds) await measure(followers, db, `warm-${name}`, 20, perBlock, firstBlock);
      for (let round = 1; round <= rounds; round += 1) {
        for (const [name, followers] of [...builds].reverse()) {
          const { cpuMs, wallMs } = await measure(
            followers,
            db,
            `${name}-${String(round)}`,
            blocks,
            perBlock,
            firstBlock,
          );
          log(
            `${String(perBlock).padStart(3)} events per block, round ${String(round)} ${name.padEnd(10)} ` +
              `${cpuMs.toFixed(3)} ms CPU and ${wallMs.toFixed(3)} ms wall per event; load average ${loadAverage()}`,
          );
        }
      }
    }
  } finally {
    await db.destroy();
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
