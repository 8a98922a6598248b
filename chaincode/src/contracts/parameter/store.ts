import type { Context } from 'fabric-contract-api';
import {
  parameterCatalogue,
  parameterNames,
  parameterRecordSchema,
  type ParameterName,
  type ParameterRecord,
  type ParameterValue,
  type ParameterValues,
} from '../../model/parameter';
import type { RuleProvenance } from '../../model/provenance';
import { refuse } from '../../ledger/refusal';
import { readRecord, writeRecord } from '../../ledger/state';
import type { Tx } from '../../ledger/tx';
import { recordObjectTypes } from '../../model/record-keys';

const parameterObjectType = recordObjectTypes.parameter;

function parameterKey(ctx: Context, name: ParameterName): string {
  return ctx.stub.createCompositeKey(parameterObjectType, [name]);
}

/**
 * Reads a consortium parameter for another contract.
 *
 * @throws RefusalError PARAMETER_INVALID when the parameter has never been set.
 */
export async function readParameter<Name extends ParameterName>(
  ctx: Context,
  name: Name,
): Promise<{ value: ParameterValues[Name]; record: ParameterRecord }> {
  const record = await readParameterRecord(ctx, name);
  if (record === undefined) refuse('PARAMETER_INVALID', `consortium parameter ${name} has not been set`);
  const value = parameterCatalogue[name].safeParse(record.value);
  if (!value.success) {
    // A stored value may predate a narrower rule (a platform fee of 100%, say): say which
    // rule, so that governance knows what to set instead.
    const reason = value.error.issues[0]?.message ?? 'is of the wrong shape';
    refuse('PARAMETER_INVALID', `consortium parameter ${name} holds ${JSON.stringify(record.value)}, which ${reason}`);
  }
  return { value: value.data as ParameterValues[Name], record };
}

export function readParameterRecord(ctx: Context, name: ParameterName): Promise<ParameterRecord | undefined> {
  return readRecord(ctx, parameterRecordSchema, parameterKey(ctx, name));
}

/** Every parameter that has been set, in catalogue order. */
export async function readParameterRecords(ctx: Context): Promise<ParameterRecord[]> {
  const records: ParameterRecord[] = [];
  for (const name of parameterNames) {
    const record = await readParameterRecord(ctx, name);
    if (record !== undefined) records.push(record);
  }
  return records;
}

/**
 * @throws RefusalError VALIDATION_FAILED (field `field`) when the value does not suit the parameter.
 */
export function checkParameterValue(name: ParameterName, value: ParameterValue, field = 'value'): void {
  const check = parameterCatalogue[name].safeParse(value);
  if (!check.success) {
    refuse('VALIDATION_FAILED', `${field}: ${check.error.issues[0]?.message ?? 'is invalid'} for ${name}`, field);
  }
}

/** Writes a parameter with who decided it. The value must have passed {@link checkParameterValue}. */
export async function writeParameter(
  tx: Tx,
  name: ParameterName,
  value: ParameterValue,
  provenance: RuleProvenance,
): Promise<ParameterRecord> {
  const record: ParameterRecord = {
    name,
    value,
    updatedAt: tx.at,
    updatedBy: tx.caller.mspId,
    txId: tx.txId,
    provenance,
  };
  await writeRecord(tx.ctx, parameterKey(tx.ctx, name), record);
  return record;
}
