import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseApiConfig } from '@gigledger/api/config';
import { startApiServer } from '@gigledger/api/server';
import { freeLoopbackPort } from '@gigledger/network';
import { startSandboxProvider, webhookSettlementConfiguration } from '@gigledger/settlement/sandbox';
import type { BenchNetwork } from './bench-network.js';

const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

type ApiServer = Awaited<ReturnType<typeof startApiServer>>;

/** An API server of a benchmark's own, with its settlement service and sandbox provider. */
export interface BenchApiServer {
  readonly server: ApiServer;
  readonly settlement: NonNullable<ApiServer['deps']['settlement']>;
  readonly sandbox: Awaited<ReturnType<typeof startSandboxProvider>>;
  close(): Promise<void>;
}

/**
 * The API server in this process, on the bench network, with its settlement service
 * paying through a sandbox provider of its own (signed webhooks, 50 ms callbacks) and a
 * data folder of its own (audit index on), both removed by `close`.
 */
export async function startBenchApiServer(bench: BenchNetwork, prefix: string): Promise<BenchApiServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const inboundSecret = secret();
  const outboundSecret = secret();
  const apiPort = await freeLoopbackPort();
  const sandbox = await startSandboxProvider({
    port: 0,
    outboundSecret,
    callbackSecret: inboundSecret,
    callbackUrl: `http://127.0.0.1:${apiPort}/v1/settlement/callbacks/sandbox`,
    apiKey: 'bench-sandbox-statement-key',
    callbackDelayMs: 50,
  });
  const settlementConfig = path.join(dataDir, 'settlement.json');
  writeFileSync(
    settlementConfig,
    JSON.stringify(
      webhookSettlementConfiguration({
        url: sandbox.url,
        outboundSecret,
        inboundSecret,
        apiKey: 'bench-sandbox-statement-key',
        mspIds: ['ClientOrgMSP', 'TalentOrgMSP', 'AuditOrgMSP'],
      }),
    ),
  );
  const server = await startApiServer(
    parseApiConfig({
      GIGLEDGER_CONNECTION_PROFILE: bench.config.paths.connectionProfile,
      GIGLEDGER_DATA_DIR: path.join(dataDir, 'api'),
      GIGLEDGER_SETTLEMENT_CONFIG: settlementConfig,
      PORT: String(apiPort),
      LOG_LEVEL: 'error',
      NODE_ENV: 'production',
      RATE_LIMIT_PER_MINUTE: '1000000',
    }),
  );
  const settlement = server.deps.settlement;
  if (settlement === undefined) throw new Error('the API started without its settlement service');
  return {
    server,
    settlement,
    sandbox,
    async close() {
      await server.close();
      await sandbox.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
