import { readFileSync } from 'node:fs';
import { apiSchemaSdl } from './print-schema.js';

describe('the schema the console is typed against', () => {
  it('is the schema the API serves (npm run console:schema rewrites it)', () => {
    const copy = readFileSync(new URL('../../../console/schema.graphql', import.meta.url), 'utf8');
    expect(copy).toBe(apiSchemaSdl());
    expect(copy).toContain('agreementEvents(agreementId: ID): AgreementEvent!');
  });
});
