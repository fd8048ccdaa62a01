import { afterEach, describe, expect, it } from 'vitest';
import { generateCalls, type SimCall } from '../../src/simulator/data.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

/** 250 calls with known figures: cost 0.01 and carrier 0.001 each, durations 1..250, statuses in turn. */
function knownTenant(): SimCall[] {
  const statuses = ['completed', 'failed', 'no-answer', 'completed', 'busy'];
  return generateCalls({ seed: 7, count: 250, firstId: 500_001 }).map((call, i) => ({
    ...call,
    raw: {
      ...call.raw,
      status: statuses[i % statuses.length]!,
      type: i % 2 === 0 ? 'inbound' : 'outbound',
      duration: i + 1,
      total_cost: i % 2 === 0 ? '0.01000000' : 0.01,
      carrier_cost: i === 0 ? null : '0.00100000',
      answered_by: i % 3 === 0 ? 'human' : i % 3 === 1 ? 'machine' : null,
    },
  }));
}

const STATS = `query Stats($filter: CallFilter) {
  callStats(filter: $filter) {
    count complete scannedCount totalCost carrierCost
    durationSeconds { total mean median }
    byStatus { status count } byType { type count } byAnsweredBy { answeredBy count }
  }
}`;

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('callStats', () => {
  it('totals over the whole filtered list are exact, in one request per 100 calls', async () => {
    gw = await startTestGateway({ simulator: { tenants: { 'stats-token': knownTenant() } } });
    const { body } = await gw.query(STATS, {}, { token: 'stats-token' });
    expect(body.errors).toBeUndefined();
    expect((body.data as { callStats: unknown }).callStats).toEqual({
      count: 250,
      complete: true,
      scannedCount: 250,
      totalCost: '2.50000000',
      carrierCost: '0.24900000',
      durationSeconds: { total: 31_375, mean: 125.5, median: 125.5 },
      byStatus: [
        { status: 'COMPLETED', count: 100 },
        { status: 'BUSY', count: 50 },
        { status: 'FAILED', count: 50 },
        { status: 'NO_ANSWER', count: 50 },
      ],
      byType: [
        { type: 'INBOUND', count: 125 },
        { type: 'OUTBOUND', count: 125 },
      ],
      byAnsweredBy: [
        { answeredBy: 'HUMAN', count: 84 },
        { answeredBy: 'MACHINE', count: 83 },
        { answeredBy: 'UNKNOWN', count: 83 },
      ],
    });
    expect(gw.upstream().map((r) => [r.query.per_page, r.query.page])).toEqual([
      ['100', '1'],
      ['100', '2'],
      ['100', '3'],
    ]);
  });

  it('applies the filter upstream', async () => {
    gw = await startTestGateway({ simulator: { tenants: { 'stats-token': knownTenant() } } });
    const { body } = await gw.query(STATS, { filter: { status: 'COMPLETED' } }, { token: 'stats-token' });
    expect((body.data as { callStats: { count: number; byStatus: unknown } }).callStats).toMatchObject({
      count: 100,
      byStatus: [{ status: 'COMPLETED', count: 100 }],
    });
    for (const request of gw.upstream()) expect(request.query.status).toBe('completed');
  });

  it('says it is partial beyond STATS_MAX_CALLS instead of cutting silently', async () => {
    gw = await startTestGateway({
      simulator: { tenants: { 'stats-token': knownTenant() } },
      config: { statsMaxCalls: 100 },
    });
    const { body } = await gw.query(STATS, {}, { token: 'stats-token' });
    expect((body.data as { callStats: unknown }).callStats).toMatchObject({
      count: 250,
      complete: false,
      scannedCount: 100,
      totalCost: '1.00000000',
    });
    expect(gw.upstream()).toHaveLength(1);
  });

  it('an upstream failure in the middle is a clear error, never half-made totals', async () => {
    gw = await startTestGateway({
      simulator: {
        tenants: { 'stats-token': knownTenant() },
        faults: (r) => (r.query.page === '2' ? { kind: 'respond', status: 500, body: '{}' } : undefined),
      },
      upstream: { maxRetries: 0 },
    });
    const { body } = await gw.query(STATS, {}, { token: 'stats-token' });
    // `callStats` is nullable: its failure leaves the rest of the operation (issue 11, item 7).
    expect(body.data).toEqual({ callStats: null });
    expect(body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(body.errors?.[0]?.path).toEqual(['callStats']);
  });

  it('the same caller repeating the same request within the TTL is answered from memory; another caller is not', async () => {
    gw = await startTestGateway({
      simulator: { tenants: { 'stats-token': knownTenant(), 'other-token': knownTenant() } },
    });
    await gw.query(STATS, {}, { token: 'stats-token' });
    await gw.query(STATS, {}, { token: 'stats-token' });
    expect(gw.upstream()).toHaveLength(3);
    await gw.query(STATS, {}, { token: 'other-token' });
    expect(gw.upstream()).toHaveLength(6);
    await gw.query(STATS, { filter: { type: 'INBOUND' } }, { token: 'stats-token' });
    expect(gw.upstream()).toHaveLength(8);
  });

  it('counts in the query cost limit', async () => {
    gw = await startTestGateway({
      config: { limits: { ...(await import('../../src/config.js')).loadConfig({}).limits, maxCost: 500 } },
    });
    const { body } = await gw.query('{ callStats { count } }');
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_LIMIT_EXCEEDED', limit: 'cost' });
    expect(gw.upstream()).toHaveLength(0);
  });
});
