import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { defaultPageSize, maxPageSize } from '@gigledger/chaincode/model';
import { z } from 'zod';
import { ApiError } from '../errors/api-error.js';
import { fieldSentAs } from './refusal-fields.js';
import { wholeNumber } from './whole-number.js';

/*
 * Lists the chaincode answers one page at a time (Fabric's paged range queries). The
 * chaincode's bookmark is the ledger key the next page starts at, which may be the key of
 * a record the caller may not read (an agreement between other people, say): its id is
 * part of the key. So callers get it sealed (AES-256-GCM, NIST SP 800-38D) under a key
 * derived from the deployment's secret: opaque, and refused when altered. REST points at
 * the next page with a `Link` header (RFC 8288, relation `next`), GraphQL with
 * `pageInfo.endCursor`.
 */

const ivBytes = 12;
const tagBytes = 16;
/** Sealed keys are padded to a multiple of this many bytes; ledger keys of lists are far shorter. */
const paddedBytes = 512;
// Replaced at start-up by the deployment's (useCursorSecret); a process on its own, as in
// tests, reads only its own cursors.
let cursorKey = randomBytes(32);

/**
 * Derives the key that seals cursors from the deployment's secret (HKDF-SHA-256, RFC
 * 5869), so every worker of a deployment, and the deployment after a restart, reads the
 * cursors the others gave.
 */
export function useCursorSecret(secret: string): void {
  cursorKey = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'gigledger ledger page cursor', 32));
}

/** `first` and `after` of a list read from the ledger, as a query string or GraphQL arguments carry them. */
export const ledgerPageShape = {
  first: wholeNumber(z.number().min(1, `must be 1 to ${maxPageSize}`).max(maxPageSize, `must be 1 to ${maxPageSize}`))
    .optional()
    .describe(`Most records on the page (1 to ${maxPageSize}; ${defaultPageSize} when left out)`),
  after: z
    .string()
    .max(8192, 'must be at most 8192 characters')
    .optional()
    .describe('Where the page starts: the `after` of the previous answer\'s `Link: <…>; rel="next"` header'),
};

/** The query string of a ledger list that takes nothing else. */
export const ledgerPageQuerySchema = z.strictObject(ledgerPageShape);

export interface LedgerPageQuery {
  readonly first?: number | undefined;
  readonly after?: string | undefined;
}

/** One page of a ledger list: its items and the cursor of the next page (undefined on the last). */
export interface LedgerPage<Item> {
  readonly items: Item[];
  readonly endCursor: string | undefined;
}

/** The GraphQL type of where a ledger list goes on (shared by every `…Page` type). */
export const ledgerPageInfoTypeDefs = /* GraphQL */ `
  "Where a list read from the ledger goes on."
  type LedgerPageInfo {
    "Whether another page follows. A page may hold fewer items than asked for, even none, and still be followed by more."
    hasNextPage: Boolean!
    "Pass as after to read the next page; null on the last."
    endCursor: String
  }
`;

export function ledgerPageInfo(page: LedgerPage<unknown>): { hasNextPage: boolean; endCursor: string | null } {
  return { hasNextPage: page.endCursor !== undefined, endCursor: page.endCursor ?? null };
}

/**
 * The chaincode's paging fields for a page asked with `first` and `after`, `after` named
 * `afterField` in a refusal.
 *
 * @throws ApiError 422 naming `afterField` when `after` is not a cursor a page answered with.
 */
function chaincodePage(query: LedgerPageQuery, afterField: string): { pageSize?: number; bookmark?: string } {
  return {
    ...(query.first === undefined ? {} : { pageSize: query.first }),
    ...(query.after === undefined ? {} : { bookmark: bookmarkOf(query.after, afterField) }),
  };
}

/** The bookmark a cursor seals. @throws ApiError 422 naming `field` when it is not a cursor this deployment sealed, or was altered. */
function bookmarkOf(cursor: string, field: string): string {
  const refused = () =>
    new ApiError(422, 'VALIDATION_FAILED', `${field}: is not a cursor a page of this list answered with`, field);
  const bytes = Buffer.from(cursor, 'base64url');
  // Node's decoder skips what lies outside the alphabet: only the exact encoding given out is a cursor.
  if (bytes.length <= ivBytes + tagBytes || bytes.toString('base64url') !== cursor) throw refused();
  try {
    const decipher = createDecipheriv('aes-256-gcm', cursorKey, bytes.subarray(0, ivBytes));
    decipher.setAuthTag(bytes.subarray(ivBytes, ivBytes + tagBytes));
    const padded = Buffer.concat([decipher.update(bytes.subarray(ivBytes + tagBytes)), decipher.final()]);
    const end = padded.lastIndexOf(0xff);
    if (end < 0) throw refused();
    return padded.subarray(0, end).toString('utf8');
  } catch {
    throw refused();
  }
}

/**
 * The cursor a caller gets for the chaincode's bookmark, sealed; undefined after the last
 * page. The key is padded (a 0xff byte, which UTF-8 never holds, then zeros) to a
 * multiple of {@link paddedBytes}, so a cursor's length does not tell the length of the
 * id in it.
 */
function cursorOf(bookmark: string): string | undefined {
  if (bookmark === '') return undefined;
  const key = Buffer.from(bookmark, 'utf8');
  const padded = Buffer.alloc(Math.ceil((key.length + 1) / paddedBytes) * paddedBytes);
  key.copy(padded);
  padded[key.length] = 0xff;
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', cursorKey, iv);
  const sealed = Buffer.concat([cipher.update(padded), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

/**
 * Reads one page from the chaincode, its refusal of a bookmark named as the caller's
 * `afterField`.
 *
 * @throws ApiError 422 naming `afterField` for a cursor that is not this list's.
 */
export async function readLedgerPage<Item>(
  query: LedgerPageQuery,
  afterField: string,
  read: (page: { pageSize?: number; bookmark?: string }) => Promise<{ items: Item[]; bookmark: string }>,
): Promise<LedgerPage<Item>> {
  const answered = await fieldSentAs('bookmark', afterField, () => read(chaincodePage(query, afterField)));
  return { items: answered.items, endCursor: cursorOf(answered.bookmark) };
}

/**
 * A REST list's answer for one ledger page: its items, with the `Link` header of the
 * next page set when there is one. `path` is the request's own path (ids filled in).
 */
export function answerWithPage<Item>(
  page: LedgerPage<Item>,
  request: {
    readonly path: string;
    readonly query: Readonly<Record<string, string | number | boolean | undefined>>;
    readonly setHeader: (name: string, value: string) => void;
  },
): Item[] {
  const next = nextPageLink(request.path, request.query, page.endCursor);
  if (next !== undefined) request.setHeader('Link', next);
  return page.items;
}

/** The GraphQL type of one page of `itemType` items, for a `…Page` field. */
export function ledgerPageTypeDefs(pageType: string, itemType: string, description: string): string {
  return /* GraphQL */ `
  "${description}"
  type ${pageType} {
    items: [${itemType}!]!
    pageInfo: LedgerPageInfo!
  }
`;
}

/** A `…Page` field's answer. */
export function graphqlPage<Item>(page: LedgerPage<Item>): {
  items: Item[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
} {
  return { items: page.items, pageInfo: ledgerPageInfo(page) };
}

/** The `Link` response header that documents a ledger list's next page. */
export const nextPageLinkHeader = {
  name: 'Link',
  description:
    'The next page, when there is one: `<URL>; rel="next"` (RFC 8288), the same query with `after` set. A page may hold fewer records than `first`, even none, and still have a next page.',
} as const;

/**
 * The value of a `Link` header pointing at the next page: the request's own path and
 * query with `after` replaced (RFC 8288 `rel="next"`); undefined on the last page.
 */
function nextPageLink(
  path: string,
  query: Readonly<Record<string, string | number | boolean | undefined>>,
  endCursor: string | undefined,
): string | undefined {
  if (endCursor === undefined) return undefined;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (name !== 'after' && value !== undefined) params.append(name, String(value));
  }
  params.append('after', endCursor);
  return `<${path}?${params.toString()}>; rel="next"`;
}

/**
 * Every item of a list the chaincode answers in pages, read page after page at the
 * largest size: for work that must see all of it (the index's consistency check, a
 * search across issuers), each call to the peer still bounded to one page.
 */
export async function readEveryLedgerPage<Item>(
  read: (page: { pageSize: number; bookmark?: string }) => Promise<{ items: Item[]; bookmark: string }>,
): Promise<Item[]> {
  const items: Item[] = [];
  let bookmark = '';
  do {
    const page = await read({ pageSize: maxPageSize, ...(bookmark === '' ? {} : { bookmark }) });
    items.push(...page.items);
    bookmark = page.bookmark;
  } while (bookmark !== '');
  return items;
}
