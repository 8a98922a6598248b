import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { agreementTransactions } from '../model/agreement';
import { schemaTitles } from './metadata';

interface ObjectSchema {
  title?: string;
  type?: string;
  properties?: Record<string, unknown>;
  required?: string[];
}

interface ContractMetadata {
  contracts: Record<
    string,
    {
      transactions: {
        name: string;
        tag?: string[];
        parameters?: { name: string; description?: string; schema: unknown }[];
        requestSchema?: ObjectSchema;
        resultSchema?: ObjectSchema;
      }[];
    }
  >;
  components: { schemas: Record<string, unknown> };
}

interface ContractInfo {
  contracts: unknown[];
  serializers: unknown;
  title: string;
  version: string;
}

// The chaincode server's own start-up path (fabric-shim's contract SPI), which has no typings.
/* eslint-disable @typescript-eslint/no-require-imports */
const Bootstrap = require('fabric-shim/lib/contract-spi/bootstrap') as {
  getInfoFromContract(modulePath: string): ContractInfo;
  loadAndValidateMetadata(metadataPath: string): unknown;
};
const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract') as new (
  ...args: [unknown[], unknown, object, string, string]
) => {
  contractImplementations: Record<string, { contractInstance: { metadata: unknown } }>;
  metadata: ContractMetadata;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const chaincodeRoot = path.resolve(__dirname, '..', '..');

/**
 * What `org.hyperledger.fabric:GetMetadata` answers, built the way the chaincode server
 * builds it, and the metadata its invoke path looks each called transaction up in.
 */
function servedMetadata(): { served: ContractMetadata; invoked: ContractMetadata } {
  const { contracts, serializers, title, version } = Bootstrap.getInfoFromContract(chaincodeRoot);
  const chaincode = new ChaincodeFromContract([...contracts], serializers, {}, title, version);
  const system = chaincode.contractImplementations['org.hyperledger.fabric'];
  if (system === undefined) throw new Error('fabric-shim registered no system contract');
  return { served: system.contractInstance.metadata as ContractMetadata, invoked: chaincode.metadata };
}

describe('contract metadata (GetMetadata)', () => {
  const { served: metadata, invoked } = servedMetadata();

  it('describes the JSON argument and the result of every transaction with a schema', () => {
    for (const [contractName, contract] of Object.entries(metadata.contracts)) {
      if (contractName === 'org.hyperledger.fabric') continue;
      for (const transaction of contract.transactions) {
        expect(transaction.resultSchema?.title).toBe(`${contractName}.${transaction.name}.Result`);
        for (const parameter of transaction.parameters ?? []) {
          const title = /`([^`]+)`/.exec(parameter.description ?? '')?.[1];
          expect(parameter.schema).toEqual({ type: 'string' });
          expect(transaction.requestSchema?.title).toBe(title);
        }
      }
    }
  });

  it('keeps components.schemas free of transaction schemas, which fabric-shim would serialise on every call', () => {
    expect(Object.keys(metadata.components.schemas).filter((name) => /\.(Request|Result)$/.test(name))).toEqual([]);
  });

  it('serialises a transaction looked up for a call without its schemas, and the whole metadata with them', () => {
    const draft = invoked.contracts.agreement?.transactions.find(
      (transaction) => transaction.name === 'draftAgreement',
    );
    // What fabric-shim's invoke path writes into a DEBUG line on every call.
    const alone = JSON.parse(JSON.stringify(draft)) as Record<string, unknown>;
    expect(alone).toEqual({ name: 'draftAgreement', tag: draft?.tag, parameters: draft?.parameters });
    const whole = JSON.parse(JSON.stringify(invoked)) as ContractMetadata;
    const served = whole.contracts.agreement?.transactions.find((transaction) => transaction.name === 'draftAgreement');
    expect(served?.requestSchema?.title).toBe('agreement.draftAgreement.Request');
    expect(served?.resultSchema?.title).toBe('agreement.draftAgreement.Result');
  });

  it('shows an operator the fields a transaction takes and which are required', () => {
    const titles = schemaTitles(agreementTransactions.fundMilestone);
    const fund = metadata.contracts.agreement?.transactions.find((transaction) => transaction.name === 'fundMilestone');
    const request = fund?.requestSchema;
    expect(request?.title).toBe(titles.request);
    expect(request?.type).toBe('object');
    expect(Object.keys(request?.properties ?? {})).toEqual(expect.arrayContaining(['agreementId', 'milestoneId']));
    expect(request?.required).toEqual(expect.arrayContaining(['agreementId', 'milestoneId']));
    const draft = metadata.contracts.agreement?.transactions.find(
      (transaction) => transaction.name === 'draftAgreement',
    );
    expect(draft?.parameters?.[0]?.description).toContain('agreement.draftAgreement.Request');
  });

  it('passes the contract metadata schema that fabric-contract-api publishes', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'metadata-'));
    try {
      const file = path.join(dir, 'metadata.json');
      writeFileSync(file, JSON.stringify(metadata));
      expect(() => Bootstrap.loadAndValidateMetadata(file)).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
