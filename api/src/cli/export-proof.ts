#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import {
  EndorsementError,
  qsccProofExporter,
  RefusedError,
  TransactionNotFoundError,
  type ProofBundle,
} from '@gigledger/gateway';
import { parseApiConfig } from '../config.js';
import { ApiError } from '../errors/api-error.js';
import { transactionIdSchema } from '../proofs/proof-routes.js';
import {
  provableKindNames,
  provableKinds,
  withRecord,
  type ProvableKindName,
  type RecordWriter,
} from '../proofs/record-proofs.js';
import { parseCommandLine } from './command-line.js';
import { runToExitCode } from './exit-code.js';
import { openOperatorLedger } from './operator-ledger.js';

/*
 * Exports the proof bundle of a committed transaction, for an operator, with the API's
 * own configuration (GIGLEDGER_CONNECTION_PROFILE etc.); reads blocks as the first
 * organisation's operator, through the same exporter as GET /v1/proofs/{txId}:
 *
 *     node api/dist/cli/export-proof.js <txId> [--out bundle.json]
 *     node api/dist/cli/export-proof.js <kind> <id> [--out bundle.json]
 *
 * The second form proves the last transaction that wrote a record (as
 * GET /v1/proofs/records/{kind}/{id}), read as the operator. Writes the bundle to --out
 * (or standard output). Exits 0 on success, 1 when the transaction or record is unknown,
 * 2 on bad usage or configuration.
 */

const usage = `usage: proof <transactionId> [--out <bundle.json>]
       proof <kind> <id> [--out <bundle.json>]   (kinds: ${provableKindNames.join(', ')})`;

/** What to prove: a transaction, or a record's last write. */
type Target = { transactionId: string } | { kind: ProvableKindName; id: string };

/** The target the arguments name, or the reason they name none. */
function targetOf(positionals: string[]): Target | string {
  if (positionals.length === 1) {
    const parsed = transactionIdSchema.safeParse(positionals[0]);
    return parsed.success ? { transactionId: parsed.data } : `transactionId ${parsed.error.issues[0]?.message ?? ''}`;
  }
  const [kind, id] = positionals;
  if (positionals.length !== 2 || kind === undefined || id === undefined)
    return 'a transaction id, or a kind and an id';
  if (!(provableKindNames as string[]).includes(kind)) return `kind must be one of ${provableKindNames.join(', ')}`;
  const parsedId = provableKinds[kind as ProvableKindName].id.safeParse(id);
  return parsedId.success
    ? { kind: kind as ProvableKindName, id: parsedId.data }
    : `id ${parsedId.error.issues[0]?.message ?? ''}`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine(usage, {
    options: { out: { type: 'string' } },
    allowPositionals: true,
  });
  const target = targetOf(positionals);
  if (typeof target === 'string') {
    console.error(`${target}\n${usage}`);
    return 2;
  }
  const config = parseApiConfig(process.env);
  const ledger = openOperatorLedger(config.connectionProfile);
  const { profile, operator: session } = ledger;
  try {
    const exporter = qsccProofExporter(session.gateway.getNetwork(profile.channel), profile.chaincode);
    let bundle: ProofBundle;
    if ('transactionId' in target) bundle = await exporter.exportProof(target.transactionId);
    else {
      let writer: RecordWriter;
      try {
        writer = await provableKinds[target.kind].writer(session, target.id);
      } catch (error) {
        if (error instanceof RefusedError) {
          console.error(`${target.kind} ${target.id}: ${error.refusal}`);
          return 1;
        }
        // A milestone or payout the agreement does not hold.
        if (error instanceof ApiError && error.status === 404) {
          console.error(`${target.kind} ${target.id}: ${error.message}`);
          return 1;
        }
        throw error;
      }
      const proven = withRecord(await exporter.exportProof(writer.transactionId), target.kind, target.id);
      if (proven === undefined)
        throw new Error(`transaction ${writer.transactionId} holds no value of ${target.kind} ${target.id}`);
      bundle = proven;
    }
    const text = `${JSON.stringify(bundle, null, 2)}\n`;
    if (values.out === undefined) process.stdout.write(text);
    else {
      writeFileSync(values.out, text);
      console.error(
        `wrote the proof of ${bundle.record === undefined ? '' : `${bundle.record.kind} ${bundle.record.id}: `}${bundle.transactionId} (block ${bundle.block.number}, anchored on block ${bundle.signedBlock.number}) to ${values.out}`,
      );
    }
    return 0;
  } catch (error) {
    if (error instanceof TransactionNotFoundError) {
      console.error(error.message);
      return 1;
    }
    // The peer did not answer (a gRPC status from the block reads, or an evaluation of the
    // record's writer that failed so): say which peer.
    if (
      error instanceof EndorsementError ||
      (error instanceof Error && typeof (error as { code?: unknown }).code === 'number')
    ) {
      const peer = ledger.operatorOrg.peer.endpoint;
      throw new Error(
        `the peer of ${ledger.operatorOrg.name} at ${peer} did not answer the reads the proof needs (${error.message}); try again once it does`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    ledger.close();
  }
}

runToExitCode(main);
