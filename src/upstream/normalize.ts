/**
 * Turns raw upstream call records and list envelopes, in every dialect of ../shared/docs/upstream-contract.md §2-§3,
 * into the `Call` model. Pure: no I/O and no GraphQL; fetching, logging the warnings and mapping errors are the
 * callers' job.
 */
import { UpstreamBadResponseError } from '../errors.js';
import type {
  AnsweredBy,
  Call,
  CallPage,
  CallStatus,
  CallType,
  Checked,
  EvaluationItem,
  EvaluationType,
  JsonObject,
  NormalizeWarning,
  TranscriptSegment,
  TranscriptSender,
} from './model.js';
import { Malformed, statusFromUpstream, UPSTREAM_CALL_STATUSES } from './model.js';

export interface NormalizeOptions {
  /** IANA zone in which zone-less `Y-m-d H:i:s` timestamps are read (../shared/docs/upstream-contract.md §3.8 leaves it
   * open). */
  timeZone: string;
}

type Warn = (field: string, reason: string) => void;

const MS_PER_DAY = 86_400_000;

export function normalizeCallPage(raw: unknown, options: NormalizeOptions, warnings: NormalizeWarning[]): CallPage {
  // ../shared/docs/upstream-contract.md §2: only `data` is guaranteed; older doc variants abridge the paginator.
  if (!isObject(raw) || !Array.isArray(raw.data)) {
    throw new UpstreamBadResponseError('The upstream answered with an unexpected list shape.', {
      cause: new TypeError(`list envelope: expected an object with a data array, got ${describeType(raw)}`),
    });
  }
  const warnEnvelope: Warn = (field, reason) => warnings.push({ callId: null, field, reason });
  return {
    calls: raw.data.map((record) => normalizeCall(record, options, warnings)),
    total: readCount(raw.total, 'total', warnEnvelope),
    lastPage: readCount(raw.last_page, 'last_page', warnEnvelope),
    // The paginator's echo of what it served; pagination/echo.ts checks it against what was asked.
    echo: {
      perPage: readCount(raw.per_page, 'per_page', warnEnvelope),
      currentPage: readCount(raw.current_page, 'current_page', warnEnvelope),
      from: readCount(raw.from, 'from', warnEnvelope),
      to: readCount(raw.to, 'to', warnEnvelope),
    },
  };
}

/** `GET /user/calls/{id}` answers with the bare record or with `{ "data": record }`. */
export function unwrapCallRecord(raw: unknown): unknown {
  if (isObject(raw) && raw.id === undefined && isObject(raw.data)) return raw.data;
  return raw;
}

/**
 * Throws `UpstreamBadResponseError` when the record is not an object or its `id` or `created_at` cannot be read:
 * a Relay node and its cursor stand on those two (../shared/docs/clarifications.md, "Malformed upstream values").
 */
export function normalizeCall(raw: unknown, options: NormalizeOptions, warnings: NormalizeWarning[]): Call {
  if (!isObject(raw)) throw unreadableRecord(`call record: expected an object, got ${describeType(raw)}`);
  const callId = readCallId(raw.id);
  if (callId === null) throw unreadableRecord(`call record: id is not a positive integer (${describeType(raw.id)})`);
  const createdAt = parseUpstreamDate(raw.created_at, options.timeZone);
  if (createdAt === null) {
    throw unreadableRecord(
      `call record ${callId}: created_at is not a readable timestamp (${describeType(raw.created_at)})`,
    );
  }
  const warn: Warn = (field, reason) => warnings.push({ callId, field, reason });
  const transcript = readTranscript(raw.transcript, warn);

  return {
    callId,
    assistantName: readNullableString(raw.assistant_name, 'assistantName'),
    campaignName: readNullableString(raw.campaign_name, 'campaignName'),
    type: readCallType(raw.type, warn),
    durationSeconds: readDuration(raw.duration),
    assistantPhoneNumber: readNullableString(raw.assistant_phone_number, 'assistantPhoneNumber'),
    clientPhoneNumber: readNullableString(raw.client_phone_number, 'clientPhoneNumber'),
    status: readStatus(raw.status, warn),
    transcript: transcript.segments,
    transcriptText: transcript.text,
    variables: readVariables(raw.variables, warn),
    evaluation: readEvaluation(raw.evaluation, warn),
    webhookResponse: readWebhookResponse(raw.webhook_response),
    carrierCost: readCost(raw.carrier_cost, 'carrierCost'),
    totalCost: readCost(raw.total_cost, 'totalCost'),
    answeredBy: readAnsweredBy(raw.answered_by),
    recordingUrl: readNullableString(raw.recording_url, 'recordingUrl'),
    createdAt,
    // `updatedAt` is non-null in the schema and nothing hangs on it, so an unreadable value degrades to the
    // creation time (with a warning) instead of failing the record the way a bad `created_at` does.
    updatedAt:
      parseUpstreamDate(raw.updated_at, options.timeZone) ?? fallBackToCreatedAt(createdAt, raw.updated_at, warn),
  };
}

function unreadableRecord(detail: string): UpstreamBadResponseError {
  return new UpstreamBadResponseError('The upstream answered with a call record that cannot be identified.', {
    cause: new TypeError(detail),
  });
}

function fallBackToCreatedAt(createdAt: Date, raw: unknown, warn: Warn): Date {
  warn('updatedAt', `expected a readable timestamp, got ${describeType(raw)}; using createdAt`);
  return createdAt;
}

function readCallId(raw: unknown): number | null {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw > 0 ? raw : null;
  // MCP passes ids as strings (../shared/docs/upstream-contract.md §3.9); only canonical digit strings are accepted.
  if (typeof raw === 'string' && /^[1-9]\d*$/.test(raw)) {
    const id = Number(raw);
    return Number.isSafeInteger(id) ? id : null;
  }
  return null;
}

function readCount(raw: unknown, field: string, warn: Warn): number | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw;
  if (typeof raw === 'string' && /^\d+$/.test(raw)) {
    const count = Number(raw);
    if (Number.isSafeInteger(count)) return count;
  }
  warn(field, `expected a non-negative integer, got ${describeType(raw)}; treated as absent`);
  return null;
}

/** Nullable scalars: a wrong type becomes `Malformed`, so only that field's path errors
 * (../shared/docs/clarifications.md). */
function readNullableString(raw: unknown, field: string): Checked<string | null> {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string') return raw;
  return new Malformed(field, `expected a string or null, got ${describeType(raw)}`);
}

function readDuration(raw: unknown): Checked<number | null> {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw === 0 ? 0 : raw;
  if (typeof raw === 'string' && /^\d+$/.test(raw)) {
    const seconds = Number(raw);
    if (Number.isSafeInteger(seconds)) return seconds;
  }
  const reason = `expected a non-negative whole number of seconds or null, got ${describeType(raw)}`;
  return new Malformed('durationSeconds', reason);
}

function readCost(raw: unknown, field: string): Checked<string | null> {
  const cost = parseDecimal(raw ?? null);
  if (cost !== undefined) return cost;
  return new Malformed(field, `expected a decimal number or decimal string or null, got ${describeType(raw)}`);
}

const ANSWERED_BY = new Map<string, AnsweredBy>([
  ['human', 'HUMAN'],
  ['machine', 'MACHINE'],
  ['unknown', 'UNKNOWN'],
]);

function readAnsweredBy(raw: unknown): Checked<AnsweredBy | null> {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string') return ANSWERED_BY.get(raw.trim().toLowerCase()) ?? 'UNKNOWN';
  return new Malformed('answeredBy', `expected a string or null, got ${describeType(raw)}`);
}

// ../shared/docs/upstream-contract.md §3.4: opaque JSON; PHP encodes an empty associative array as `[]`
// (../shared/docs/clarifications.md: `{}`).
function readWebhookResponse(raw: unknown): Checked<unknown> {
  if (raw === undefined || raw === null) return null;
  if (Array.isArray(raw) && raw.length === 0) return {};
  return raw;
}

/** Separators are folded so that `in-progress`, `in progress` and `in_progress` all read as IN_PROGRESS. */
function statusKey(value: string): string {
  return value
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '_');
}

const STATUS_BY_KEY = new Map<string, CallStatus>(
  UPSTREAM_CALL_STATUSES.map((status) => [statusKey(status), statusFromUpstream(status)]),
);

/** ../shared/docs/upstream-contract.md §3.9: unknown statuses map to UNKNOWN instead of failing the record. */
function readStatus(raw: unknown, warn: Warn): CallStatus {
  if (typeof raw === 'string') return STATUS_BY_KEY.get(statusKey(raw)) ?? 'UNKNOWN';
  warn('status', `expected a string, got ${describeType(raw)}; using UNKNOWN`);
  return 'UNKNOWN';
}

const CALL_TYPES = new Map<string, CallType>([
  ['inbound', 'INBOUND'],
  ['outbound', 'OUTBOUND'],
  ['web', 'WEB'],
]);

function readCallType(raw: unknown, warn: Warn): CallType {
  if (typeof raw === 'string') return CALL_TYPES.get(raw.trim().toLowerCase()) ?? 'UNKNOWN';
  warn('type', `expected a string, got ${describeType(raw)}; using UNKNOWN`);
  return 'UNKNOWN';
}

/** Non-null JSON and list fields fall back to empty with a warning instead of erroring
 * (../shared/docs/clarifications.md). */
function readVariables(raw: unknown, warn: Warn): JsonObject {
  if (isObject(raw)) return raw;
  // ../shared/docs/upstream-contract.md §3.3: an empty set arrives as PHP's `[]`.
  if (raw === undefined || raw === null || (Array.isArray(raw) && raw.length === 0)) return {};
  warn('variables', `expected an object, got ${describeType(raw)}; using {}`);
  return {};
}

const DECLARED_EVALUATION_TYPES = new Map<string, EvaluationType>([
  ['bool', 'BOOLEAN'],
  ['boolean', 'BOOLEAN'],
  ['int', 'INTEGER'],
  ['integer', 'INTEGER'],
  ['float', 'NUMBER'],
  ['number', 'NUMBER'],
  ['string', 'STRING'],
  ['object', 'OBJECT'],
  ['list', 'LIST'],
  ['array', 'LIST'],
]);

/** ../shared/docs/upstream-contract.md §3.2: an array of declared fields (new dialect) or a flat object (old dialect).
 * */
function readEvaluation(raw: unknown, warn: Warn): EvaluationItem[] {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw)) return evaluationFromArray(raw, warn);
  if (isObject(raw)) {
    // Key order is JSON.parse's: integer-like keys come first, the rest in document order.
    return Object.entries(raw).map(([name, value]) => ({
      name,
      type: inferEvaluationType(value),
      value: value ?? null,
      description: null,
    }));
  }
  warn('evaluation', `expected an array or an object, got ${describeType(raw)}; using []`);
  return [];
}

function evaluationFromArray(entries: unknown[], warn: Warn): EvaluationItem[] {
  const items: EvaluationItem[] = [];
  entries.forEach((entry, index) => {
    if (!isObject(entry)) {
      warn('evaluation', `item ${index} skipped: expected an object, got ${describeType(entry)}`);
      return;
    }
    if (typeof entry.name !== 'string') {
      warn('evaluation', `item ${index} skipped: name is ${describeType(entry.name)}, not a string`);
      return;
    }
    const description = entry.description ?? null;
    if (description !== null && typeof description !== 'string') {
      warn('evaluation', `item ${index}: description is ${describeType(description)}, not a string; using null`);
    }
    items.push({
      name: entry.name,
      // The declared type wins even when the LLM-extracted value does not match it (../shared/docs/upstream-contract.md
      // §3.2).
      type: declaredEvaluationType(entry.type),
      value: entry.value ?? null,
      description: typeof description === 'string' ? description : null,
    });
  });
  return items;
}

function declaredEvaluationType(declared: unknown): EvaluationType {
  if (typeof declared !== 'string') return 'UNKNOWN';
  return DECLARED_EVALUATION_TYPES.get(declared.trim().toLowerCase()) ?? 'UNKNOWN';
}

function inferEvaluationType(value: unknown): EvaluationType {
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value === 'number') return Number.isInteger(value) ? 'INTEGER' : 'NUMBER';
  if (typeof value === 'string') return 'STRING';
  if (Array.isArray(value)) return 'LIST';
  if (isObject(value)) return 'OBJECT';
  return 'UNKNOWN';
}

const SENDER_LABEL: Record<TranscriptSender, string> = { BOT: 'Bot', HUMAN: 'Human', UNKNOWN: 'Unknown' };

const PREFIX_SENDER = new Map<string, TranscriptSender>([
  ['ai', 'BOT'],
  ['assistant', 'BOT'],
  ['bot', 'BOT'],
  ['agent', 'BOT'],
  ['customer', 'HUMAN'],
  ['user', 'HUMAN'],
  ['human', 'HUMAN'],
  ['caller', 'HUMAN'],
  ['client', 'HUMAN'],
  ['kunde', 'HUMAN'],
]);

const SPEAKER_PREFIX = new RegExp(`^\\s*(${[...PREFIX_SENDER.keys()].join('|')}):(.*)$`, 'i');

/** ../shared/docs/upstream-contract.md §3.1: segments (new dialect), a plain or prefixed string (old dialect), or
 * empty. */
function readTranscript(raw: unknown, warn: Warn): { segments: TranscriptSegment[]; text: string | null } {
  if (raw === undefined || raw === null) return { segments: [], text: null };
  if (typeof raw === 'string') {
    const text = raw.trim();
    return text === '' ? { segments: [], text: null } : { segments: segmentsFromString(text), text };
  }
  if (Array.isArray(raw)) {
    const segments = segmentsFromArray(raw, warn);
    if (segments.length === 0) return { segments, text: null };
    return { segments, text: segments.map((s) => `${SENDER_LABEL[s.sender]}: ${s.text}`).join('\n') };
  }
  warn('transcript', `expected an array or a string, got ${describeType(raw)}; using []`);
  return { segments: [], text: null };
}

function segmentsFromArray(entries: unknown[], warn: Warn): TranscriptSegment[] {
  const segments: TranscriptSegment[] = [];
  let firstSeconds: number | null = null;
  entries.forEach((entry, index) => {
    if (!isObject(entry)) {
      warn('transcript', `segment ${index} skipped: expected an object, got ${describeType(entry)}`);
      return;
    }
    if (typeof entry.text !== 'string') {
      warn('transcript', `segment ${index} skipped: text is ${describeType(entry.text)}, not a string`);
      return;
    }
    // One Date per segment: the check that the timestamp is readable makes the Date it keeps.
    const timestamp = readSegmentTime(entry.timestamp, index, warn);
    const seconds = timestamp === null ? null : (entry.timestamp as number);
    if (seconds !== null && firstSeconds === null) firstSeconds = seconds;
    segments.push({
      text: entry.text,
      sender: typeof entry.sender === 'string' ? senderFromArray(entry.sender) : 'UNKNOWN',
      kind: typeof entry.type === 'string' ? entry.type : null,
      timestamp,
      // Computed from the raw floats, which carry microseconds; rounding removes float noise such as 2.5741389.
      offsetSeconds: seconds === null || firstSeconds === null ? null : roundToMicros(seconds - firstSeconds),
    });
  });
  return segments;
}

function senderFromArray(sender: string): TranscriptSender {
  const key = sender.trim().toLowerCase();
  return key === 'bot' ? 'BOT' : key === 'human' ? 'HUMAN' : 'UNKNOWN';
}

/** The segment's time as a Date; null (with a warning when something unreadable was sent) otherwise. */
function readSegmentTime(raw: unknown, index: number, warn: Warn): Date | null {
  if (raw === undefined || raw === null) return null;
  const date = typeof raw === 'number' ? dateFromEpochSeconds(raw) : null;
  if (date !== null) return date;
  warn('transcript', `segment ${index}: timestamp is ${describeType(raw)}, not epoch seconds; using null`);
  return null;
}

/** Keeps the microseconds the upstream sent, then truncates to the millisecond a Date can hold (as ISO fractions are).
 * */
function dateFromEpochSeconds(seconds: number): Date | null {
  if (!Number.isFinite(seconds)) return null;
  const date = new Date(Math.floor(Math.round(seconds * 1e6) / 1000));
  return Number.isNaN(date.getTime()) ? null : date;
}

function roundToMicros(seconds: number): number {
  const rounded = Math.round(seconds * 1e6) / 1e6;
  return rounded === 0 ? 0 : rounded;
}

/**
 * Old-dialect and webhook transcripts (../shared/docs/upstream-contract.md §3.1) with speaker prefixes per
 * ../shared/docs/clarifications.md: a prefixed line starts a segment, an unprefixed line continues the current one,
 * text before the first prefix is UNKNOWN. Segments that are empty after trimming (a bare `AI:` line) are dropped.
 */
function segmentsFromString(text: string): TranscriptSegment[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (!lines.some((line) => SPEAKER_PREFIX.test(line))) return [stringSegment('UNKNOWN', text)];
  const drafts: { sender: TranscriptSender; lines: string[] }[] = [];
  for (const line of lines) {
    const prefixed = SPEAKER_PREFIX.exec(line);
    const current = drafts.at(-1);
    if (prefixed) {
      const sender = PREFIX_SENDER.get((prefixed[1] ?? '').toLowerCase()) ?? 'UNKNOWN';
      drafts.push({ sender, lines: [(prefixed[2] ?? '').trim()] });
    } else if (current) {
      current.lines.push(line.trim());
    } else {
      drafts.push({ sender: 'UNKNOWN', lines: [line.trim()] });
    }
  }
  return drafts
    .map((draft) => stringSegment(draft.sender, draft.lines.join('\n').trim()))
    .filter((segment) => segment.text !== '');
}

function stringSegment(sender: TranscriptSender, text: string): TranscriptSegment {
  return { text, sender, kind: null, timestamp: null, offsetSeconds: null };
}

/**
 * A number or a decimal string as a plain decimal string that keeps every digit the upstream sent
 * (../shared/docs/upstream-contract.md §3.5: `"0.02500000"` from Laravel's decimal:8 cast, or a JSON number in older
 * dialects). `null` stays null; `undefined` means unreadable (NaN, Infinity, exponent strings, non-numeric text, other
 * types).
 */
export function parseDecimal(value: unknown): string | null | undefined {
  if (value === null) return null;
  if (typeof value === 'string') return /^-?\d+(?:\.\d+)?$/.test(value) ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return plainNumber(value);
  return undefined;
}

/** `String(n)` switches to exponent notation below 1e-6 and from 1e21; spell those out with the same digits. */
function plainNumber(n: number): string {
  const text = String(n);
  const exponential = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!exponential) return text;
  const [, sign = '', lead = '', rest = '', exponent = '0'] = exponential;
  const digits = lead + rest;
  const point = 1 + Number(exponent);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

const UTC_FORMS = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z?$/;

/**
 * The common forms, `…Z` and (when the upstream's zone is UTC) zone-less, through the engine's own ISO
 * parser: a quarter of the cost of the general path, which mattered at two dates per record (issue 5
 * profile). `Date.parse` rolls 2025-02-30 over to 2 March and 24:00 over to the next day, so a result
 * whose day or hour moved is refused as the general path would. `undefined` means "not a fast form".
 */
function parseUtcFast(value: string, timeZone: string): Date | null | undefined {
  const zulu = value.endsWith('Z');
  if ((!zulu && timeZone !== 'UTC') || !UTC_FORMS.test(value) || value.startsWith('0000')) return undefined;
  const iso = value.charCodeAt(10) === 32 ? `${value.slice(0, 10)}T${value.slice(11)}` : value;
  const instant = Date.parse(zulu ? iso : `${iso}Z`);
  if (Number.isNaN(instant)) return null;
  const date = new Date(instant);
  if (date.getUTCDate() !== Number(value.slice(8, 10)) || date.getUTCHours() !== Number(value.slice(11, 13)))
    return null;
  return date;
}

const UPSTREAM_DATE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:(Z)|([+-])(\d{2}):?(\d{2}))?$/i;

/**
 * Reads every timestamp form of ../shared/docs/upstream-contract.md §3.8: `Y-m-d H:i:s` and `Y-m-d\TH:i:s` without a
 * zone (read in `timeZone`), and ISO-8601 with `Z` or a `±hh:mm`/`±hhmm` offset, with up to 6 fraction digits
 * (truncated to ms). Returns null for anything else, including impossible calendar dates. Zone-less wall times that a
 * DST change skips or repeats use the offset in force before the change: Europe/Berlin 2025-03-30 02:30 (skipped)
 * becomes 01:30Z (03:30 CEST) and 2025-10-26 02:30 (repeated) becomes 00:30Z (the earlier, CEST, instant), as
 * Temporal's `disambiguation: 'compatible'` and java.time do. An unknown `timeZone` throws RangeError (configuration
 * error).
 */
export function parseUpstreamDate(value: unknown, timeZone: string): Date | null {
  if (typeof value !== 'string') return null;
  const fast = parseUtcFast(value, timeZone);
  if (fast !== undefined) return fast;
  const match = UPSTREAM_DATE.exec(value);
  if (!match) return null;
  const [, year, month, day, hour, minute, second, fraction = '', zulu, sign, offsetHours, offsetMinutes] = match;
  const fields = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [y, mo, d, h, mi, s] = fields;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return null;
  const wallClock = utcFromFields(y, mo, d, h, mi, s, Number(fraction.padEnd(3, '0').slice(0, 3)));

  let instant: number;
  if (zulu !== undefined) {
    instant = wallClock;
  } else if (sign !== undefined) {
    if (Number(offsetMinutes) > 59) return null;
    const offset = Number(offsetHours) * 60 + Number(offsetMinutes);
    instant = wallClock - (sign === '-' ? -offset : offset) * 60_000;
  } else {
    instant = instantForWallClock(wallClock, timeZone);
  }
  const date = new Date(instant);
  return Number.isNaN(date.getTime()) ? null : date;
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcFromFields(year, month + 1, 0, 0, 0, 0, 0)).getUTCDate();
}

/** Like Date.UTC, without its mapping of years 0-99 to 1900-1999. */
function utcFromFields(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const date = new Date(Date.UTC(2000, 0, 1, h, mi, s, ms));
  date.setUTCFullYear(y, mo - 1, d);
  return date.getTime();
}

/**
 * The instant at which the wall clock in `timeZone` reads `wallClock` (its fields encoded as if UTC). Guesses with
 * the offsets a day before and a day after, then re-checks each guess; no zone changes offset twice within two days.
 */
function instantForWallClock(wallClock: number, timeZone: string): number {
  const offsetBefore = zoneOffset(wallClock - MS_PER_DAY, timeZone);
  const offsetAfter = zoneOffset(wallClock + MS_PER_DAY, timeZone);
  const withOffsetBefore = wallClock - offsetBefore;
  if (offsetBefore === offsetAfter || zoneOffset(withOffsetBefore, timeZone) === offsetBefore) return withOffsetBefore;
  const withOffsetAfter = wallClock - offsetAfter;
  if (zoneOffset(withOffsetAfter, timeZone) === offsetAfter) return withOffsetAfter;
  return withOffsetBefore;
}

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = zoneFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    zoneFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Milliseconds to add to UTC to get the wall clock in `timeZone` at `instant`. */
function zoneOffset(instant: number, timeZone: string): number {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const part of zoneFormatter(timeZone).formatToParts(new Date(instant))) parts[part.type] = part.value;
  const year = Number(parts.year);
  const wallClock = utcFromFields(
    parts.era === 'BC' ? 1 - year : year,
    Number(parts.month),
    Number(parts.day),
    Number(parts.hour) % 24,
    Number(parts.minute),
    Number(parts.second),
    0,
  );
  return wallClock - Math.floor(instant / 1000) * 1000;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON kind of a value, for warnings and reasons: never the value itself (it may be customer data). */
function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isFinite(value) ? 'a number' : 'a non-finite number';
  return `a ${typeof value}`;
}
