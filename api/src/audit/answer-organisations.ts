/**
 * How the read log finds the organisations an answer names: the MSP id under an
 * `mspId` key (a party) or a `creatorMspId` key (a transaction's creator), at any depth.
 */
export const organisationKeys: ReadonlySet<string> = new Set(['mspId', 'creatorMspId']);

/**
 * Carried by an answer object that keeps part of itself as JSON text (an index node's
 * ledger record): the keys holding that text's parsed form, and the MSP ids the text
 * names, read from the text rather than by parsing and walking it.
 */
export const namedOrganisations = Symbol('organisations named in JSON text');

/** What an object carries under {@link namedOrganisations}. */
export interface NamedOrganisations {
  /** Keys the walk leaves to {@link NamedOrganisations.organisations}. */
  readonly keys: readonly string[];
  readonly organisations: () => readonly string[];
}

// A key of organisationKeys and its string value, in JSON text. Inside a JSON string a
// quote is escaped, so the pattern matches keys only, never text within a value.
const keyedString = /"(mspId|creatorMspId)"\s*:\s*("(?:[^"\\]|\\.)*")/g;

/**
 * The MSP ids a JSON text names under {@link organisationKeys} with a string value: what
 * walking its parsed form finds, without parsing it.
 *
 * @param json a JSON text (RFC 8259), as the index keeps a ledger record.
 */
export function organisationsInJson(json: string): string[] {
  const found: string[] = [];
  for (const match of json.matchAll(keyedString)) found.push(JSON.parse(match[2] ?? '""') as string);
  return found;
}
