import { Info } from 'fabric-contract-api';
import { parameterContractName, parameterEvents, parameterTransactions } from '../model/parameter';
import { emitEvent } from '../ledger/events';
import { contractClass, transaction } from '../ledger/contract-class';
import { requireGenesisAdmin } from './governance/genesis';
import { checkParameterValue, readParameter, readParameterRecords, writeParameter } from './parameter/store';

@Info({ title: 'Parameters', description: 'Consortium parameters read by the other contracts' })
export class ParameterContract extends contractClass(parameterContractName, {
  /**
   * Genesis only: the bootstrap administrator sets a parameter. After genesis is sealed
   * parameters change through governance proposals (`setParameter` actions).
   */
  setParameter: transaction(parameterTransactions.setParameter, async (tx, request) => {
    checkParameterValue(request.name, request.value);
    const provenance = await requireGenesisAdmin(tx, `set parameter ${request.name}`);
    const record = await writeParameter(tx, request.name, request.value, provenance);
    emitEvent(tx.ctx, parameterEvents.parameterSet, record);
    return record;
  }),

  getParameter: transaction(
    parameterTransactions.getParameter,
    async (tx, request) => (await readParameter(tx.ctx, request.name)).record,
  ),

  /** Every parameter that has been set, in catalogue order. */
  listParameters: transaction(parameterTransactions.listParameters, (tx) => readParameterRecords(tx.ctx)),
}) {}
