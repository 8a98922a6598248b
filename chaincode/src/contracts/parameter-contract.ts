import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import {
  parameterContractName,
  parameterEvents,
  parameterTransactions,
  type ParameterRecord,
} from '../model/parameter';
import { emitEvent } from '../ledger/events';
import { runTransaction } from '../ledger/transaction';
import { requireGenesisAdmin } from './governance/genesis';
import { checkParameterValue, readParameter, readParameterRecords, writeParameter } from './parameter/store';

@Info({ title: 'Parameters', description: 'Consortium parameters read by the other contracts' })
export class ParameterContract extends Contract {
  constructor() {
    super(parameterContractName);
  }

  /**
   * Genesis only: the bootstrap administrator sets a parameter. After genesis is sealed
   * parameters change through governance proposals (`setParameter` actions).
   */
  @Transaction()
  setParameter(ctx: Context, requestJson: string): Promise<ParameterRecord> {
    return runTransaction(ctx, parameterTransactions.setParameter, requestJson, async (tx, request) => {
      checkParameterValue(request.name, request.value);
      const provenance = await requireGenesisAdmin(tx, `set parameter ${request.name}`);
      const record = await writeParameter(tx, request.name, request.value, provenance);
      emitEvent(ctx, parameterEvents.parameterSet, record);
      return record;
    });
  }

  @Transaction(false)
  getParameter(ctx: Context, requestJson: string): Promise<ParameterRecord> {
    return runTransaction(
      ctx,
      parameterTransactions.getParameter,
      requestJson,
      async (tx, request) => (await readParameter(ctx, request.name)).record,
    );
  }

  /** Every parameter that has been set, in catalogue order. */
  @Transaction(false)
  listParameters(ctx: Context): Promise<ParameterRecord[]> {
    return readParameterRecords(ctx);
  }
}
