import { createHash } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import type { ChaincodeStub, ClientIdentity, Iterators, Timestamp } from 'fabric-shim-api';
import Long from 'long';

/** Who calls a transaction in a unit test: the parts of a certificate the chaincode reads. */
export interface TestIdentity {
  readonly mspId: string;
  /** Common name; becomes part of the Fabric identity string. */
  readonly name: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

/** What one committed transaction left behind, for assertions. */
/** A test identity: its organisation, a certificate name, and the GigLedger role and userId attributes it carries. */
export function testIdentity(mspId: string, name: string, role: string, userId = name): TestIdentity {
  return { mspId, name, attributes: { role, userId } };
}

export interface CommittedTransaction {
  readonly txId: string;
  readonly timestampSeconds: number;
  readonly event?: { readonly name: string; readonly payload: unknown };
  readonly writes: readonly string[];
  /** Keys the transaction read, as Fabric's read set records them for MVCC validation. */
  readonly reads: readonly string[];
  /** Key ranges the transaction iterated, re-checked by Fabric for phantom reads: [start, end). */
  readonly rangeReads: readonly { readonly start: string; readonly end: string }[];
  /** Private data keys the transaction purged. */
  readonly purges: readonly { readonly collection: string; readonly key: string }[];
}

interface Version {
  readonly txId: string;
  readonly timestampSeconds: number;
  readonly value: Uint8Array | undefined;
}

const compositeKeyNamespace = '\u0000';
const maxUnicodeRune = '\u{10FFFF}';
const decoder = new TextDecoder();

/**
 * A ledger for chaincode unit tests with Fabric's transaction semantics where they
 * matter to contracts: reads see only committed state (never the transaction's own
 * writes), a transaction that throws writes nothing, a transaction keeps one event,
 * composite-key and range queries iterate in key order, and key history is kept.
 */
export class InMemoryLedger {
  readonly #state = new Map<string, Version[]>();
  readonly #privateState = new Map<string, Map<string, Uint8Array>>();
  readonly #validationParameters = new Map<string, Uint8Array>();
  readonly #committed: CommittedTransaction[] = [];
  #clockSeconds: number;
  #txCounter = 0;

  constructor(startSeconds = Date.UTC(2026, 0, 5, 9, 0, 0) / 1000) {
    this.#clockSeconds = startSeconds;
  }

  /** Moves the transaction clock forward; later transactions carry the new timestamp. */
  advanceSeconds(seconds: number): void {
    this.#clockSeconds += seconds;
  }

  get nowSeconds(): number {
    return this.#clockSeconds;
  }

  get transactions(): readonly CommittedTransaction[] {
    return this.#committed;
  }

  get lastEvent(): { readonly name: string; readonly payload: unknown } | undefined {
    return this.#committed.at(-1)?.event;
  }

  /** Committed value of a key, parsed as JSON, or undefined. */
  read(key: string): unknown {
    const value = this.#state.get(key)?.at(-1)?.value;
    return value === undefined ? undefined : JSON.parse(decoder.decode(value));
  }

  readPrivate(collection: string, key: string): unknown {
    const value = this.#privateState.get(collection)?.get(key);
    return value === undefined ? undefined : JSON.parse(decoder.decode(value));
  }

  /** Every committed key, in order, for tests that check nothing else was written. */
  keys(): string[] {
    return [...this.#state.entries()]
      .filter(([, versions]) => versions.at(-1)?.value !== undefined)
      .map(([key]) => key)
      .sort();
  }

  /**
   * Runs the transaction `name` of `contract` as `identity`, the way a client submits it:
   * `request` as its one JSON argument (none when undefined), `transient` as the
   * transient map. Resolves to the transaction's result.
   *
   * @throws Error when `contract` has no method `name`; the transaction's own refusal otherwise.
   */
  transact<Result>(
    identity: TestIdentity,
    contract: object,
    name: string,
    request?: unknown,
    transient?: Record<string, unknown>,
  ): Promise<Result> {
    const method = (contract as Record<string, unknown>)[name];
    if (typeof method !== 'function') throw new Error(`${contract.constructor.name} has no transaction ${name}`);
    const run = method as (this: object, ctx: Context, ...args: string[]) => Promise<Result>;
    return this.invoke(
      identity,
      (ctx) => (request === undefined ? run.call(contract, ctx) : run.call(contract, ctx, JSON.stringify(request))),
      { transient },
    );
  }

  /**
   * Runs one transaction as `identity`. Its writes, private writes and event commit
   * only when `body` resolves.
   */
  async invoke<Result>(
    identity: TestIdentity,
    body: (ctx: Context) => Promise<Result>,
    options: { transient?: Record<string, unknown> | undefined } = {},
  ): Promise<Result> {
    this.#txCounter += 1;
    const transaction = new TransactionStub(
      this,
      `tx${String(this.#txCounter).padStart(6, '0')}`,
      this.#clockSeconds,
      identity,
      options.transient ?? {},
    );
    const ctx = {
      stub: transaction as unknown as ChaincodeStub,
      clientIdentity: new TestClientIdentity(identity),
      logging: { setLevel: () => undefined, getLogger: () => console },
    } as unknown as Context;
    const result = await body(ctx);
    this.#commit(transaction);
    return result;
  }

  committedValue(key: string): Uint8Array | undefined {
    return this.#state.get(key)?.at(-1)?.value;
  }

  committedHistory(key: string): readonly Version[] {
    return this.#state.get(key) ?? [];
  }

  committedPrivate(collection: string, key: string): Uint8Array | undefined {
    return this.#privateState.get(collection)?.get(key);
  }

  committedValidationParameter(key: string): Uint8Array | undefined {
    return this.#validationParameters.get(key);
  }

  committedKeysInRange(start: string, end: string): string[] {
    return [...this.#state.entries()]
      .filter(([key, versions]) => key >= start && key < end && versions.at(-1)?.value !== undefined)
      .map(([key]) => key)
      .sort();
  }

  #commit(transaction: TransactionStub): void {
    for (const [key, value] of transaction.writes) {
      const versions = this.#state.get(key) ?? [];
      versions.push({ txId: transaction.txId, timestampSeconds: transaction.timestampSeconds, value });
      this.#state.set(key, versions);
    }
    for (const [collection, writes] of transaction.privateWrites) {
      const store = this.#privateState.get(collection) ?? new Map<string, Uint8Array>();
      for (const [key, value] of writes) {
        if (value === undefined) store.delete(key);
        else store.set(key, value);
      }
      this.#privateState.set(collection, store);
    }
    for (const [key, parameter] of transaction.validationParameterWrites) {
      this.#validationParameters.set(key, parameter);
    }
    const event = transaction.event;
    this.#committed.push({
      txId: transaction.txId,
      timestampSeconds: transaction.timestampSeconds,
      writes: [...transaction.writes.keys()],
      reads: [...transaction.reads],
      rangeReads: [...transaction.rangeReads],
      purges: [...transaction.purges],
      ...(event === undefined
        ? {}
        : { event: { name: event.name, payload: JSON.parse(decoder.decode(event.payload)) as unknown } }),
    });
  }
}

class TestClientIdentity implements ClientIdentity {
  readonly #identity: TestIdentity;

  constructor(identity: TestIdentity) {
    this.#identity = identity;
  }

  assertAttributeValue(attrName: string, attrValue: string): boolean {
    return this.getAttributeValue(attrName) === attrValue;
  }

  getAttributeValue(attrName: string): string | null {
    return this.#identity.attributes?.[attrName] ?? null;
  }

  getID(): string {
    const org = this.#identity.mspId.replace(/MSP$/, '').toLowerCase();
    return `x509::/OU=client/CN=${this.#identity.name}::/O=${org}.gigledger.local/CN=ca.${org}.gigledger.local`;
  }

  getIDBytes(): Uint8Array {
    return new TextEncoder().encode(`certificate of ${this.#identity.name}`);
  }

  getMSPID(): string {
    return this.#identity.mspId;
  }
}

/** The subset of ChaincodeStub the contracts use, buffering writes until commit. */
class TransactionStub {
  readonly writes = new Map<string, Uint8Array | undefined>();
  readonly privateWrites = new Map<string, Map<string, Uint8Array | undefined>>();
  readonly validationParameterWrites = new Map<string, Uint8Array>();
  readonly reads = new Set<string>();
  readonly rangeReads: { start: string; end: string }[] = [];
  readonly purges: { collection: string; key: string }[] = [];
  event: { name: string; payload: Uint8Array } | undefined;
  /** A peer refuses writes after a paginated query: a page's end cannot be re-checked at validation. */
  pagedQueryRun = false;
  readonly #ledger: InMemoryLedger;
  readonly #identity: TestIdentity;
  readonly #transient: Map<string, Uint8Array>;

  constructor(
    ledger: InMemoryLedger,
    readonly txId: string,
    readonly timestampSeconds: number,
    identity: TestIdentity,
    transient: Record<string, unknown>,
  ) {
    this.#ledger = ledger;
    this.#identity = identity;
    this.#transient = new Map(
      Object.entries(transient).map(([key, value]) => [
        key,
        new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)),
      ]),
    );
  }

  getTxID(): string {
    return this.txId;
  }

  getChannelID(): string {
    return 'gigledger';
  }

  getMspID(): string {
    return this.#identity.mspId;
  }

  getTransient(): Map<string, Uint8Array> {
    return this.#transient;
  }

  getTxTimestamp(): Timestamp {
    return { seconds: Long.fromNumber(this.timestampSeconds), nanos: 0 };
  }

  getDateTimestamp(): Date {
    return new Date(this.timestampSeconds * 1000);
  }

  createCompositeKey(objectType: string, attributes: string[]): string {
    return `${compositeKeyNamespace}${objectType}\u0000${attributes.map((attribute) => `${attribute}\u0000`).join('')}`;
  }

  splitCompositeKey(compositeKey: string): { objectType: string; attributes: string[] } {
    const parts = compositeKey.slice(1).split('\u0000');
    parts.pop();
    const [objectType = '', ...attributes] = parts;
    return { objectType, attributes };
  }

  getState(key: string): Promise<Uint8Array> {
    this.reads.add(key);
    return Promise.resolve(this.#ledger.committedValue(key) ?? new Uint8Array());
  }

  putState(key: string, value: Uint8Array): Promise<void> {
    if (key === '') throw new Error('key must not be empty');
    if (this.pagedQueryRun) throw new Error('a transaction that ran a paginated query cannot write');
    this.writes.set(key, value);
    return Promise.resolve();
  }

  deleteState(key: string): Promise<void> {
    this.writes.set(key, undefined);
    return Promise.resolve();
  }

  getStateByRange(startKey: string, endKey: string): Promise<Iterators.StateQueryIterator> {
    const end = endKey === '' ? maxUnicodeRune : endKey;
    this.rangeReads.push({ start: startKey, end });
    const keys = this.#ledger
      .committedKeysInRange(startKey, end)
      .filter((key) => !key.startsWith(compositeKeyNamespace));
    return Promise.resolve(this.#iterate(keys));
  }

  getStateByPartialCompositeKey(objectType: string, attributes: string[]): Promise<Iterators.StateQueryIterator> {
    const prefix = this.createCompositeKey(objectType, attributes);
    this.rangeReads.push({ start: prefix, end: `${prefix}${maxUnicodeRune}` });
    return Promise.resolve(this.#iterate(this.#ledger.committedKeysInRange(prefix, `${prefix}${maxUnicodeRune}`)));
  }

  /**
   * Fabric's paged range over a composite-key prefix: the bookmark, when given, is where
   * the page starts (inclusive), and the answer's bookmark is the key after the page, empty
   * when nothing follows. Like a peer, it refuses writes in the same transaction; like
   * fabric-shim, it answers no metadata at all for an empty last page (its protobuf
   * serialises to no bytes, which the shim reads as absent).
   */
  getStateByPartialCompositeKeyWithPagination(
    objectType: string,
    attributes: string[],
    pageSize: number,
    bookmark = '',
  ): Promise<{ iterator: Iterators.StateQueryIterator; metadata?: { fetchedRecordsCount: number; bookmark: string } }> {
    if (this.writes.size > 0) throw new Error('paginated queries are not supported in transactions that write');
    this.pagedQueryRun = true;
    const prefix = this.createCompositeKey(objectType, attributes);
    const keys = this.#ledger.committedKeysInRange(bookmark === '' ? prefix : bookmark, `${prefix}${maxUnicodeRune}`);
    const page = keys.slice(0, pageSize);
    const next = keys[pageSize] ?? '';
    if (page.length === 0 && next === '') return Promise.resolve({ iterator: this.#iterate(page) });
    return Promise.resolve({
      iterator: this.#iterate(page),
      metadata: { fetchedRecordsCount: page.length, bookmark: next },
    });
  }

  getHistoryForKey(key: string): Promise<Iterators.HistoryQueryIterator> {
    // Fabric returns the newest modification first.
    const modifications: Iterators.KeyModification[] = [...this.#ledger.committedHistory(key)]
      .reverse()
      .map((version) => ({
        txId: version.txId,
        isDelete: version.value === undefined,
        value: version.value ?? new Uint8Array(),
        timestamp: { seconds: Long.fromNumber(version.timestampSeconds), nanos: 0 },
      }));
    return Promise.resolve(iteratorOf(modifications));
  }

  setEvent(name: string, payload: Uint8Array): void {
    this.event = { name, payload };
  }

  getPrivateData(collection: string, key: string): Promise<Uint8Array> {
    return Promise.resolve(this.#ledger.committedPrivate(collection, key) ?? new Uint8Array());
  }

  getPrivateDataHash(collection: string, key: string): Promise<Uint8Array> {
    const value = this.#ledger.committedPrivate(collection, key);
    return Promise.resolve(
      value === undefined ? new Uint8Array() : new Uint8Array(createHash('sha256').update(value).digest()),
    );
  }

  putPrivateData(collection: string, key: string, value: Uint8Array): Promise<void> {
    const writes = this.privateWrites.get(collection) ?? new Map<string, Uint8Array | undefined>();
    writes.set(key, value);
    this.privateWrites.set(collection, writes);
    return Promise.resolve();
  }

  /**
   * Fabric's purge (2.5+): at commit the key, its hash and every past version leave
   * the collection on every peer; this ledger keeps no private history, so it deletes.
   */
  purgePrivateData(collection: string, key: string): Promise<void> {
    const writes = this.privateWrites.get(collection) ?? new Map<string, Uint8Array | undefined>();
    writes.set(key, undefined);
    this.privateWrites.set(collection, writes);
    this.purges.push({ collection, key });
    return Promise.resolve();
  }

  deletePrivateData(collection: string, key: string): Promise<void> {
    const writes = this.privateWrites.get(collection) ?? new Map<string, Uint8Array | undefined>();
    writes.set(key, undefined);
    this.privateWrites.set(collection, writes);
    return Promise.resolve();
  }

  setStateValidationParameter(key: string, ep: Uint8Array): Promise<void> {
    this.validationParameterWrites.set(key, ep);
    return Promise.resolve();
  }

  getStateValidationParameter(key: string): Promise<Uint8Array> {
    return Promise.resolve(this.#ledger.committedValidationParameter(key) ?? new Uint8Array());
  }

  #iterate(keys: string[]): Iterators.StateQueryIterator {
    return iteratorOf(
      keys.map((key) => ({ namespace: 'gigledger', key, value: this.#ledger.committedValue(key) ?? new Uint8Array() })),
    );
  }
}

function iteratorOf<T>(items: T[]): Iterators.CommonIterator<T> & AsyncIterable<T> {
  let index = 0;
  return {
    next: () => {
      const value = items[index];
      index += 1;
      return Promise.resolve(value === undefined ? { value: undefined as T, done: true } : { value, done: false });
    },
    close: () => Promise.resolve(),
    [Symbol.asyncIterator]: async function* () {
      for (const item of items) yield await Promise.resolve(item);
    },
  };
}
