#!/usr/bin/env node
import type { SettlementDb } from '@gigledger/settlement';
import { parseApiConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { readSettlementConfig } from '../settlement/settlement-config.js';
import { reconcileSettlement } from '../settlement/settlement-runtime.js';
import { parseCommandLine } from './command-line.js';
import { runToExitCode } from './exit-code.js';
import { openOperatorLedger } from './operator-ledger.js';

/*
 * Reconciles settlement for an operator, with the API's own configuration (the same
 * environment variables: connection profile, data directory or DATABASE_URL,
 * GIGLEDGER_SETTLEMENT_CONFIG). Reads the ledger as the organisation's operator.
 *
 *     node api/dist/cli/settlement-reconcile.js [--from <ISO>] [--to <ISO>] [--json]
 *
 * Defaults to the last 24 hours. Exits 0 when ledger, outbox and provider statements
 * agree, 1 when it lists discrepancies, 2 on bad usage or configuration.
 */

const usage = 'usage: settlement-reconcile [--from <ISO 8601>] [--to <ISO 8601>] [--json]';

function instant(value: string | undefined, fallback: Date, name: string): Date {
  if (value === undefined) return fallback;
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new Error(`--${name} must be an ISO 8601 date-time, got ${value}`);
  return parsed;
}

async function main(): Promise<number> {
  const { values } = parseCommandLine(usage, {
    options: { from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const now = new Date();
  const from = instant(values.from, new Date(now.getTime() - 86_400_000), 'from');
  const to = instant(values.to, new Date(now.getTime() + 60_000), 'to');
  const config = parseApiConfig(process.env);
  if (config.settlementConfigFile === undefined) throw new Error('GIGLEDGER_SETTLEMENT_CONFIG is not set');
  const settlement = readSettlementConfig(config.settlementConfigFile);
  const db = await openDatabase(config.database);
  const ledger = openOperatorLedger(config.connectionProfile);
  const { profile, operator: session } = ledger;
  // The organisation whose service this database belongs to, named as the API names it.
  const orgName = settlement.settlementOrg ?? ledger.operatorOrg.name;
  const organisation = profile.organizations.find((org) => org.name === orgName)?.mspId;
  try {
    if (organisation === undefined)
      throw new Error(`settlementOrg ${orgName} is not an organisation of the connection profile`);
    const report = await reconcileSettlement(
      {
        organisation,
        network: session.gateway.getNetwork(profile.channel),
        chaincode: profile.chaincode,
        db: db as unknown as SettlementDb,
        config: settlement,
      },
      from,
      to,
    );
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      process.stdout.write(
        `Settlement ${report.from} – ${report.to}: ${report.counts.ledger} on the ledger, ${report.counts.outbox} in the outbox, ${report.counts.provider} at providers\n`,
      );
      if (report.discrepancies.length === 0) process.stdout.write('No discrepancy.\n');
      for (const item of report.discrepancies)
        process.stdout.write(`  ${item.kind}  ${item.instructionId}  ${item.detail}\n`);
    }
    return report.discrepancies.length === 0 ? 0 : 1;
  } finally {
    ledger.close();
    await db.destroy();
  }
}

runToExitCode(main, 'error: ');
