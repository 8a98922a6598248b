import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { validateXML } from 'xmllint-wasm';

/** The official ISO 20022 message definitions the tests validate against (see its README). */
const testData = fileURLToPath(new URL('../../../test-data/iso20022/', import.meta.url));

/** Message definitions kept in the test data. */
export type Schema = 'pain.001.001.09' | 'camt.054.001.08';

/**
 * The XSD validation errors of `xml` against the official schema, empty when valid.
 *
 * @throws the file system error when the schema file is missing.
 */
export async function schemaErrors(xml: string, schema: Schema): Promise<string[]> {
  const xsd = await readFile(`${testData}${schema}.xsd`, 'utf8');
  const result = await validateXML({
    xml: [{ fileName: 'message.xml', contents: xml }],
    schema: [{ fileName: `${schema}.xsd`, contents: xsd }],
  });
  return result.errors.map((error) => error.rawMessage);
}

/** Test fixtures: real-format IBAN/BIC pairs whose check digits are right. */
export const accounts = {
  escrow: { name: 'GigLedger Escrow Ltd', iban: 'GB82WEST12345698765432', bic: 'NWBKGB2L' },
  germany: { iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' },
  netherlands: { iban: 'NL91ABNA0417164300', bic: 'ABNANL2A' },
} as const;
