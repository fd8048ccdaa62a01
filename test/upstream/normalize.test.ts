import { describe, expect, it } from 'vitest';
import { UpstreamBadResponseError } from '../../src/errors.js';
import type { Call, NormalizeWarning } from '../../src/upstream/model.js';
import { Malformed } from '../../src/upstream/model.js';
import {
  normalizeCall,
  normalizeCallPage,
  parseDecimal,
  parseUpstreamDate,
  unwrapCallRecord,
} from '../../src/upstream/normalize.js';

const SECRET = 'SECRET-VALUE-123';
const UTC = { timeZone: 'UTC' };

/** A complete new-dialect record (../shared/docs/upstream-contract.md §3.10 step 3). */
const baseRecord = {
  id: 123456,
  assistant_name: 'Sales Assistant',
  campaign_name: 'Q3 Outreach',
  type: 'outbound',
  duration: 245,
  assistant_phone_number: '+4930123456',
  client_phone_number: '+491234567890',
  status: 'completed',
  transcript: [
    { text: 'Hallo, hier ist Sarah.', type: 'transcript', sender: 'bot', timestamp: 1754055268.525861 },
    { text: 'Kunde: Hallo, worum geht es?', type: 'transcript', sender: 'human', timestamp: 1754055271.1 },
  ],
  variables: { customer_name: 'John', satisfaction_rating: 9 },
  evaluation: [
    { name: 'status', type: 'bool', value: true, description: 'Was the goal reached?' },
    { name: 'summary', type: 'string', value: 'Booked a demo', description: null },
  ],
  webhook_response: { crm_updated: true, lead_score: 75 },
  carrier_cost: '0.02500000',
  total_cost: '0.08000000',
  answered_by: 'human',
  recording_url: 'https://app.famulor.de/media/public/123/call_+491234567890_example.mp4',
  created_at: '2024-01-15T10:30:00Z',
  updated_at: '2024-01-15T10:35:00Z',
};

const baseCall: Call = {
  callId: 123456,
  assistantName: 'Sales Assistant',
  campaignName: 'Q3 Outreach',
  type: 'OUTBOUND',
  durationSeconds: 245,
  assistantPhoneNumber: '+4930123456',
  clientPhoneNumber: '+491234567890',
  status: 'COMPLETED',
  transcript: [
    {
      text: 'Hallo, hier ist Sarah.',
      sender: 'BOT',
      kind: 'transcript',
      timestamp: new Date('2025-08-01T13:34:28.525Z'),
      offsetSeconds: 0,
    },
    {
      text: 'Kunde: Hallo, worum geht es?',
      sender: 'HUMAN',
      kind: 'transcript',
      timestamp: new Date('2025-08-01T13:34:31.100Z'),
      offsetSeconds: 2.574139,
    },
  ],
  transcriptText: 'Bot: Hallo, hier ist Sarah.\nHuman: Kunde: Hallo, worum geht es?',
  variables: { customer_name: 'John', satisfaction_rating: 9 },
  evaluation: [
    { name: 'status', type: 'BOOLEAN', value: true, description: 'Was the goal reached?' },
    { name: 'summary', type: 'STRING', value: 'Booked a demo', description: null },
  ],
  webhookResponse: { crm_updated: true, lead_score: 75 },
  carrierCost: '0.02500000',
  totalCost: '0.08000000',
  answeredBy: 'HUMAN',
  recordingUrl: 'https://app.famulor.de/media/public/123/call_+491234567890_example.mp4',
  createdAt: new Date('2024-01-15T10:30:00.000Z'),
  updatedAt: new Date('2024-01-15T10:35:00.000Z'),
};

function normalize(overrides: Record<string, unknown>, timeZone = 'UTC') {
  const warnings: NormalizeWarning[] = [];
  const call = normalizeCall({ ...baseRecord, ...overrides }, { timeZone }, warnings);
  return { call, warnings };
}

function warnedFields(warnings: NormalizeWarning[]): string[] {
  return warnings.map((w) => w.field);
}

function without<K extends keyof Call>(call: Call, ...keys: K[]): Omit<Call, K> {
  const copy: Partial<Call> = { ...call };
  for (const key of keys) delete copy[key];
  return copy as Omit<Call, K>;
}

describe('normalizeCall', () => {
  it('normalises a complete new-dialect record', () => {
    const { call, warnings } = normalize({});
    expect(call).toEqual(baseCall);
    expect(warnings).toEqual([]);
  });

  it('normalises a complete old-dialect record (string transcript, object evaluation, numeric costs, naive dates)', () => {
    const { call, warnings } = normalize(
      {
        transcript: 'Hello, this is Sarah from Famulor. How are you doing today?',
        evaluation: { sentiment: 'positive', outcome: 'qualified_lead', score: 8.5 },
        carrier_cost: 0.025,
        total_cost: 0.08,
        created_at: '2025-08-04 14:30:00',
        updated_at: '2025-08-04 14:35:00',
      },
      'Europe/Berlin',
    );
    expect(call.transcript).toEqual([
      {
        text: 'Hello, this is Sarah from Famulor. How are you doing today?',
        sender: 'UNKNOWN',
        kind: null,
        timestamp: null,
        offsetSeconds: null,
      },
    ]);
    expect(call.evaluation).toEqual([
      { name: 'sentiment', type: 'STRING', value: 'positive', description: null },
      { name: 'outcome', type: 'STRING', value: 'qualified_lead', description: null },
      { name: 'score', type: 'NUMBER', value: 8.5, description: null },
    ]);
    expect([call.carrierCost, call.totalCost]).toEqual(['0.025', '0.08']);
    expect(call.createdAt.toISOString()).toBe('2025-08-04T12:30:00.000Z');
    expect(call.updatedAt.toISOString()).toBe('2025-08-04T12:35:00.000Z');
    expect(warnings).toEqual([]);
  });

  it('treats missing nullable keys as null', () => {
    const { id, created_at, updated_at, status, type } = baseRecord;
    const warnings: NormalizeWarning[] = [];
    const call = normalizeCall({ id, created_at, updated_at, status, type }, UTC, warnings);
    expect(call).toEqual({
      ...baseCall,
      assistantName: null,
      campaignName: null,
      durationSeconds: null,
      assistantPhoneNumber: null,
      clientPhoneNumber: null,
      transcript: [],
      transcriptText: null,
      variables: {},
      evaluation: [],
      webhookResponse: null,
      carrierCost: null,
      totalCost: null,
      answeredBy: null,
      recordingUrl: null,
    });
    expect(warnings).toEqual([]);
  });

  it('accepts a numeric-string id', () => {
    expect(normalize({ id: '123' }).call.callId).toBe(123);
  });
});

describe('transcript', () => {
  const segment = (text: string, sender: 'BOT' | 'HUMAN' | 'UNKNOWN') => ({
    text,
    sender,
    kind: null,
    timestamp: null,
    offsetSeconds: null,
  });

  const stringCases = [
    {
      name: 'prefixed lines, incl. Kunde:, lowercase ai: and continuation lines',
      raw: 'ai: Hallo, hier ist Sarah.\nKunde: Hallo!\nIch habe eine Frage.\n  Assistant:   Gerne.  \nCUSTOMER:Danke',
      segments: [
        segment('Hallo, hier ist Sarah.', 'BOT'),
        segment('Hallo!\nIch habe eine Frage.', 'HUMAN'),
        segment('Gerne.', 'BOT'),
        segment('Danke', 'HUMAN'),
      ],
    },
    {
      name: 'every documented prefix',
      raw: 'AI: a\nAssistant: b\nBot: c\nAgent: d\nCustomer: e\nUser: f\nHuman: g\nCaller: h\nClient: i\nKunde: j',
      segments: [
        segment('a', 'BOT'),
        segment('b', 'BOT'),
        segment('c', 'BOT'),
        segment('d', 'BOT'),
        segment('e', 'HUMAN'),
        segment('f', 'HUMAN'),
        segment('g', 'HUMAN'),
        segment('h', 'HUMAN'),
        segment('i', 'HUMAN'),
        segment('j', 'HUMAN'),
      ],
    },
    {
      name: 'leading unprefixed text before the first prefix',
      raw: 'Call started.\nRecording on.\nAI: Hello\r\nCustomer: Hi',
      segments: [segment('Call started.\nRecording on.', 'UNKNOWN'), segment('Hello', 'BOT'), segment('Hi', 'HUMAN')],
    },
    {
      name: 'a bare prefix line followed by its text on the next line',
      raw: 'AI:\nHello there\nCustomer: Hi',
      segments: [segment('Hello there', 'BOT'), segment('Hi', 'HUMAN')],
    },
    {
      name: 'words that only look like prefixes',
      raw: 'Userinfo: none\nClient Name: Max\nThe AI: says hi',
      segments: [segment('Userinfo: none\nClient Name: Max\nThe AI: says hi', 'UNKNOWN')],
    },
    {
      name: 'no prefixes at all',
      raw: '  Hello, this is Sarah.\n  How are you?  ',
      segments: [segment('Hello, this is Sarah.\n  How are you?', 'UNKNOWN')],
    },
  ];

  it.each(stringCases)('string transcript: $name', ({ raw, segments }) => {
    const { call, warnings } = normalize({ transcript: raw });
    expect(call.transcript).toEqual(segments);
    expect(call.transcriptText).toBe(raw.trim());
    expect(warnings).toEqual([]);
  });

  it('array transcript: unknown sender and type, missing timestamps and offsets from the first timestamped segment', () => {
    const { call, warnings } = normalize({
      transcript: [
        { text: 'System note', type: 'tool_call', sender: 'system' },
        { text: 'Hello', type: 'transcript', sender: 'BOT', timestamp: 1754055268.525861 },
        { text: 'Hi', sender: 'Human', timestamp: 1754055270.025861 },
        { text: 'No sender', type: 42, timestamp: 1754055275 },
        { text: 'Late', sender: 'human', timestamp: null },
      ],
    });
    expect(call.transcript).toEqual([
      { text: 'System note', sender: 'UNKNOWN', kind: 'tool_call', timestamp: null, offsetSeconds: null },
      {
        text: 'Hello',
        sender: 'BOT',
        kind: 'transcript',
        timestamp: new Date('2025-08-01T13:34:28.525Z'),
        offsetSeconds: 0,
      },
      { text: 'Hi', sender: 'HUMAN', kind: null, timestamp: new Date('2025-08-01T13:34:30.025Z'), offsetSeconds: 1.5 },
      {
        text: 'No sender',
        sender: 'UNKNOWN',
        kind: null,
        timestamp: new Date('2025-08-01T13:34:35.000Z'),
        offsetSeconds: 6.474139,
      },
      { text: 'Late', sender: 'HUMAN', kind: null, timestamp: null, offsetSeconds: null },
    ]);
    expect(call.transcriptText).toBe('Unknown: System note\nBot: Hello\nHuman: Hi\nUnknown: No sender\nHuman: Late');
    expect(warnings).toEqual([]);
  });

  it('array transcript: skips non-object entries and non-string text, and nulls unreadable timestamps, with warnings', () => {
    const { call, warnings } = normalize({
      transcript: ['stray', { text: 42, sender: 'bot' }, { sender: 'bot' }, { text: 'Kept', timestamp: '1754055268' }],
    });
    expect(call.transcript).toEqual([
      { text: 'Kept', sender: 'UNKNOWN', kind: null, timestamp: null, offsetSeconds: null },
    ]);
    expect(call.transcriptText).toBe('Unknown: Kept');
    expect(warnings).toEqual([
      { callId: 123456, field: 'transcript', reason: expect.stringContaining('segment 0 skipped') },
      { callId: 123456, field: 'transcript', reason: expect.stringContaining('segment 1 skipped') },
      { callId: 123456, field: 'transcript', reason: expect.stringContaining('segment 2 skipped') },
      { callId: 123456, field: 'transcript', reason: expect.stringContaining('segment 3: timestamp') },
    ]);
  });

  it('array transcript whose every entry is skipped has no transcriptText', () => {
    const { call, warnings } = normalize({ transcript: [null] });
    expect([call.transcript, call.transcriptText]).toEqual([[], null]);
    expect(warnedFields(warnings)).toEqual(['transcript']);
  });

  const emptyCases = [
    { name: 'null', raw: null, warned: [] },
    { name: 'missing', raw: undefined, warned: [] },
    { name: 'empty string', raw: '', warned: [] },
    { name: 'whitespace-only string', raw: ' \n\t ', warned: [] },
    { name: 'empty array', raw: [], warned: [] },
    { name: 'a number', raw: 42, warned: ['transcript'] },
    { name: 'an object', raw: { text: 'hi' }, warned: ['transcript'] },
    { name: 'a boolean', raw: true, warned: ['transcript'] },
  ];

  it.each(emptyCases)('$name → [] and null transcriptText', ({ raw, warned }) => {
    const { call, warnings } = normalize({ transcript: raw });
    expect(call.transcript).toEqual([]);
    expect(call.transcriptText).toBeNull();
    expect(warnedFields(warnings)).toEqual(warned);
  });
});

describe('evaluation', () => {
  const declared = (type: unknown) => [{ name: 'field_a', type, value: 'v', description: 'd' }];

  const declaredTypeCases = [
    ['bool', 'BOOLEAN'],
    ['boolean', 'BOOLEAN'],
    ['BOOL', 'BOOLEAN'],
    ['int', 'INTEGER'],
    ['integer', 'INTEGER'],
    ['Integer', 'INTEGER'],
    ['float', 'NUMBER'],
    ['number', 'NUMBER'],
    ['string', 'STRING'],
    ['object', 'OBJECT'],
    ['list', 'LIST'],
    ['array', 'LIST'],
    ['enum', 'UNKNOWN'],
    ['', 'UNKNOWN'],
    [undefined, 'UNKNOWN'],
    [7, 'UNKNOWN'],
  ] as const;

  it.each(declaredTypeCases)('declared type %j → %s (the declared type wins over the value)', (type, expected) => {
    const { call, warnings } = normalize({ evaluation: declared(type) });
    expect(call.evaluation).toEqual([{ name: 'field_a', type: expected, value: 'v', description: 'd' }]);
    expect(warnings).toEqual([]);
  });

  it('array items: value undefined → null, description missing or non-string → null, bad items skipped with warnings', () => {
    const { call, warnings } = normalize({
      evaluation: [
        { name: 'score', type: 'integer', value: 9 },
        { name: 'note', type: 'string', description: 5 },
        'stray',
        { type: 'bool', value: true },
        { name: 7, type: 'bool', value: true },
      ],
    });
    expect(call.evaluation).toEqual([
      { name: 'score', type: 'INTEGER', value: 9, description: null },
      { name: 'note', type: 'STRING', value: null, description: null },
    ]);
    expect(warnings.map((w) => w.reason.split(':')[0])).toEqual([
      'item 1',
      'item 2 skipped',
      'item 3 skipped',
      'item 4 skipped',
    ]);
    expect(warnedFields(warnings)).toEqual(['evaluation', 'evaluation', 'evaluation', 'evaluation']);
  });

  it('object evaluation: one item per key in order, type inferred from the value', () => {
    const { call, warnings } = normalize({
      evaluation: {
        reached: true,
        score: 9,
        rating: 8.5,
        summary: 'ok',
        tags: ['a', 'b'],
        details: { x: 1 },
        missing: null,
      },
    });
    expect(call.evaluation).toEqual([
      { name: 'reached', type: 'BOOLEAN', value: true, description: null },
      { name: 'score', type: 'INTEGER', value: 9, description: null },
      { name: 'rating', type: 'NUMBER', value: 8.5, description: null },
      { name: 'summary', type: 'STRING', value: 'ok', description: null },
      { name: 'tags', type: 'LIST', value: ['a', 'b'], description: null },
      { name: 'details', type: 'OBJECT', value: { x: 1 }, description: null },
      { name: 'missing', type: 'UNKNOWN', value: null, description: null },
    ]);
    expect(warnings).toEqual([]);
  });

  const emptyCases = [
    { name: '[]', raw: [], warned: [] },
    { name: '{}', raw: {}, warned: [] },
    { name: 'null', raw: null, warned: [] },
    { name: 'missing', raw: undefined, warned: [] },
    { name: 'a string', raw: 'positive', warned: ['evaluation'] },
    { name: 'a number', raw: 3, warned: ['evaluation'] },
  ];

  it.each(emptyCases)('$name → []', ({ raw, warned }) => {
    const { call, warnings } = normalize({ evaluation: raw });
    expect(call.evaluation).toEqual([]);
    expect(warnedFields(warnings)).toEqual(warned);
  });
});

describe('variables and webhook_response', () => {
  const variableCases = [
    { name: 'an object', raw: { issue_resolved: true }, expected: { issue_resolved: true }, warned: [] },
    { name: 'PHP empty array []', raw: [], expected: {}, warned: [] },
    { name: 'null', raw: null, expected: {}, warned: [] },
    { name: 'missing', raw: undefined, expected: {}, warned: [] },
    { name: 'a string', raw: 'name=John', expected: {}, warned: ['variables'] },
    { name: 'a number', raw: 5, expected: {}, warned: ['variables'] },
    { name: 'a non-empty array', raw: ['John'], expected: {}, warned: ['variables'] },
  ];

  it.each(variableCases)('variables: $name', ({ raw, expected, warned }) => {
    const { call, warnings } = normalize({ variables: raw });
    expect(call.variables).toEqual(expected);
    expect(warnedFields(warnings)).toEqual(warned);
  });

  const webhookCases = [
    {
      name: 'an object',
      raw: { status: 'success', data: { id: 1 } },
      expected: { status: 'success', data: { id: 1 } },
    },
    { name: 'PHP empty array []', raw: [], expected: {} },
    { name: 'null', raw: null, expected: null },
    { name: 'missing', raw: undefined, expected: null },
    { name: 'a string', raw: 'OK', expected: 'OK' },
    { name: 'a number', raw: 200, expected: 200 },
    { name: 'a boolean', raw: false, expected: false },
    { name: 'a non-empty array', raw: [1, 'two'], expected: [1, 'two'] },
  ];

  it.each(webhookCases)('webhook_response: $name', ({ raw, expected }) => {
    const { call, warnings } = normalize({ webhook_response: raw });
    expect(call.webhookResponse).toEqual(expected);
    expect(warnings).toEqual([]);
  });
});

describe('nullable scalars', () => {
  const costCases = [
    { name: 'a number', raw: 0.025, expected: '0.025' },
    { name: 'an 8-place decimal string', raw: '0.02500000', expected: '0.02500000' },
    { name: 'an integral string', raw: '12', expected: '12' },
    { name: 'a negative string', raw: '-0.5', expected: '-0.5' },
    { name: 'a tiny number', raw: 1e-7, expected: '0.0000001' },
    { name: 'null', raw: null, expected: null },
    { name: 'missing', raw: undefined, expected: null },
  ];

  it.each(costCases)('costs: $name', ({ raw, expected }) => {
    const { call } = normalize({ carrier_cost: raw, total_cost: raw });
    expect(call.carrierCost).toBe(expected);
    expect(call.totalCost).toBe(expected);
  });

  const malformedCostCases = [
    { name: 'non-numeric text', raw: 'abc' },
    { name: 'a boolean', raw: true },
    { name: 'exponent notation', raw: '1e5' },
    { name: 'an empty string', raw: '' },
    { name: 'an object', raw: { amount: 1 } },
  ];

  it.each(malformedCostCases)('costs: $name → Malformed', ({ raw }) => {
    const { call } = normalize({ carrier_cost: raw, total_cost: raw });
    expect(call.carrierCost).toBeInstanceOf(Malformed);
    expect(call.carrierCost).toMatchObject({ field: 'carrierCost' });
    expect(call.totalCost).toBeInstanceOf(Malformed);
    expect(call.totalCost).toMatchObject({ field: 'totalCost' });
  });

  const answeredByCases = [
    { raw: 'human', expected: 'HUMAN' },
    { raw: 'machine', expected: 'MACHINE' },
    { raw: 'MACHINE', expected: 'MACHINE' },
    { raw: 'unknown', expected: 'UNKNOWN' },
    { raw: 'robot', expected: 'UNKNOWN' },
    { raw: null, expected: null },
    { raw: undefined, expected: null },
  ];

  it.each(answeredByCases)('answered_by $raw → $expected', ({ raw, expected }) => {
    expect(normalize({ answered_by: raw }).call.answeredBy).toBe(expected);
  });

  const durationCases = [
    { name: 'a number', raw: 245, expected: 245 },
    { name: 'zero', raw: 0, expected: 0 },
    { name: 'a digit string', raw: '245', expected: 245 },
    { name: 'null', raw: null, expected: null },
    { name: 'missing', raw: undefined, expected: null },
  ];

  it.each(durationCases)('duration: $name', ({ raw, expected }) => {
    expect(normalize({ duration: raw }).call.durationSeconds).toBe(expected);
  });

  const malformedDurationCases = [
    { name: 'negative', raw: -1 },
    { name: 'non-numeric text', raw: 'x' },
    { name: 'fractional', raw: 1.5 },
    { name: 'a fractional string', raw: '1.5' },
    { name: 'a boolean', raw: true },
  ];

  it.each(malformedDurationCases)('duration: $name → Malformed', ({ raw }) => {
    const { durationSeconds } = normalize({ duration: raw }).call;
    expect(durationSeconds).toBeInstanceOf(Malformed);
    expect(durationSeconds).toMatchObject({ field: 'durationSeconds' });
  });

  const malformedFieldCases = [
    { key: 'assistant_name', raw: 42, field: 'assistantName' },
    { key: 'campaign_name', raw: { id: 1 }, field: 'campaignName' },
    { key: 'assistant_phone_number', raw: 4930123456, field: 'assistantPhoneNumber' },
    { key: 'client_phone_number', raw: ['+49'], field: 'clientPhoneNumber' },
    { key: 'recording_url', raw: true, field: 'recordingUrl' },
    { key: 'duration', raw: 'x', field: 'durationSeconds' },
    { key: 'carrier_cost', raw: 'abc', field: 'carrierCost' },
    { key: 'total_cost', raw: true, field: 'totalCost' },
    { key: 'answered_by', raw: 1, field: 'answeredBy' },
  ] as const;

  it.each(malformedFieldCases)(
    '$key of the wrong type → Malformed($field), other fields intact',
    ({ key, raw, field }) => {
      const { call, warnings } = normalize({ [key]: raw });
      const value = call[field];
      expect(value).toBeInstanceOf(Malformed);
      expect(value).toMatchObject({ field, reason: expect.stringMatching(/^expected /) });
      expect(without(call, field)).toEqual(without(baseCall, field));
      expect(warnings).toEqual([]);
    },
  );

  const nullStringCases = [
    { key: 'assistant_name', field: 'assistantName' },
    { key: 'campaign_name', field: 'campaignName' },
    { key: 'assistant_phone_number', field: 'assistantPhoneNumber' },
    { key: 'client_phone_number', field: 'clientPhoneNumber' },
    { key: 'recording_url', field: 'recordingUrl' },
  ] as const;

  it.each(nullStringCases)('$key: null stays null', ({ key, field }) => {
    const { call } = normalize({ [key]: null });
    expect(call[field]).toBeNull();
    expect(without(call, field)).toEqual(without(baseCall, field));
  });
});

describe('status and type', () => {
  // The ten documented statuses (../shared/docs/upstream-contract.md §2), written out rather than derived, so a wrong
  // spelling on either side fails here.
  const upstreamStatusCases = [
    { raw: 'initiated', expected: 'INITIATED' },
    { raw: 'ringing', expected: 'RINGING' },
    { raw: 'busy', expected: 'BUSY' },
    { raw: 'in-progress', expected: 'IN_PROGRESS' },
    { raw: 'ended', expected: 'ENDED' },
    { raw: 'completed', expected: 'COMPLETED' },
    { raw: 'ended_by_customer', expected: 'ENDED_BY_CUSTOMER' },
    { raw: 'ended_by_assistant', expected: 'ENDED_BY_ASSISTANT' },
    { raw: 'no-answer', expected: 'NO_ANSWER' },
    { raw: 'failed', expected: 'FAILED' },
  ];

  const statusCases = [
    ...upstreamStatusCases.map((c) => ({ ...c, warned: [] as string[] })),
    { raw: 'in progress', expected: 'IN_PROGRESS', warned: [] },
    { raw: 'Ended by customer', expected: 'ENDED_BY_CUSTOMER', warned: [] },
    { raw: 'NO-ANSWER', expected: 'NO_ANSWER', warned: [] },
    { raw: 'in_progress', expected: 'IN_PROGRESS', warned: [] },
    { raw: 'weird', expected: 'UNKNOWN', warned: [] },
    { raw: 'pending', expected: 'UNKNOWN', warned: [] },
    { raw: 42, expected: 'UNKNOWN', warned: ['status'] },
    { raw: null, expected: 'UNKNOWN', warned: ['status'] },
  ];

  it.each(statusCases)('status $raw → $expected', ({ raw, expected, warned }) => {
    const { call, warnings } = normalize({ status: raw });
    expect(call.status).toBe(expected);
    expect(warnedFields(warnings)).toEqual(warned);
  });

  const typeCases = [
    { raw: 'inbound', expected: 'INBOUND', warned: [] },
    { raw: 'outbound', expected: 'OUTBOUND', warned: [] },
    { raw: 'web', expected: 'WEB', warned: [] },
    { raw: 'WEB', expected: 'WEB', warned: [] },
    { raw: 'sip', expected: 'UNKNOWN', warned: [] },
    { raw: 3, expected: 'UNKNOWN', warned: ['type'] },
  ];

  it.each(typeCases)('type $raw → $expected', ({ raw, expected, warned }) => {
    const { call, warnings } = normalize({ type: raw });
    expect(call.type).toBe(expected);
    expect(warnedFields(warnings)).toEqual(warned);
  });
});

describe('record identity', () => {
  const unreadableRecordCases = [
    { name: 'null record', raw: null },
    { name: 'string record', raw: 'call' },
    { name: 'array record', raw: [baseRecord] },
    { name: 'id 0', raw: { ...baseRecord, id: 0 } },
    { name: 'negative id', raw: { ...baseRecord, id: -1 } },
    { name: 'fractional id', raw: { ...baseRecord, id: 1.5 } },
    { name: 'non-numeric string id', raw: { ...baseRecord, id: '12a' } },
    { name: 'string id "0"', raw: { ...baseRecord, id: '0' } },
    { name: 'null id', raw: { ...baseRecord, id: null } },
    { name: 'missing id', raw: { ...baseRecord, id: undefined } },
    { name: 'boolean id', raw: { ...baseRecord, id: true } },
    { name: 'missing created_at', raw: { ...baseRecord, created_at: undefined } },
    { name: 'null created_at', raw: { ...baseRecord, created_at: null } },
    { name: 'garbage created_at', raw: { ...baseRecord, created_at: 'yesterday' } },
    { name: 'impossible created_at', raw: { ...baseRecord, created_at: '2025-02-30 10:00:00' } },
  ];

  it.each(unreadableRecordCases)('$name → UpstreamBadResponseError', ({ raw }) => {
    expect(() => normalizeCall(raw, UTC, [])).toThrow(UpstreamBadResponseError);
  });

  it('falls back to createdAt with a warning when updated_at is unreadable', () => {
    const { call, warnings } = normalize({ updated_at: '2025-13-01 00:00:00' });
    expect(call.updatedAt).toEqual(baseCall.createdAt);
    expect(warnings).toEqual([{ callId: 123456, field: 'updatedAt', reason: expect.stringContaining('createdAt') }]);
  });
});

describe('normalizeCallPage', () => {
  const NO_ECHO = { perPage: null, currentPage: null, from: null, to: null };
  const envelopeCases = [
    { name: 'only data', raw: { data: [baseRecord] }, total: null, lastPage: null, echo: NO_ECHO, warned: [] },
    {
      name: 'the full Laravel paginator with per_page as a string',
      raw: {
        current_page: 1,
        data: [baseRecord],
        first_page_url: 'https://api.famulor.de/api/user/calls?page=1',
        from: 1,
        last_page: 3,
        last_page_url: 'https://api.famulor.de/api/user/calls?page=3',
        links: [{ url: null, label: '&laquo; Previous', active: false }],
        next_page_url: 'https://api.famulor.de/api/user/calls?page=2',
        path: 'https://api.famulor.de/api/user/calls',
        per_page: '15',
        prev_page_url: null,
        to: 1,
        total: 42,
      },
      total: 42,
      lastPage: 3,
      echo: { perPage: 15, currentPage: 1, from: 1, to: 1 },
      warned: [],
    },
    {
      name: 'total missing',
      raw: { data: [baseRecord], last_page: 2 },
      total: null,
      lastPage: 2,
      echo: NO_ECHO,
      warned: [],
    },
    {
      name: 'total as a string',
      raw: { data: [baseRecord], total: '42', last_page: '3' },
      total: 42,
      lastPage: 3,
      echo: NO_ECHO,
      warned: [],
    },
    {
      name: 'unreadable total and last_page',
      raw: { data: [baseRecord], total: 'many', last_page: -1 },
      total: null,
      lastPage: null,
      echo: NO_ECHO,
      warned: ['total', 'last_page'],
    },
    {
      name: 'an unreadable echo (current_page "first", from -1)',
      raw: { data: [baseRecord], current_page: 'first', per_page: 50, from: -1, to: null },
      total: null,
      lastPage: null,
      echo: { perPage: 50, currentPage: null, from: null, to: null },
      warned: ['current_page', 'from'],
    },
  ];

  it.each(envelopeCases)('$name', ({ raw, total, lastPage, echo, warned }) => {
    const warnings: NormalizeWarning[] = [];
    const page = normalizeCallPage(raw, UTC, warnings);
    expect(page).toEqual({ calls: [baseCall], total, lastPage, echo });
    expect(warnedFields(warnings)).toEqual(warned);
    expect(warnings.every((w) => w.callId === null)).toBe(true);
  });

  it('normalises an empty page', () => {
    expect(normalizeCallPage({ data: [], total: 0, last_page: 1 }, UTC, [])).toEqual({
      calls: [],
      total: 0,
      lastPage: 1,
      echo: NO_ECHO,
    });
  });

  const badEnvelopeCases = [
    { name: 'data not an array', raw: { data: { 0: baseRecord }, total: 1 } },
    { name: 'data missing', raw: { total: 1 } },
    { name: 'not an object', raw: 'Whoops, looks like something went wrong.' },
    { name: 'null', raw: null },
    { name: 'a bare array', raw: [baseRecord] },
  ];

  it.each(badEnvelopeCases)('$name → UpstreamBadResponseError without upstream text', ({ raw }) => {
    expect(() => normalizeCallPage(raw, UTC, [])).toThrow(
      new UpstreamBadResponseError('The upstream answered with an unexpected list shape.'),
    );
  });

  it('fails the whole page when one record cannot be identified', () => {
    const raw = { data: [baseRecord, { ...baseRecord, id: 'abc' }] };
    expect(() => normalizeCallPage(raw, UTC, [])).toThrow(UpstreamBadResponseError);
  });
});

describe('unwrapCallRecord', () => {
  const arrayWrapper = { data: [baseRecord] };
  const recordWithDataKey = { ...baseRecord, data: { x: 1 } };
  const cases = [
    { name: 'a bare record', raw: baseRecord, expected: baseRecord },
    { name: 'a { data: record } wrapper', raw: { data: baseRecord }, expected: baseRecord },
    { name: 'a wrapper whose data is an array', raw: arrayWrapper, expected: arrayWrapper },
    { name: 'a record that has its own data key', raw: recordWithDataKey, expected: recordWithDataKey },
    { name: 'null', raw: null, expected: null },
  ];

  it.each(cases)('$name', ({ raw, expected }) => {
    expect(unwrapCallRecord(raw)).toBe(expected);
  });
});

describe('parseUpstreamDate', () => {
  const cases = [
    { name: 'naive, UTC', value: '2025-08-04 14:30:00', zone: 'UTC', expected: '2025-08-04T14:30:00.000Z' },
    {
      name: 'naive, Berlin summer (+02:00)',
      value: '2025-08-04 14:30:00',
      zone: 'Europe/Berlin',
      expected: '2025-08-04T12:30:00.000Z',
    },
    {
      name: 'naive, Berlin winter (+01:00)',
      value: '2025-01-15 14:30:00',
      zone: 'Europe/Berlin',
      expected: '2025-01-15T13:30:00.000Z',
    },
    {
      name: 'naive with T, Berlin',
      value: '2025-08-04T14:30:00',
      zone: 'Europe/Berlin',
      expected: '2025-08-04T12:30:00.000Z',
    },
    {
      name: 'Berlin, last second before the gap',
      value: '2025-03-30 01:59:59',
      zone: 'Europe/Berlin',
      expected: '2025-03-30T00:59:59.000Z',
    },
    {
      name: 'Berlin DST gap (skipped 02:30 → 03:30 CEST)',
      value: '2025-03-30 02:30:00',
      zone: 'Europe/Berlin',
      expected: '2025-03-30T01:30:00.000Z',
    },
    {
      name: 'Berlin, first second after the gap',
      value: '2025-03-30 03:00:00',
      zone: 'Europe/Berlin',
      expected: '2025-03-30T01:00:00.000Z',
    },
    {
      name: 'Berlin DST overlap (earlier, CEST)',
      value: '2025-10-26 02:30:00',
      zone: 'Europe/Berlin',
      expected: '2025-10-26T00:30:00.000Z',
    },
    {
      name: 'Berlin, just after the overlap',
      value: '2025-10-26 03:00:00',
      zone: 'Europe/Berlin',
      expected: '2025-10-26T02:00:00.000Z',
    },
    {
      name: 'New York DST gap',
      value: '2025-03-09 02:30:00',
      zone: 'America/New_York',
      expected: '2025-03-09T07:30:00.000Z',
    },
    {
      name: 'New York DST overlap (earlier, EDT)',
      value: '2025-11-02 01:30:00',
      zone: 'America/New_York',
      expected: '2025-11-02T05:30:00.000Z',
    },
    {
      name: 'half-hour zone',
      value: '2025-08-04 14:30:00',
      zone: 'Asia/Kolkata',
      expected: '2025-08-04T09:00:00.000Z',
    },
    { name: 'leap day', value: '2024-02-29 12:00:00', zone: 'UTC', expected: '2024-02-29T12:00:00.000Z' },
    {
      name: 'two-digit year is not moved to the 1900s',
      value: '0099-01-01 00:00:00',
      zone: 'UTC',
      expected: '0099-01-01T00:00:00.000Z',
    },
    {
      name: 'ISO with Z (zone ignored)',
      value: '2024-01-15T10:30:00Z',
      zone: 'Europe/Berlin',
      expected: '2024-01-15T10:30:00.000Z',
    },
    {
      name: 'ISO with microseconds',
      value: '2025-01-15T10:30:00.000000Z',
      zone: 'UTC',
      expected: '2025-01-15T10:30:00.000Z',
    },
    {
      name: 'microseconds truncated to ms',
      value: '2025-01-15T10:30:00.123987Z',
      zone: 'UTC',
      expected: '2025-01-15T10:30:00.123Z',
    },
    { name: 'one fraction digit', value: '2025-01-15T10:30:00.5Z', zone: 'UTC', expected: '2025-01-15T10:30:00.500Z' },
    { name: 'offset +01:00', value: '2026-02-23T09:30:00+01:00', zone: 'UTC', expected: '2026-02-23T08:30:00.000Z' },
    { name: 'offset +0100', value: '2026-02-23T09:30:00+0100', zone: 'UTC', expected: '2026-02-23T08:30:00.000Z' },
    {
      name: 'offset -05:30 with fraction',
      value: '2026-02-23T09:30:00.25-05:30',
      zone: 'UTC',
      expected: '2026-02-23T15:00:00.250Z',
    },
    { name: 'garbage', value: 'garbage', zone: 'UTC', expected: null },
    { name: 'empty string', value: '', zone: 'UTC', expected: null },
    { name: 'February 30', value: '2025-02-30 10:00:00', zone: 'UTC', expected: null },
    { name: 'February 29 in a common year', value: '2023-02-29 10:00:00', zone: 'UTC', expected: null },
    { name: 'month 13', value: '2025-13-01 10:00:00', zone: 'UTC', expected: null },
    { name: 'month 0 (MySQL zero date)', value: '0000-00-00 00:00:00', zone: 'UTC', expected: null },
    { name: 'hour 24', value: '2025-08-04 24:00:00', zone: 'UTC', expected: null },
    { name: 'minute 60', value: '2025-08-04 14:60:00', zone: 'UTC', expected: null },
    { name: 'second 60', value: '2025-08-04 14:30:60', zone: 'UTC', expected: null },
    { name: 'offset minutes 60', value: '2025-08-04T14:30:00+01:60', zone: 'UTC', expected: null },
    { name: 'seven fraction digits', value: '2025-01-15T10:30:00.1234567Z', zone: 'UTC', expected: null },
    { name: 'date only', value: '2025-08-04', zone: 'UTC', expected: null },
    { name: 'epoch number', value: 1754055268, zone: 'UTC', expected: null },
    { name: 'null', value: null, zone: 'UTC', expected: null },
  ];

  it.each(cases)('$name: $value', ({ value, zone, expected }) => {
    expect(parseUpstreamDate(value, zone)?.toISOString() ?? null).toBe(expected);
  });

  it('throws RangeError for an unknown zone when it needs one', () => {
    expect(() => parseUpstreamDate('2025-08-04 14:30:00', 'Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('parseDecimal', () => {
  const cases: { name: string; value: unknown; expected: string | null | undefined }[] = [
    { name: '8-place string', value: '0.02500000', expected: '0.02500000' },
    { name: 'integral string', value: '12', expected: '12' },
    { name: 'negative string', value: '-0.5', expected: '-0.5' },
    { name: 'number', value: 0.025, expected: '0.025' },
    { name: 'balance-sized number', value: 100.67447094, expected: '100.67447094' },
    { name: 'integer', value: 12, expected: '12' },
    { name: 'tiny number', value: 1.5e-7, expected: '0.00000015' },
    { name: 'huge number', value: 1.2345e25, expected: '12345000000000000000000000' },
    { name: 'negative tiny number', value: -2e-7, expected: '-0.0000002' },
    { name: 'null', value: null, expected: null },
    { name: 'NaN', value: Number.NaN, expected: undefined },
    { name: 'Infinity', value: Number.POSITIVE_INFINITY, expected: undefined },
    { name: 'text', value: 'abc', expected: undefined },
    { name: 'exponent string', value: '1e5', expected: undefined },
    { name: 'empty string', value: '', expected: undefined },
    { name: 'padded string', value: ' 1.5', expected: undefined },
    { name: 'trailing point', value: '1.', expected: undefined },
    { name: 'boolean', value: true, expected: undefined },
    { name: 'object', value: { amount: '1.00' }, expected: undefined },
    { name: 'undefined', value: undefined, expected: undefined },
  ];

  it.each(cases)('$name', ({ value, expected }) => {
    expect(parseDecimal(value)).toBe(expected);
  });
});

describe('no upstream values in warnings, reasons or errors', () => {
  it('keeps a distinctive value out of every warning and Malformed reason', () => {
    const { call, warnings } = normalize({
      status: { label: SECRET },
      type: [SECRET],
      duration: SECRET,
      carrier_cost: SECRET,
      total_cost: { SECRET },
      answered_by: { value: SECRET },
      assistant_name: [SECRET],
      transcript: [SECRET, { text: { SECRET } }, { text: 'ok', timestamp: SECRET }],
      evaluation: SECRET,
      variables: SECRET,
      updated_at: SECRET,
    });
    const malformed = Object.values(call).filter((v): v is Malformed => v instanceof Malformed);
    expect(malformed.map((m) => m.field).sort()).toEqual(
      ['answeredBy', 'assistantName', 'carrierCost', 'durationSeconds', 'totalCost'].sort(),
    );
    expect(warnedFields(warnings).sort()).toEqual(
      ['evaluation', 'status', 'transcript', 'transcript', 'transcript', 'type', 'updatedAt', 'variables'].sort(),
    );
    const text = JSON.stringify([warnings, malformed.map((m) => m.reason)]);
    expect(text).not.toContain('SECRET');
  });

  it('keeps a distinctive value out of record and envelope errors, including their causes', () => {
    const errors: unknown[] = [];
    for (const raw of [
      { ...baseRecord, id: SECRET },
      { ...baseRecord, created_at: SECRET },
    ]) {
      try {
        normalizeCall(raw, UTC, []);
      } catch (error) {
        errors.push(error);
      }
    }
    try {
      normalizeCallPage({ data: SECRET }, UTC, []);
    } catch (error) {
      errors.push(error);
    }
    expect(errors).toHaveLength(3);
    for (const error of errors) {
      expect(error).toBeInstanceOf(UpstreamBadResponseError);
      const { message, cause } = error as UpstreamBadResponseError;
      expect(message).not.toContain('SECRET');
      expect(String(cause)).not.toContain('SECRET');
    }
  });
});
