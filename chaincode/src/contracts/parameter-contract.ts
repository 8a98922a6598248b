import { Context, Contract, Info, Transaction } from 'fabric-contract-api';
import {
  parameterContractName,
  parameterEvents,
  parameterTransactions,
  type ParameterRecord,
} from '../model/parameter';
import { emitEvent } from '../ledger/events';
import { parseArgument } from '../ledger/refusal';
import { txOf } from '../ledger/tx';
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
  async setParameter(ctx: Context, requestJson: string): Promise<ParameterRecord> {
    const request = parseArgument(parameterTransactions.setParameter.request, requestJson);
    checkParameterValue(request.name, request.value);
    const tx = txOf(ctx);
    const provenance = await requireGenesisAdmin(tx, `set parameter ${request.name}`);
    const record = await writeParameter(tx, request.name, request.value, provenance);
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
  listParameters(ctx: Context): Promise<ParameterRecord[]> {
    return readParameterRecords(ctx);
  }
}
