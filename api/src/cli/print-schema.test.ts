import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { apiSchemaSdl, writeApiSchema } from './print-schema.js';

describe('the schema the console is typed against', () => {
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'gigledger-schema-'));
  });
  afterEach(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('is written where the console build reads it, and left untouched while it is current', () => {
    const file = path.join(folder, 'generated', 'schema.graphql');
    expect(writeApiSchema(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(apiSchemaSdl());
    expect(readFileSync(file, 'utf8')).toContain('agreementEvents(agreementId: ID): AgreementEvent!');

    const past = new Date('2020-01-01T00:00:00Z');
    utimesSync(file, past, past);
    expect(writeApiSchema(file)).toBe(false);
    expect(statSync(file).mtime).toEqual(past);
  });

  it('replaces a schema that the API no longer serves', () => {
    const file = path.join(folder, 'schema.graphql');
    writeFileSync(file, apiSchemaSdl().replace('agreementEvents(agreementId: ID): AgreementEvent!', ''));
    expect(writeApiSchema(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(apiSchemaSdl());
  });
});
