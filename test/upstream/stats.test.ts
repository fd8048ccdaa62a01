import { describe, expect, it } from 'vitest';
import { type Call, Malformed } from '../../src/upstream/model.js';
import { sumDecimals, totalsOf } from '../../src/upstream/stats.js';

describe('sumDecimals', () => {
  it.each<[string[], string]>([
    [[], '0.00000000'],
    [['0.02500000'], '0.02500000'],
    [['0.02500000', '0.08000000', '1.10000000'], '1.20500000'],
    [['0.1', '0.2'], '0.30000000'],
    [['0.000000001', '0.000000002'], '0.000000003'],
    [['12', '0.345'], '12.34500000'],
    [['-0.5', '0.25'], '-0.25000000'],
    [Array.from({ length: 10_000 }, () => '0.01000000'), '100.00000000'],
  ])('%j -> %s', (values, expected) => {
    expect(sumDecimals(values)).toBe(expected);
  });
});

const call = (overrides: Partial<Call>): Call => ({
  callId: 1,
  assistantName: null,
  campaignName: null,
  type: 'INBOUND',
  durationSeconds: null,
  assistantPhoneNumber: null,
  clientPhoneNumber: null,
  status: 'COMPLETED',
  transcript: [],
  transcriptText: null,
  variables: {},
  evaluation: [],
  webhookResponse: null,
  carrierCost: null,
  totalCost: null,
  answeredBy: null,
  recordingUrl: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  ...overrides,
});

describe('totalsOf', () => {
  it('counts, sums exactly (null as zero) and takes mean and median over known durations', () => {
    const totals = totalsOf([
      call({
        status: 'COMPLETED',
        type: 'INBOUND',
        answeredBy: 'HUMAN',
        durationSeconds: 10,
        totalCost: '0.10000000',
        carrierCost: '0.01',
      }),
      call({
        status: 'COMPLETED',
        type: 'OUTBOUND',
        answeredBy: 'MACHINE',
        durationSeconds: 30,
        totalCost: '0.20000000',
      }),
      call({ status: 'FAILED', type: 'OUTBOUND', answeredBy: null, durationSeconds: null, totalCost: null }),
      call({
        status: 'NO_ANSWER',
        type: 'WEB',
        answeredBy: new Malformed('answeredBy', 'x'),
        durationSeconds: 20,
        totalCost: new Malformed('totalCost', 'x'),
      }),
    ]);
    expect(totals).toEqual({
      scannedCount: 4,
      totalCost: '0.30000000',
      carrierCost: '0.01000000',
      durationTotal: 60,
      durationMean: 20,
      durationMedian: 20,
      byStatus: new Map([
        ['COMPLETED', 2],
        ['FAILED', 1],
        ['NO_ANSWER', 1],
      ]),
      byType: new Map([
        ['INBOUND', 1],
        ['OUTBOUND', 2],
        ['WEB', 1],
      ]),
      byAnsweredBy: new Map([
        ['HUMAN', 1],
        ['MACHINE', 1],
        ['UNKNOWN', 2],
      ]),
    });
  });

  it.each([
    [[5, 1, 3, 2], 2.5],
    [[7], 7],
  ])('median of %j is %f', (durations, median) => {
    expect(totalsOf(durations.map((d) => call({ durationSeconds: d }))).durationMedian).toBe(median);
  });

  it('an empty list has zero sums and no mean or median', () => {
    expect(totalsOf([])).toMatchObject({
      scannedCount: 0,
      totalCost: '0.00000000',
      durationTotal: 0,
      durationMean: null,
      durationMedian: null,
    });
  });
});
