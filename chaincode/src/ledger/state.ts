import type { Context } from 'fabric-contract-api';
import type { Iterators } from 'fabric-shim-api';
import type { z } from 'zod';
import { canonicalJson } from '../model/canonical-json';
import { defaultPageSize, pageReadBudget, type Page, type PageRequest } from '../model/page';
import { refuse } from './refusal';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeRecord(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}

export function decodeRecord<Schema extends z.ZodType>(schema: Schema, bytes: Uint8Array): z.output<Schema> {
  return schema.parse(JSON.parse(decoder.decode(bytes)));
}

/** Reads and parses a committed record; undefined when the key is empty. */
export async function readRecord<Schema extends z.ZodType>(
  ctx: Context,
  schema: Schema,
  key: string,
): Promise<z.output<Schema> | undefined> {
  const bytes = await ctx.stub.getState(key);
  if (bytes.length === 0) return undefined;
  return decodeRecord(schema, bytes);
}

export async function writeRecord(ctx: Context, key: string, value: unknown): Promise<void> {
  await ctx.stub.putState(key, encodeRecord(value));
}

/** Reads every record under a composite-key prefix, in key order. */
export async function readByPartialKey<Schema extends z.ZodType>(
  ctx: Context,
  schema: Schema,
  objectType: string,
  attributes: string[],
): Promise<{ key: string; value: z.output<Schema> }[]> {
  const records: { key: string; value: z.output<Schema> }[] = [];
  const iterator = await ctx.stub.getStateByPartialCompositeKey(objectType, attributes);
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      records.push({ key: next.value.key, value: decodeRecord(schema, next.value.value) });
    }
  } finally {
    await iterator.close();
  }
  return records;
}

/**
 * One page of the records under a composite-key prefix, in key order, and the bookmark
 * the next page starts at (empty after the last). Only an evaluation may read a page:
 * a peer refuses writes in a transaction that ran a paginated query.
 *
 * The bookmark is where the peer starts reading, so one from outside the prefix would
 * read other records; it must come from a page of this same prefix.
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it does not lie under the prefix.
 */
export async function readPageByPartialKey<Schema extends z.ZodType>(
  ctx: Context,
  schema: Schema,
  objectType: string,
  attributes: string[],
  page: PageRequest,
): Promise<{ records: { key: string; value: z.output<Schema> }[]; bookmark: string }> {
  const bookmark = page.bookmark ?? '';
  if (bookmark !== '' && !bookmark.startsWith(ctx.stub.createCompositeKey(objectType, attributes))) {
    refuse('VALIDATION_FAILED', 'bookmark: is not one this list answered with; start again without it', 'bookmark');
  }
  const { iterator, metadata } = (await ctx.stub.getStateByPartialCompositeKeyWithPagination(
    objectType,
    attributes,
    page.pageSize ?? defaultPageSize,
    bookmark,
  )) as { iterator: Iterators.StateQueryIterator; metadata?: { bookmark: string } };
  const records: { key: string; value: z.output<Schema> }[] = [];
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      records.push({ key: next.value.key, value: decodeRecord(schema, next.value.value) });
    }
  } finally {
    await iterator.close();
  }
  // An empty page with nothing after it serialises to empty metadata, which fabric-shim
  // leaves out of its answer altogether.
  return { records, bookmark: metadata?.bookmark ?? '' };
}

/**
 * One page of the values under a composite-key prefix ({@link readPageByPartialKey}
 * without the keys).
 *
 * @throws RefusalError VALIDATION_FAILED `bookmark` when it does not lie under the prefix.
 */
export async function readValuePage<Schema extends z.ZodType>(
  ctx: Context,
  schema: Schema,
  objectType: string,
  attributes: string[],
  page: PageRequest,
): Promise<Page<z.output<Schema>>> {
  const read = await readPageByPartialKey(ctx, schema, objectType, attributes, page);
  return { items: read.records.map((record) => record.value), bookmark: read.bookmark };
}

/**
 * One page of a list that leaves records out (those the caller may not read, or that a
 * filter does not ask for), filled: `readFiltered` is called from the request's bookmark
 * on, each time for as many records as the page still lacks, until the page is full, the
 * list ends, or the calls asked for twice the page size between them (at least
 * {@link defaultPageSize}), which bounds an evaluation's reads. A caller then meets an
 * empty or short page followed by more only past that many left-out records in a row;
 * each such page had told it that records it may not see lie there, and where.
 *
 * @param readFiltered one page of the list, filtered, with the bookmark after it (Fabric's
 *   paged range query: it never passes a record it did not answer with or leave out).
 * @throws whatever `readFiltered` throws, e.g. RefusalError VALIDATION_FAILED `bookmark`.
 */
export async function readFilledPage<Item>(
  request: PageRequest,
  readFiltered: (page: PageRequest) => Promise<Page<Item>>,
): Promise<Page<Item>> {
  const wanted = request.pageSize ?? defaultPageSize;
  const askBudget = pageReadBudget(wanted);
  const items: Item[] = [];
  let bookmark = request.bookmark ?? '';
  let asked = 0;
  do {
    const pageSize = Math.min(wanted - items.length, askBudget - asked);
    const page = await readFiltered({ pageSize, ...(bookmark === '' ? {} : { bookmark }) });
    asked += pageSize;
    items.push(...page.items);
    bookmark = page.bookmark;
  } while (items.length < wanted && bookmark !== '' && asked < askBudget);
  return { items, bookmark };
}

/**
 * The records of one object type, each under the composite key that its own attributes
 * (`attributesOf`) name, parsed with `schema` on every read.
 */
export interface RecordStore<Value, Attributes extends readonly string[]> {
  /** The composite key of the record with these attributes. */
  key(ctx: Context, ...attributes: Attributes): string;
  /** The record with these attributes; undefined when there is none. */
  read(ctx: Context, ...attributes: Attributes): Promise<Value | undefined>;
  /** Writes the record under the key its own attributes name. */
  write(ctx: Context, value: Value): Promise<void>;
  /** Every record whose leading key attributes are `prefix`, in key order. */
  list(ctx: Context, ...prefix: string[]): Promise<Value[]>;
}

/** A {@link RecordStore} for `objectType`, whose keys hold `attributesOf(record)`. */
export function recordStore<Schema extends z.ZodType, const Attributes extends readonly string[]>(
  objectType: string,
  schema: Schema,
  attributesOf: (value: z.output<Schema>) => Attributes,
): RecordStore<z.output<Schema>, Attributes> {
  const key = (ctx: Context, ...attributes: Attributes): string =>
    ctx.stub.createCompositeKey(objectType, [...attributes]);
  return {
    key,
    read: (ctx, ...attributes) => readRecord(ctx, schema, key(ctx, ...attributes)),
    write: (ctx, value) => writeRecord(ctx, key(ctx, ...attributesOf(value)), value),
    list: async (ctx, ...prefix) =>
      (await readByPartialKey(ctx, schema, objectType, prefix)).map((record) => record.value),
  };
}
