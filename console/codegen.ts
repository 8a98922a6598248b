import type { CodegenConfig } from '@graphql-codegen/cli';

// Types for every operation the console sends, generated from the API's schema, which
// the build prints from the built API into generated/ (not committed: the API's schema
// modules are its only source).
const config: CodegenConfig = {
  schema: 'generated/schema.graphql',
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
