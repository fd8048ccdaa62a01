/**
 * Seeded, deterministic call records for the simulator, in both record dialects the upstream docs show
 * (../shared/docs/upstream-contract.md §3): NEW (array transcript and evaluation, `decimal:8` string costs, ISO-Z
 * dates) and OLD (string transcript, flat evaluation object, numeric costs, `Y-m-d H:i:s` dates in UTC).
 * Nothing here reads the clock: the same options always give the same records.
 */
import type { CallStatusValue, WireCall, WireEvaluationItem, WireTranscriptSegment } from './wire.js';

/** A record as the API returns it, plus the hidden attributes the list filters need. */
export interface SimCall {
  raw: WireCall;
  assistantId: number;
  campaignId: number | null;
  createdAt: Date;
}

interface SimAssistant {
  id: number;
  name: string;
  phoneNumber: string;
  language: 'de' | 'en';
}

interface SimCampaign {
  id: number;
  name: string;
  assistantId: number;
}

/** The tenant's assistants, campaigns and the pool client numbers are drawn from. */
interface SimCatalog {
  assistants: readonly SimAssistant[];
  campaigns: readonly SimCampaign[];
  clientNumbers: readonly string[];
}

export interface GenerateCallsOptions {
  seed: number;
  count: number;
  /** Id of the oldest call; later calls get larger ids (with small gaps, as after deletions). @default 1 */
  firstId?: number;
  /** Calls are created in the `spanDays` days before this instant. @default 2026-11-01T00:00:00Z */
  start?: Date;
  /** @default 120 */
  spanDays?: number;
  /** @default DEMO_CATALOG */
  catalog?: SimCatalog;
}

export const DEFAULT_START = new Date('2026-11-01T00:00:00Z');
const DEFAULT_SPAN_DAYS = 120;

export const DEMO_TOKEN = 'demo-token';
const DEMO_SEED = 20261101;
const DEMO_CALL_COUNT = 2500;
const DEMO_FIRST_ID = 100_001;

export const SECOND_TENANT_TOKEN = 'tenant-b-token';
const SECOND_TENANT_SEED = 4242;
const SECOND_TENANT_CALL_COUNT = 300;
const SECOND_TENANT_FIRST_ID = 900_001;

const DEMO_CATALOG: SimCatalog = {
  assistants: [
    { id: 11, name: 'Sales Assistant', phoneNumber: '+4930120455701', language: 'de' },
    { id: 12, name: 'Support Assistant', phoneNumber: '+4930120455702', language: 'de' },
    { id: 17, name: 'Appointment Setter', phoneNumber: '+4940228819300', language: 'de' },
    { id: 23, name: 'Lead Qualifier', phoneNumber: '+14155550123', language: 'en' },
    { id: 31, name: 'Customer Care EN', phoneNumber: '+442071838750', language: 'en' },
  ],
  campaigns: [
    { id: 3, name: 'Neukundenakquise Q4 2026', assistantId: 11 },
    { id: 5, name: 'Q4 Outreach Campaign', assistantId: 23 },
    { id: 8, name: 'Terminerinnerung November', assistantId: 17 },
    { id: 9, name: 'Reaktivierung Bestandskunden', assistantId: 11 },
  ],
  clientNumbers: [
    '+4915123456789',
    '+4915123456790',
    '+4915129874410',
    '+4915207733120',
    '+4916090412268',
    '+4916098120077',
    '+4917012345678',
    '+4917123456789',
    '+4917255510042',
    '+4917630303030',
    '+4917688120345',
    '+4917912000456',
    '+436641234567',
    '+436769876543',
    '+41791234567',
    '+41784455667',
    '+14155550187',
    '+14155550199',
    '+12125550143',
    '+13105550116',
    '+447700900123',
    '+447700900456',
    '+33612345678',
    '+4930901820',
  ],
};

const SECOND_TENANT_CATALOG: SimCatalog = {
  assistants: [
    { id: 201, name: 'Praxis Dr. Weber Rezeption', phoneNumber: '+4989412200100', language: 'de' },
    { id: 202, name: 'Outbound Surveys', phoneNumber: '+13125550170', language: 'en' },
  ],
  campaigns: [{ id: 301, name: 'Patient Satisfaction Survey', assistantId: 202 }],
  clientNumbers: ['+4915901234567', '+4915901234568', '+4917398765432', '+13125550111', '+13125550122', '+4989123456'],
};

/** mulberry32: a small, fast, seedable PRNG returning floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.next() * total;
    for (const [value, weight] of entries) {
      roll -= weight;
      if (roll < 0) return value;
    }
    const last = entries[entries.length - 1];
    if (last === undefined) throw new RangeError('weighted pick from an empty list');
    return last[0];
  }
}

const DAY_MS = 86_400_000;

const STATUS_WEIGHTS: readonly (readonly [CallStatusValue, number])[] = [
  ['completed', 24],
  ['ended', 12],
  ['ended_by_customer', 15],
  ['ended_by_assistant', 12],
  ['no-answer', 12],
  ['busy', 6],
  ['failed', 5],
  ['in-progress', 5],
  ['ringing', 4],
  ['initiated', 5],
];

/** Statuses of calls in which somebody (or a machine) picked up and talked. */
const CONNECTED_STATUSES: ReadonlySet<string> = new Set([
  'completed',
  'ended',
  'ended_by_customer',
  'ended_by_assistant',
  'in-progress',
]);
/** Statuses of calls that have not finished yet. */
const OPEN_STATUSES: ReadonlySet<string> = new Set(['initiated', 'ringing', 'in-progress']);

interface Script {
  openings: readonly string[];
  middles: readonly string[];
  replies: readonly string[];
  closings: readonly string[];
  summaries: readonly string[];
}

const SCRIPTS: Record<SimAssistant['language'], Script> = {
  de: {
    openings: [
      'Hallo, mein Name ist Maximilian, ich melde mich im Auftrag eines IT-Unternehmens.',
      'Guten Tag, hier ist der digitale Assistent. Wie kann ich Ihnen helfen?',
      'Hallo, hier ist Lena von der Kundenbetreuung. Haben Sie kurz Zeit?',
      'Guten Tag! Ich rufe wegen Ihres Termins nächste Woche an.',
    ],
    middles: [
      'Gerne helfe ich Ihnen dabei. Was kann ich für Sie tun?',
      'Darf ich fragen, wer bei Ihnen für die IT zuständig ist?',
      'Ich kann Ihnen Donnerstag um 10 Uhr oder Freitag um 14 Uhr anbieten.',
      'Verstanden. Ich habe das für Sie notiert.',
      'Ich verbinde Sie gleich mit einem Kollegen, einen Moment bitte.',
      'Möchten Sie, dass wir Ihnen die Unterlagen per E-Mail schicken?',
    ],
    replies: [
      'Hallo?',
      'Kunde: Hallo, ich habe eine Frage zu meinem Konto.',
      'Ja, worum geht es denn?',
      'Das wäre Herr Schmidt, der ist aber erst morgen wieder da.',
      'Donnerstag passt mir gut.',
      'Nein danke, kein Interesse.',
      'Können Sie mich morgen zurückrufen?',
      'Ja, gerne per E-Mail.',
    ],
    closings: [
      'Vielen Dank für Ihre Zeit. Auf Wiederhören!',
      'Alles klar, ich habe den Termin eingetragen. Einen schönen Tag noch!',
      'Danke für das Gespräch. Tschüss!',
    ],
    summaries: [
      'Ansprechpartner für IT ermittelt, Rückruf vereinbart.',
      'Termin für Donnerstag 10 Uhr bestätigt.',
      'Kunde hat kein Interesse.',
      'Frage zum Konto beantwortet.',
      'Unterlagen per E-Mail angefordert.',
    ],
  },
  en: {
    openings: [
      'Hello, this is Sarah from Famulor. How are you doing today?',
      'Hi, this is Max calling on behalf of Northwind Energy. Do you have a minute?',
      'Thanks for calling, this is the virtual assistant. How can I help?',
      "Good afternoon! I'm calling about your recent inquiry.",
    ],
    middles: [
      'Great. Could you tell me a bit about your current setup?',
      'Would Thursday at 10 am work for a short consultation?',
      "I've noted that down for you.",
      'Is there anything else I can help you with?',
      'Let me check that for you, one moment please.',
      'Can I send you a summary by email?',
    ],
    replies: [
      'Hello?',
      'Hi, yes, I have a minute.',
      'Who is this again?',
      "Sorry, I'm busy right now.",
      "Sure, what's this about?",
      'Thursday works for me.',
      'Can you call me back tomorrow?',
      "No thanks, I'm not interested.",
      'Yes, please send it over.',
    ],
    closings: [
      'Thank you for your time, goodbye!',
      "Perfect, you're all set. Have a great day!",
      'Thanks for the chat. Bye!',
    ],
    summaries: [
      'Qualified lead, consultation booked for Thursday.',
      'Customer asked for a callback tomorrow.',
      'Not interested.',
      'Question answered, no follow-up needed.',
      'Summary requested by email.',
    ],
  },
};

const FIRST_NAMES = ['John', 'Anna', 'Lukas', 'Maria', 'Jonas', 'Sophie', 'Emma', 'Paul', 'Mia', 'Leon'];

/** Decimal string with 8 places from an integer count of 1e-8 units, as Laravel's `decimal:8` cast prints. */
function decimal8(units: number): string {
  const whole = Math.trunc(units / 1e8);
  const fraction = String(units % 1e8).padStart(8, '0');
  return `${whole}.${fraction}`;
}

function isoZ(date: Date, microseconds: boolean): string {
  const iso = date.toISOString();
  return microseconds ? iso.replace(/\.(\d{3})Z$/, '.$1000Z') : iso.replace(/\.\d{3}Z$/, 'Z');
}

function ymdHis(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

interface Turn {
  sender: 'bot' | 'human';
  text: string;
}

function conversation(rng: Random, script: Script, duration: number, open: boolean): Turn[] {
  const count = Math.min(10, 2 + Math.floor(duration / 45));
  const humanFirst = rng.chance(0.1);
  const turns: Turn[] = [];
  for (let i = 0; i < count; i += 1) {
    const sender: Turn['sender'] = (i % 2 === 0) !== humanFirst ? 'bot' : 'human';
    let text: string;
    if (sender === 'human') text = i === 0 ? (script.replies[0] ?? '') : rng.pick(script.replies);
    else if (turns.length === 0 || (humanFirst && turns.length === 1)) text = rng.pick(script.openings);
    else if (i === count - 1 && !open) text = rng.pick(script.closings);
    else text = rng.pick(script.middles);
    turns.push({ sender, text });
  }
  return turns;
}

function segments(rng: Random, turns: readonly Turn[], createdAt: Date, duration: number): WireTranscriptSegment[] {
  const startMicros = createdAt.getTime() * 1000 + rng.int(500_000, 4_000_000);
  const stepMicros = Math.max(1_000_000, Math.floor(((duration - 2) * 1_000_000) / Math.max(1, turns.length)));
  return turns.map((turn, index) => {
    const micros = startMicros + index * stepMicros + rng.int(0, Math.floor(stepMicros / 3));
    return {
      text: turn.text,
      type: 'transcript',
      sender: turn.sender,
      timestamp: micros / 1e6,
    };
  });
}

/** Old-dialect transcript: one string, with `AI:`/`Customer:` lines or without any speaker prefix. */
function transcriptString(rng: Random, turns: readonly Turn[]): string {
  const style = rng.weighted([
    ['ai-customer', 6],
    ['assistant-user', 1],
    ['plain', 3],
  ] as const);
  if (style === 'plain') return turns.map((turn) => turn.text).join(' ');
  const [bot, human] = style === 'ai-customer' ? ['AI', 'Customer'] : ['Assistant', 'User'];
  const lines: string[] = [];
  for (const turn of turns) {
    const text = turn.text.replace(/^Kunde: /, '');
    const sentences = text.split(/(?<=[.?!]) (?=\S)/);
    const [first, ...rest] = sentences;
    lines.push(`${turn.sender === 'bot' ? bot : human}: ${first ?? text}`);
    // Now and then a turn spans two lines; the second carries no prefix.
    if (rest.length > 0 && rng.chance(0.3)) lines.push(rest.join(' '));
    else if (rest.length > 0) lines[lines.length - 1] += ` ${rest.join(' ')}`;
  }
  return lines.join('\n');
}

function arrayEvaluation(rng: Random, script: Script, status: string): WireEvaluationItem[] {
  const reached = status === 'completed' ? rng.chance(0.8) : rng.chance(0.35);
  // The docs show `status` declared as "bool" and, on the get page, as "string".
  const statusAsString = rng.chance(0.15);
  const items: WireEvaluationItem[] = [
    {
      name: 'status',
      type: statusAsString ? 'string' : 'bool',
      value: statusAsString ? (reached ? 'achieved' : 'not achieved') : reached,
      description: 'Whether the call objective was achieved or not.',
    },
    {
      name: 'summary',
      type: 'string',
      value: rng.pick(script.summaries),
      description: 'Call summary in a few words.',
    },
  ];
  if (rng.chance(0.5)) {
    items.push({
      name: 'satisfaction',
      type: 'integer',
      value: rng.int(1, 10),
      description: 'Customer satisfaction rating from 1-10.',
    });
  }
  if (rng.chance(0.35)) {
    items.push({
      name: 'callback_wanted',
      type: 'bool',
      value: rng.chance(0.4),
      description: 'Whether the customer asked to be called back.',
    });
  }
  return items;
}

function objectEvaluation(rng: Random, status: string): Record<string, unknown> {
  const evaluation: Record<string, unknown> = {
    sentiment: rng.pick(['positive', 'positive', 'neutral', 'negative']),
    outcome: rng.pick(
      status === 'completed'
        ? ['qualified_lead', 'appointment_booked', 'resolved']
        : ['not_interested', 'callback', 'resolved', 'qualified_lead'],
    ),
    score: rng.int(10, 100) / 10,
  };
  if (rng.chance(0.3)) evaluation.appointment_booked = rng.chance(0.5);
  return evaluation;
}

function variablesFor(rng: Random, assistant: SimAssistant): Record<string, unknown> {
  const variables: Record<string, unknown> = { customer_name: rng.pick(FIRST_NAMES) };
  if (rng.chance(0.5)) variables.interest_level = rng.pick(['high', 'medium', 'low']);
  if (rng.chance(0.3)) variables.issue_resolved = rng.chance(0.7);
  if (rng.chance(0.3)) variables.satisfaction_rating = rng.int(1, 10);
  if (assistant.language === 'de' && rng.chance(0.3)) variables.termin = 'Donnerstag, 10:00';
  return variables;
}

function webhookResponse(rng: Random, id: number): unknown {
  return rng.weighted<() => unknown>([
    [() => ({ crm_updated: true, lead_score: rng.int(0, 100) }), 3],
    [() => ({ status: 'success', data: { crm_contact_id: `c${(id * 7919) % 1_000_003}` } }), 2],
    [() => null, 4],
    [() => [], 1],
  ])();
}

/** Deterministic calls, oldest first, with ids increasing with creation time. */
export function generateCalls(options: GenerateCallsOptions): SimCall[] {
  const rng = new Random(options.seed);
  const catalog = options.catalog ?? DEMO_CATALOG;
  const end = (options.start ?? DEFAULT_START).getTime();
  const spanDays = options.spanDays ?? DEFAULT_SPAN_DAYS;
  const firstId = options.firstId ?? 1;

  const times: number[] = [];
  for (let i = 0; i < options.count; i += 1) {
    const day = Math.floor(end / DAY_MS) - 1 - rng.int(0, spanDays - 1);
    // Mostly office hours (UTC), some at any time of day.
    const secondOfDay = rng.chance(0.9) ? rng.int(7 * 3600, 20 * 3600 - 1) : rng.int(0, 86_399);
    times.push(Math.min(day * DAY_MS + secondOfDay * 1000, end - 1000));
  }
  times.sort((a, b) => a - b);
  // A few calls start in the same second as the previous one, so ordering needs its id tie-break.
  for (let i = 1; i < times.length; i += 1) {
    const previous = times[i - 1];
    if (previous !== undefined && rng.chance(0.02)) times[i] = previous;
  }

  const calls: SimCall[] = [];
  let id = firstId;
  for (const time of times) {
    calls.push(generateCall(rng, catalog, id, new Date(time)));
    id += rng.chance(0.08) ? rng.int(2, 4) : 1;
  }
  return calls;
}

function generateCall(rng: Random, catalog: SimCatalog, id: number, createdAt: Date): SimCall {
  const campaign = catalog.campaigns.length > 0 && rng.chance(0.4) ? rng.pick(catalog.campaigns) : null;
  const assistant = campaign
    ? (catalog.assistants.find((a) => a.id === campaign.assistantId) ?? rng.pick(catalog.assistants))
    : rng.pick(catalog.assistants);
  const type = campaign
    ? 'outbound'
    : rng.weighted([
        ['inbound', 5],
        ['outbound', 3],
        ['web', 2],
      ] as const);
  const status = rng.weighted(STATUS_WEIGHTS);
  const newDialect = rng.chance(0.5);
  const connected = CONNECTED_STATUSES.has(status);
  const open = OPEN_STATUSES.has(status);
  const script = SCRIPTS[assistant.language];

  const clientPhone = type === 'web' ? null : rng.pick(catalog.clientNumbers);
  const assistantPhone = type === 'web' ? null : assistant.phoneNumber;

  let duration: number | null;
  if (status === 'in-progress') duration = rng.chance(0.6) ? null : rng.int(5, 120);
  else if (connected) duration = rng.int(8, 120) + (rng.chance(0.4) ? rng.int(0, 480) : 0);
  else duration = rng.chance(0.5) ? 0 : null;

  const talkSeconds = duration ?? (status === 'in-progress' ? 40 : 0);
  const turns = connected ? conversation(rng, script, talkSeconds, open) : [];

  let transcript: WireCall['transcript'];
  let evaluation: WireCall['evaluation'];
  if (!connected) {
    transcript = rng.pick<WireCall['transcript']>(newDialect ? [[], null, ''] : [null, '']);
    evaluation = rng.chance(newDialect ? 0.8 : 0.4) ? [] : null;
  } else if (newDialect) {
    transcript = segments(rng, turns, createdAt, talkSeconds);
    evaluation = open ? [] : arrayEvaluation(rng, script, status);
  } else {
    transcript = transcriptString(rng, turns);
    evaluation = open ? [] : objectEvaluation(rng, status);
  }

  const hasVariables = connected && !rng.chance(newDialect ? 0.3 : 0.15);
  const variables: WireCall['variables'] = hasVariables ? variablesFor(rng, assistant) : [];

  let carrierUnits: number | null;
  let totalUnits: number | null;
  if (open && rng.chance(0.7)) {
    carrierUnits = null;
    totalUnits = null;
  } else {
    const seconds = duration ?? 0;
    carrierUnits = type === 'web' ? 0 : seconds * 20_000;
    totalUnits = carrierUnits + seconds * 180_000;
  }
  const cost = (units: number | null): string | number | null =>
    units === null ? null : newDialect ? decimal8(units) : units / 1e8;

  let answeredBy: string | null;
  if (type === 'web') answeredBy = null;
  else if (connected) {
    answeredBy =
      type === 'inbound'
        ? rng.weighted([
            ['human', 85],
            [null, 15],
          ] as const)
        : rng.weighted([
            ['human', 70],
            ['machine', 12],
            ['unknown', 8],
            [null, 10],
          ] as const);
  } else
    answeredBy = rng.weighted([
      [null, 6],
      ['unknown', 4],
    ] as const);
  if (!newDialect && answeredBy === null && rng.chance(0.5)) answeredBy = 'unknown';

  let recordingUrl: string | null = null;
  if (connected && !open && rng.chance(0.75)) {
    recordingUrl = newDialect
      ? `https://app.famulor.de/media/public/${assistant.id}/call_${clientPhone ?? 'web'}_${id}.mp4`
      : `https://recordings.famulor.de/calls/${id}.mp3`;
  }

  const updatedAt = new Date(createdAt.getTime() + ((open ? 0 : talkSeconds) + rng.int(1, 30)) * 1000);
  const microseconds = rng.chance(0.5);
  const formatDate = (date: Date): string => (newDialect ? isoZ(date, microseconds) : ymdHis(date));

  const raw: WireCall = {
    id,
    assistant_name: assistant.name,
    campaign_name: campaign?.name ?? null,
    type,
    duration,
    assistant_phone_number: assistantPhone,
    client_phone_number: clientPhone,
    status,
    transcript,
    variables,
    evaluation,
    webhook_response: connected && !open ? webhookResponse(rng, id) : null,
    carrier_cost: cost(carrierUnits),
    total_cost: cost(totalUnits),
    answered_by: answeredBy,
    recording_url: recordingUrl,
    created_at: formatDate(createdAt),
    updated_at: formatDate(updatedAt),
  };
  return { raw, assistantId: assistant.id, campaignId: campaign?.id ?? null, createdAt };
}

let demoCache: SimCall[] | undefined;
let secondTenantCache: SimCall[] | undefined;

/** The demo tenant's 2,500 calls (generated once). Returns a fresh array each time; the records are shared. */
export function demoCalls(): SimCall[] {
  demoCache ??= generateCalls({ seed: DEMO_SEED, count: DEMO_CALL_COUNT, firstId: DEMO_FIRST_ID });
  return [...demoCache];
}

/** The second tenant's 300 calls; their ids never overlap the demo tenant's. */
export function secondTenantCalls(): SimCall[] {
  secondTenantCache ??= generateCalls({
    seed: SECOND_TENANT_SEED,
    count: SECOND_TENANT_CALL_COUNT,
    firstId: SECOND_TENANT_FIRST_ID,
    catalog: SECOND_TENANT_CATALOG,
  });
  return [...secondTenantCache];
}

/** Token → calls for the demo and the second tenant, each a fresh array. */
export function defaultTenants(): Record<string, SimCall[]> {
  return { [DEMO_TOKEN]: demoCalls(), [SECOND_TENANT_TOKEN]: secondTenantCalls() };
}
