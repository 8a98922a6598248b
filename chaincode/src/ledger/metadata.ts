import 'reflect-metadata';
import type { Contract } from 'fabric-contract-api';
import { z } from 'zod';
import { takesArgument, type TransactionSpec } from '../model/spec';

/**
 * What fabric-contract-api records for each `@Transaction` (the `fabric:transactions`
 * metadata of a contract's prototype), and what `org.hyperledger.fabric:GetMetadata`
 * answers. Shape: fabric-contract-api `schema/contract-schema.json`, `transaction`.
 */
interface FabricTransactionMetadata {
  name: string;
  tag?: string[];
  parameters?: { name: string; description?: string; schema: Record<string, unknown> }[];
  returns?: Record<string, unknown>;
  /** Ours: the JSON Schema of the argument's JSON text, and of the result. */
  requestSchema?: Record<string, unknown>;
  resultSchema?: Record<string, unknown>;
}

type AnySpec = TransactionSpec<z.ZodType, z.ZodType>;

// fabric-shim reads these schemas with Ajv 6, which refuses a schema naming a format it
// does not know; a format outside its list stays readable in the description instead of
// stopping the chaincode.
const ajv6Formats = new Set([
  'date',
  'time',
  'date-time',
  'uri',
  'uri-reference',
  'uri-template',
  'url',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'regex',
  'uuid',
  'json-pointer',
  'relative-json-pointer',
]);

function withKnownFormats(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withKnownFormats);
  if (node === null || typeof node !== 'object') return node;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'format' && typeof value === 'string' && !ajv6Formats.has(value)) {
      const description = (node as { description?: unknown }).description;
      copy.description = typeof description === 'string' ? `${description} (format: ${value})` : `format: ${value}`;
      continue;
    }
    if (key === 'description' && 'description' in copy) continue;
    copy[key] = withKnownFormats(value);
  }
  return copy;
}

/** The JSON Schema (draft-07, which fabric-shim's Ajv 6 reads) of one side of a transaction, titled `title`. */
export function transactionSchema(title: string, schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, { target: 'draft-07', io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  const { $schema: _dialect, ...body } = withKnownFormats(generated) as Record<string, unknown>;
  return { title, ...body };
}

/** Titles of a transaction's request and result schemas, e.g. `agreement.draftAgreement.Request`. */
export function schemaTitles(spec: AnySpec): { request: string; result: string } {
  const base = `${spec.contract}.${spec.name}`;
  return { request: `${base}.Request`, result: `${base}.Result` };
}

/**
 * A transaction's metadata as JSON: in full inside the chaincode's metadata (where
 * `JSON.stringify` passes the member's key or index), without its two schemas when it is
 * serialised on its own (key `''`). fabric-shim's invoke path writes
 * `JSON.stringify(transaction)` into a DEBUG line on every call, before any level check,
 * and with the schemas that was 10–20 KB per call: about 4% of the chaincode server's
 * CPU on the agreement workload. `GetMetadata` serialises the whole metadata, so what it
 * answers is unchanged.
 */
function withoutSchemasAlone(this: FabricTransactionMetadata, key: string): unknown {
  if (key !== '') return this;
  const { requestSchema: _request, resultSchema: _result, ...rest } = this;
  return rest;
}

/**
 * Lets the chaincode's `GetMetadata` describe what each transaction takes and returns:
 * every transaction of `contract` carries its spec's request schema (of the JSON text its
 * one string argument holds) as `requestSchema` and its result schema as `resultSchema`,
 * titled by `schemaTitles`. The contract metadata schema fabric-contract-api publishes
 * allows extra members on a transaction, but restricts a parameter's and a return's
 * schema to a small vocabulary (no `anyOf`, no `contentSchema`), so the argument stays
 * `{type: string}` and the full schemas sit beside it. The argument stays a string on the
 * wire, so validation stays with the contract's own parser, which names the field and
 * the reason.
 *
 * They are not put under `components.schemas`, where fabric-contract-api keeps complex
 * types: fabric-shim's data marshall compiles, for every argument of every call, a schema
 * that embeds all of `components.schemas`, and Ajv 6 serialises that whole schema to find
 * its cache entry. With two hundred transaction schemas there, each call spent about
 * 20 ms of chaincode CPU before the transaction ran.
 *
 * @throws Error when a decorated transaction has no spec, a spec has no decorated
 *   transaction, or the spec's contract is not the contract's name: the two would
 *   disagree about what the chaincode offers.
 */
export function describeContract(contract: new () => Contract, transactions: Readonly<Record<string, AnySpec>>): void {
  const contractName = new contract().getName();
  const prototype = contract.prototype as object;
  const described = (Reflect.getMetadata('fabric:transactions', prototype) ?? []) as FabricTransactionMetadata[];
  const specs = new Map(Object.values(transactions).map((spec) => [spec.name, spec]));

  for (const transaction of described) {
    const spec = specs.get(transaction.name);
    if (spec === undefined) throw new Error(`${contractName}:${transaction.name} has no transaction spec`);
    if (spec.contract !== contractName) {
      throw new Error(`spec ${spec.contract}:${spec.name} is declared for contract ${contractName}`);
    }
    const titles = schemaTitles(spec);
    const [argument, ...extra] = transaction.parameters ?? [];
    if (takesArgument(spec) !== (argument !== undefined) || extra.length > 0) {
      throw new Error(
        `${contractName}:${transaction.name} does not take exactly the one JSON argument its spec declares`,
      );
    }
    if (argument !== undefined) {
      argument.description = `JSON text of a \`${titles.request}\` (the transaction's requestSchema), e.g. as a Fabric client's single string argument`;
      transaction.requestSchema = transactionSchema(titles.request, spec.request, 'input');
    }
    delete transaction.returns;
    transaction.resultSchema = transactionSchema(titles.result, spec.result, 'output');
    Object.defineProperty(transaction, 'toJSON', { value: withoutSchemasAlone, enumerable: false });
  }
  const missing = [...specs.keys()].filter((name) => !described.some((transaction) => transaction.name === name));
  if (missing.length > 0) throw new Error(`${contractName} has specs without a transaction: ${missing.join(', ')}`);

  Reflect.defineMetadata('fabric:transactions', described, prototype);
}
