import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

// The benchmark sets UPSTREAM to the fixed upstream's origin before composing.
export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('Calls', {
        source: './calls.openapi.yaml',
        endpoint: process.env.UPSTREAM ?? 'http://127.0.0.1:4410',
        // Forward each caller's bearer token, as the gateway does.
        operationHeaders: { Authorization: '{context.headers.authorization}' },
      }),
    },
  ],
});
