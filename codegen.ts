import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for the example operations in test/operations, generated from the committed
 * schema.graphql, and their persisted-documents manifest (test/gql/persisted-documents.json: SHA-256
 * hash -> document), which the gateway can be told to accept exclusively (TRUSTED_DOCUMENTS).
 * `npm run codegen` rewrites test/gql; test/contract.test.ts fails when it is stale.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/operations/**/*.graphql'],
  generates: {
    'test/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        emitLegacyCommonJSImports: false,
        scalars: { DateTime: 'string', Date: 'string', JSON: 'unknown' },
      },
    },
  },
  ignoreNoDocuments: false,
};

export default config;
