import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { CallsTotalDocument } from './gql/graphql.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const MANIFEST = 'test/gql/persisted-documents.json';
const hashOf = (document: { __meta__?: { hash?: string } }) => document.__meta__!.hash!;

describe('trusted documents (TRUSTED_DOCUMENTS)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      config: { trustedDocuments: loadConfig({ TRUSTED_DOCUMENTS: MANIFEST }).trustedDocuments },
    });
  });
  afterAll(() => gw.close());

  const post = (body: unknown) =>
    gw.gateway
      .fetch('http://gw/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer demo-token' },
        body: JSON.stringify(body),
      })
      .then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] },
      }));

  it('the codegen manifest holds every example operation by its SHA-256 hash', () => {
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>;
    expect(Object.keys(manifest)).toContain(hashOf(CallsTotalDocument as never));
    expect(Object.keys(manifest).every((k) => /^sha256:[0-9a-f]{64}$/.test(k))).toBe(true);
  });

  it('runs a trusted document named by documentId or by the Apollo persistedQuery extension', async () => {
    const hash = hashOf(CallsTotalDocument as never);
    const byId = await post({ documentId: hash, variables: { filter: { status: 'FAILED' } } });
    expect(byId.body.errors).toBeUndefined();
    expect(byId.body.data).toEqual({ calls: { totalCount: expect.any(Number) } });
    const byExtension = await post({
      extensions: { persistedQuery: { version: 1, sha256Hash: hash.replace(/^sha256:/, '') } },
    });
    expect(byExtension.body.data).toEqual({ calls: { totalCount: 2500 } });
  });

  it('refuses any other document, and an unknown id, before any upstream request', async () => {
    gw.resetUpstream();
    const arbitrary = await post({ query: '{ calls { totalCount } }' });
    expect(arbitrary.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    const unknown = await post({ documentId: `sha256:${'0'.repeat(64)}` });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(gw.upstream()).toHaveLength(0);
  });

  it('leaves the subgraph endpoint to the router', async () => {
    const { body } = await gw.query('{ _service { sdl } }', undefined, { path: '/subgraph' });
    expect(body.errors).toBeUndefined();
  });

  it('refuses a manifest that is not one, naming the variable', () => {
    expect(() => loadConfig({ TRUSTED_DOCUMENTS: 'package.json' })).toThrow(/^TRUSTED_DOCUMENTS: /);
    expect(() => loadConfig({ TRUSTED_DOCUMENTS: 'nope.json' })).toThrow(/^TRUSTED_DOCUMENTS: cannot read/);
  });
});
