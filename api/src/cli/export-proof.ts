#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { qsccProofExporter, TransactionNotFoundError } from '@gigledger/gateway';
import { parseApiConfig } from '../config.js';
import { transactionIdSchema } from '../proofs/proof-routes.js';
import { runToExitCode } from './exit-code.js';
import { openOperatorLedger } from './operator-ledger.js';

/*
 * Exports the proof bundle of a committed transaction, for an operator, with the API's
 * own configuration (GIGLEDGER_CONNECTION_PROFILE etc.); reads blocks as the first
 * organisation's operator, through the same exporter as GET /v1/proofs/{txId}:
 *
 *     node api/dist/cli/export-proof.js <txId> [--out bundle.json]
 *
 * Writes the bundle to --out (or standard output). Exits 0 on success, 1 when the
 * transaction is unknown, 2 on bad usage or configuration.
 */

const usage = 'usage: proof <transactionId> [--out <bundle.json>]';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
  const parsedId = transactionIdSchema.safeParse(positionals[0]);
  if (!parsedId.success || positionals.length !== 1) {
    console.error(`${parsedId.success ? '' : `transactionId ${parsedId.error.issues[0]?.message ?? ''}\n`}${usage}`);
    return 2;
  }
  const config = parseApiConfig(process.env);
  const ledger = openOperatorLedger(config.connectionProfile);
  const { profile, operator: session } = ledger;
  try {
    const exporter = qsccProofExporter(session.gateway.getNetwork(profile.channel), profile.chaincode);
    const bundle = await exporter.exportProof(parsedId.data);
    const text = `${JSON.stringify(bundle, null, 2)}\n`;
    if (values.out === undefined) process.stdout.write(text);
    else {
      writeFileSync(values.out, text);
      console.error(
        `wrote the proof of ${bundle.transactionId} (block ${bundle.block.number}, anchored on block ${bundle.signedBlock.number}) to ${values.out}`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof TransactionNotFoundError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  } finally {
    ledger.close();
  }
}

runToExitCode(main);
