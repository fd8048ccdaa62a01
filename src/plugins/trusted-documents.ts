/**
 * Trusted documents: only the operations of the manifest run (first-party clients, built with the same
 * codegen). A request names one by `documentId` (GraphQL over HTTP) or Apollo's
 * `extensions.persistedQuery.sha256Hash`; any other document is refused before anything runs.
 */
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { type DocumentNode, Kind, parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export function useTrustedDocuments(manifest: Record<string, string>): Plugin {
  return usePersistedOperations({
    allowArbitraryOperations: false,
    extractPersistedOperationId: (params) => {
      const request = params as { documentId?: unknown; extensions?: { persistedQuery?: { sha256Hash?: unknown } } };
      const id = request.documentId ?? request.extensions?.persistedQuery?.sha256Hash;
      return typeof id === 'string' ? id : null;
    },
    // GraphQL Code Generator writes `sha256:<hex>` keys; clients may send the bare hex.
    getPersistedOperation: (id) => manifest[id] ?? manifest[`sha256:${id}`] ?? null,
    customErrors: {
      notFound: {
        message: 'This document is not among the trusted documents.',
        extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } },
      },
      persistedQueryOnly: {
        message: 'Only trusted documents may run here: send a documentId.',
        extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
      },
      keyNotFound: {
        message: 'Send a documentId naming a trusted document.',
        extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
      },
    },
  }) as Plugin;
}

/** The names of the manifest's operations: the only ones metrics label by name when a manifest is set. */
export function operationNamesOf(manifest: Record<string, string>): Set<string> {
  const names = new Set<string>();
  for (const document of Object.values(manifest)) {
    let parsed: DocumentNode;
    try {
      parsed = parse(document, { noLocation: true });
    } catch {
      continue; // such a document fails when it is run, with the parser's own error
    }
    for (const definition of parsed.definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) names.add(definition.name.value);
    }
  }
  return names;
}
