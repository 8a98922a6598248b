import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '.gigledger/**',
      '**/*.mjs',
      '**/*.cjs',
      'jest.*.config.js',
      'console/src/gql/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // What each package's README says it may import, enforced.
  {
    files: ['chaincode/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@gigledger/*'], message: 'The chaincode imports nothing from the other packages.' }] },
      ],
    },
  },
  {
    files: ['gateway/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@gigledger/*', '!@gigledger/chaincode', '@gigledger/chaincode/*', '!@gigledger/chaincode/model'],
              message: 'The gateway may import @gigledger/chaincode/model only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['network/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@gigledger/api', '@gigledger/api/*', '@gigledger/settlement', '@gigledger/settlement/*'],
              message: 'The network imports nothing from the API or the settlement service.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['settlement/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@gigledger/api', '@gigledger/api/*', '@gigledger/network', '@gigledger/network/*'],
              message: 'The settlement service imports the chaincode model and the gateway only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['settlement/src/webhook/**/*.ts'],
    ignores: ['settlement/src/webhook/**/*.test.ts', 'settlement/src/webhook/test-support/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@gigledger/*',
                '!@gigledger/chaincode',
                '@gigledger/chaincode/*',
                '!@gigledger/chaincode/model',
                '../*',
                '!../provider.js',
                '!../json',
                '../json/*',
                '!../json/member-names.js',
              ],
              message:
                "The webhook adapter may import ../provider.ts, ../json/member-names.ts, the chaincode model's currency rules, zod, standardwebhooks and node: only.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['api/src/**/*.ts'],
    ignores: ['api/src/**/*.test.ts', 'api/src/test-support/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@gigledger/network', '@gigledger/network/*', 'fabric-network', '@hyperledger/fabric-gateway'],
              message: 'The API reaches Fabric only through @gigledger/gateway.',
            },
            {
              group: ['**/test-support/*'],
              message: 'Test-only code stays out of the server.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/test-support/**/*.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
