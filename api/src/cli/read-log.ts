#!/usr/bin/env node
import path from 'node:path';
import { ledgerClient } from '@gigledger/gateway';
import { ReadLog } from '../audit/read-log.js';
import { ReadLogAnchorer, verifyReadLog } from '../audit/read-log-anchorer.js';
import { parseApiConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { loadOrCreateSecret } from '../identity/secrets.js';
import { Wallet } from '../identity/wallet.js';
import { createLogger } from '../observability/logger.js';
import { parseCommandLine, UsageError } from './command-line.js';
import { runToExitCode } from './exit-code.js';
import { openOperatorLedger } from './operator-ledger.js';

/*
 * The read log of auditors' and HR systems' reads, for an operator, with the API's own
 * configuration (connection profile, data directory or DATABASE_URL, GIGLEDGER_WALLET_KEY):
 *
 *     node api/dist/cli/read-log.js verify [--json]
 *     node api/dist/cli/read-log.js anchor [--json]
 *
 * `verify` recomputes the hash chain and compares it with the anchors on the ledger,
 * naming the first row at fault; `anchor` submits the current head under the server's
 * anchoring identity (from the wallet, as the server enrolled it), then verifies.
 * Exits 0 when the log verifies, 1 when it does not, 2 on bad usage or configuration.
 */

const usage = 'usage: read-log <verify|anchor> [--json]';
const anchorIdentityLabel = 'service:read-log-anchor';

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine(usage, {
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const [command] = positionals;
  if (command !== 'verify' && command !== 'anchor') {
    throw new UsageError(command === undefined ? 'no command given' : `unknown command '${command}'`, usage);
  }
  const config = parseApiConfig(process.env);
  const db = await openDatabase(config.database);
  const ledger = openOperatorLedger(config.connectionProfile);
  const { gateway, operatorOrg, operator } = ledger;
  const readLog = new ReadLog(db);
  try {
    if (command === 'anchor') {
      const wallet = new Wallet(
        db,
        process.env.GIGLEDGER_WALLET_KEY ?? loadOrCreateSecret(path.join(config.dataDir, 'wallet.key'), 32),
      );
      const identity = await wallet.get(anchorIdentityLabel);
      if (identity === undefined)
        throw new Error('the wallet holds no read-log anchoring identity; start the API once');
      const session = gateway.session(identity);
      try {
        const anchorer = new ReadLogAnchorer({
          readLog,
          ledger: ledgerClient(session.contract),
          log: createLogger(config.logLevel, 'stderr'),
          intervalMs: 0,
        });
        const anchored = await anchorer.anchorNow();
        process.stdout.write(
          anchored === undefined
            ? 'nothing to anchor: the log is empty or its head is anchored\n'
            : `anchored row ${String(anchored.sequence)} ${anchored.headHash} in transaction ${anchored.txId}\n`,
        );
      } finally {
        session.close();
      }
    }
    const report = await verifyReadLog(readLog, ledgerClient(operator.contract), operatorOrg.mspId);
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      process.stdout.write(
        report.ok
          ? `VALID read log: ${String(report.rows)} row(s), head ${report.headHash}, ${String(report.anchorsChecked)} anchor(s) checked\n`
          : `INVALID read log: first bad row ${String(report.firstBadRow?.seq)}: ${report.firstBadRow?.reason ?? ''}\n`,
      );
      for (const other of report.otherLogs ?? [])
        process.stdout.write(
          `another read log of ${operatorOrg.mspId} is anchored: ${other.logId}, row ${String(other.sequence)} in transaction ${other.txId}\n`,
        );
    }
    return report.ok ? 0 : 1;
  } finally {
    ledger.close();
    await db.destroy();
  }
}

runToExitCode(main);
