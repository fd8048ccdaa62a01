/**
 * The gateway's own, normalised view of a call: one shape whatever dialect the upstream spoke. Pure data,
 * no GraphQL: schema/ maps these to GraphQL types, upstream/normalize.ts builds them from raw records.
 */
import type { PageEcho } from '../pagination/echo.js';

/** Upstream status values (../shared/docs/upstream-contract.md §2), in the upstream's own spelling. */
export const UPSTREAM_CALL_STATUSES = [
  'initiated',
  'ringing',
  'busy',
  'in-progress',
  'ended',
  'completed',
  'ended_by_customer',
  'ended_by_assistant',
  'no-answer',
  'failed',
] as const;
export type UpstreamCallStatus = (typeof UPSTREAM_CALL_STATUSES)[number];

export type CallStatus =
  | 'INITIATED'
  | 'RINGING'
  | 'BUSY'
  | 'IN_PROGRESS'
  | 'ENDED'
  | 'COMPLETED'
  | 'ENDED_BY_CUSTOMER'
  | 'ENDED_BY_ASSISTANT'
  | 'NO_ANSWER'
  | 'FAILED'
  | 'UNKNOWN';

/** `in-progress` -> `IN_PROGRESS`, `ended_by_customer` -> `ENDED_BY_CUSTOMER`. */
export function statusFromUpstream(value: UpstreamCallStatus): Exclude<CallStatus, 'UNKNOWN'> {
  return value.toUpperCase().replace(/-/g, '_') as Exclude<CallStatus, 'UNKNOWN'>;
}

export function statusToUpstream(status: Exclude<CallStatus, 'UNKNOWN'>): UpstreamCallStatus {
  const found = UPSTREAM_CALL_STATUSES.find((s) => statusFromUpstream(s) === status);
  if (!found) throw new TypeError(`no upstream spelling for status ${status}`);
  return found;
}

export const UPSTREAM_CALL_TYPES = ['inbound', 'outbound', 'web'] as const;
export type CallType = 'INBOUND' | 'OUTBOUND' | 'WEB' | 'UNKNOWN';
export type AnsweredBy = 'HUMAN' | 'MACHINE' | 'UNKNOWN';
export type TranscriptSender = 'BOT' | 'HUMAN' | 'UNKNOWN';
export type EvaluationType = 'BOOLEAN' | 'STRING' | 'INTEGER' | 'NUMBER' | 'OBJECT' | 'LIST' | 'UNKNOWN';

/**
 * A nullable field whose upstream value could not be read. The resolver of that field raises an
 * `UPSTREAM_BAD_RESPONSE` error at the field's path, so the rest of the record and page is served.
 */
export class Malformed {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {}
}
export type Checked<T> = T | Malformed;

export interface TranscriptSegment {
  text: string;
  sender: TranscriptSender;
  /** The upstream segment `type` ("transcript"), kept raw; null for string transcripts. */
  kind: string | null;
  timestamp: Date | null;
  /** Seconds since the call's first segment that has a timestamp. */
  offsetSeconds: number | null;
}

export interface EvaluationItem {
  name: string;
  type: EvaluationType;
  value: unknown;
  description: string | null;
}

/** A JSON object value, as exposed through the `JSON` scalar. */
export type JsonObject = Record<string, unknown>;

export interface Call {
  callId: number;
  assistantName: Checked<string | null>;
  campaignName: Checked<string | null>;
  type: CallType;
  durationSeconds: Checked<number | null>;
  assistantPhoneNumber: Checked<string | null>;
  clientPhoneNumber: Checked<string | null>;
  status: CallStatus;
  transcript: TranscriptSegment[];
  transcriptText: string | null;
  variables: JsonObject;
  evaluation: EvaluationItem[];
  webhookResponse: Checked<unknown>;
  /** Exact decimal as a plain string ("0.02500000", "0.025"); null when the upstream sent null. */
  carrierCost: Checked<string | null>;
  totalCost: Checked<string | null>;
  answeredBy: Checked<AnsweredBy | null>;
  recordingUrl: Checked<string | null>;
  createdAt: Date;
  updatedAt: Date;
}

/** One normalised upstream list page. */
export interface CallPage {
  calls: Call[];
  /** From `total`; null when the upstream omitted it. */
  total: number | null;
  /** From `last_page`; null when omitted. */
  lastPage: number | null;
  /** What the paginator says it served (`per_page`, `current_page`, `from`, `to`); null where it did not say. */
  echo: PageEcho;
}

/** A problem the normaliser repaired (fallback to empty) and wants logged; never contains values. */
export interface NormalizeWarning {
  callId: number | null;
  field: string;
  reason: string;
}
