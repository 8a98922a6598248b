import type { CodegenConfig } from '@graphql-codegen/cli';

// Types for every operation the console sends, generated from the API's schema as
// printed by `npm run console:schema`.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
        scalars: { JSON: 'unknown' },
      },
    },
  },
};

export default config;
