import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { openDatabase, type Db } from '@gigledger/api/audit-index';
import { repoRoot } from '@gigledger/network';
import type { E2eApi } from './api-server.js';
import { e2eConfig } from './e2e-environment.js';

/** A person of the e2e API: their token and the party their certificate makes them. */
export interface IndexReader {
  token: string;
  party: { mspId: string; userId: string };
}

/** The channel's height and the height the audit index reflects, as `GET /v1/index/height` answers. */
export interface Heights {
  channelHeight: string | null;
  indexedHeight: string;
}

const cli = path.join(repoRoot, 'api', 'dist', 'cli', 'audit-index.js');

/** Runs the operator's index command; resolves to its exit code or the signal that killed it, and its output. */
export function runIndexCli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, LOG_LEVEL: 'error', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Waits until the API's index has caught up with the channel as it stands now, asking
 * as `reader` every 100 ms for at most a minute.
 *
 * @throws Error when the index does not catch up in time.
 */
export async function indexCaughtUp(api: E2eApi, reader: Pick<IndexReader, 'token'>): Promise<Heights> {
  const target = BigInt(
    ((await api.call('GET', '/v1/index/height', reader.token)).body as Heights).channelHeight ?? '0',
  );
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const heights = (await api.call('GET', '/v1/index/height', reader.token)).body as Heights;
    if (BigInt(heights.indexedHeight) >= target) return heights;
    await delay(100);
  }
  throw new Error('the index did not catch up with the channel');
}

/** Environment of the operator's index command on the e2e network, with its data in `dir`. */
export function indexCliEnv(connectionProfile: string, dir: string, crashAt = ''): Record<string, string> {
  return {
    GIGLEDGER_CONNECTION_PROFILE: connectionProfile,
    GIGLEDGER_DATA_DIR: dir,
    GIGLEDGER_INDEX_CRASH_AT: crashAt,
  };
}

/**
 * Runs the operator's indexer into a fresh folder, killed (SIGKILL) at each crash point in
 * turn and then resumed to the end, and a rebuild from block 0 into another fresh folder.
 *
 * @returns the two folders and `removeFolders`, which the caller calls once done with them;
 *   throws (through `expect`) when a kill did not happen or a run failed, having removed both.
 */
export async function killedAndRebuiltIndexes(
  connectionProfile: string,
  crashes: readonly string[],
): Promise<{ killedDir: string; rebuiltDir: string; removeFolders: () => void }> {
  const killedDir = mkdtempSync(path.join(os.tmpdir(), 'gl-index-killed-'));
  const rebuiltDir = mkdtempSync(path.join(os.tmpdir(), 'gl-index-rebuilt-'));
  const removeFolders = () => {
    for (const dir of [killedDir, rebuiltDir]) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const crash of crashes) {
      const killed = await runIndexCli(['catch-up'], indexCliEnv(connectionProfile, killedDir, crash));
      expect([crash, killed.signal]).toEqual([crash, 'SIGKILL']);
    }
    const finished = await runIndexCli(['catch-up'], indexCliEnv(connectionProfile, killedDir));
    expect([finished.code, finished.stderr]).toEqual([0, '']);
    const rebuilt = await runIndexCli(['rebuild'], indexCliEnv(connectionProfile, rebuiltDir));
    expect([rebuilt.code, rebuilt.stderr]).toEqual([0, '']);
  } catch (error) {
    removeFolders();
    throw error;
  }
  return { killedDir, rebuiltDir, removeFolders };
}

/** Both indexes {@link killedAndRebuiltIndexes} made, open, and the height below which their rows must be equal. */
export interface KilledAndRebuilt {
  readonly killedDb: Db;
  readonly rebuiltDb: Db;
  /** The lower of their checkpoints: both caught up with the channel at their last run, which may differ. */
  readonly common: number;
  /** Runs the operator's `check` of the rebuilt index against the ledger. */
  readonly checkRebuilt: () => ReturnType<typeof runIndexCli>;
}

/**
 * {@link killedAndRebuiltIndexes} at `crashes` on the e2e network, then `compare` on the
 * two indexes, which are closed after it whatever it does.
 *
 * @returns what `compare` returns, how long the kills, resume and rebuild took (ms), the
 *   `check` of the rebuilt index, and `removeFolders`, which the caller calls once it needs
 *   that check no more. When `compare` or a run throws, the folders are already removed.
 */
export async function compareKilledAndRebuilt<Result>(
  crashes: readonly string[],
  compare: (indexes: KilledAndRebuilt) => Promise<Result>,
): Promise<{
  result: Result;
  tookMs: number;
  checkRebuilt: KilledAndRebuilt['checkRebuilt'];
  removeFolders: () => void;
}> {
  const profile = e2eConfig().paths.connectionProfile;
  const started = Date.now();
  const { killedDir, rebuiltDir, removeFolders } = await killedAndRebuiltIndexes(profile, crashes);
  try {
    const checkRebuilt = () => runIndexCli(['check'], indexCliEnv(profile, rebuiltDir));
    const tookMs = Date.now() - started;
    const killedDb = await openDatabase({ kind: 'sqlite', file: path.join(killedDir, 'gigledger.sqlite') });
    const rebuiltDb = await openDatabase({ kind: 'sqlite', file: path.join(rebuiltDir, 'gigledger.sqlite') });
    try {
      const heights = await Promise.all(
        [killedDb, rebuiltDb].map(async (db) =>
          Number(
            (
              await db
                .selectFrom('checkpoints')
                .select('block_number')
                .where('name', '=', 'audit-index')
                .executeTakeFirstOrThrow()
            ).block_number,
          ),
        ),
      );
      const result = await compare({ killedDb, rebuiltDb, common: Math.min(...heights), checkRebuilt });
      return { result, tookMs, checkRebuilt, removeFolders };
    } finally {
      await killedDb.destroy();
      await rebuiltDb.destroy();
    }
  } catch (error) {
    removeFolders();
    throw error;
  }
}
