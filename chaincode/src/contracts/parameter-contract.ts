import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import {
  parameterCatalogue,
  parameterContractName,
  parameterEvents,
  parameterNames,
  parameterRecordSchema,
  parameterTransactions,
  type ParameterName,
  type ParameterRecord,
  type ParameterValues,
} from '../model/parameter';
import { callerOf, requireRole } from '../ledger/caller';
import { emitEvent } from '../ledger/events';
import { parseArgument, refuse } from '../ledger/refusal';
import { readRecord, writeRecord } from '../ledger/state';
import { transactionInstant } from '../ledger/time';

const parameterObjectType = 'parameter';

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
  const record = await readRecord(ctx, parameterRecordSchema, parameterKey(ctx, name));
  if (record === undefined) refuse('PARAMETER_INVALID', `consortium parameter ${name} has not been set`);
  const value = parameterCatalogue[name].safeParse(record.value);
  if (!value.success) refuse('PARAMETER_INVALID', `consortium parameter ${name} holds a value of the wrong shape`);
  return { value: value.data as ParameterValues[Name], record };
}

@Info({ title: 'Parameters', description: 'Consortium parameters read by the other contracts' })
export class ParameterContract extends Contract {
  constructor() {
    super(parameterContractName);
  }

  /** Sets one parameter. Admins only until governance votes replace this. */
  @Transaction()
  async setParameter(ctx: Context, requestJson: string): Promise<ParameterRecord> {
    const request = parseArgument(parameterTransactions.setParameter.request, requestJson);
    const valueCheck = parameterCatalogue[request.name].safeParse(request.value);
    if (!valueCheck.success) {
      refuse(
        'VALIDATION_FAILED',
        `value: ${valueCheck.error.issues[0]?.message ?? 'is invalid'} for ${request.name}`,
        'value',
      );
    }
    const caller = callerOf(ctx);
    requireRole(caller, ['admin'], `set parameter ${request.name}`);
    const record: ParameterRecord = {
      name: request.name,
      value: request.value,
      updatedAt: transactionInstant(ctx),
      updatedBy: caller.mspId,
      txId: ctx.stub.getTxID(),
    };
    await writeRecord(ctx, parameterKey(ctx, request.name), record);
    emitEvent(ctx, parameterEvents.parameterSet, record);
    return record;
  }

  @Transaction(false)
  async getParameter(ctx: Context, requestJson: string): Promise<ParameterRecord> {
    const request = parseArgument(parameterTransactions.getParameter.request, requestJson);
    return (await readParameter(ctx, request.name)).record;
  }

  /** Every parameter that has been set, in catalogue order. */
  @Transaction(false)
  async listParameters(ctx: Context): Promise<ParameterRecord[]> {
    const records: ParameterRecord[] = [];
    for (const name of parameterNames) {
      const record = await readRecord(ctx, parameterRecordSchema, parameterKey(ctx, name));
      if (record !== undefined) records.push(record);
    }
    return records;
  }
}
