/**
 * What the simulated upstream sends, written on the simulator's own side from the upstream's documents
 * (../shared/seeds/, the "List calls" and "Get call" pages, and ../shared/docs/upstream-contract.md §2–§3),
 * not taken from the gateway: the simulator is the test oracle, so a gateway that misspelled a status or
 * misread a field must disagree with it rather than agree by construction (issue 14, item 3).
 */

/** The `status` values the docs list for calls and for the `status` filter (../shared/docs/upstream-contract.md §2). */
export const CALL_STATUSES = [
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
export type CallStatusValue = (typeof CALL_STATUSES)[number];

/** The `type` values (../shared/docs/upstream-contract.md §2). */
export const CALL_TYPES = ['inbound', 'outbound', 'web'] as const;

/** A transcript segment of the array dialect (../shared/docs/upstream-contract.md §3.1). */
export interface WireTranscriptSegment {
  text: string;
  type?: string;
  sender?: string;
  /** Unix epoch seconds with microseconds. */
  timestamp?: number;
}

/** An evaluation item of the array dialect (../shared/docs/upstream-contract.md §3.2). */
export interface WireEvaluationItem {
  name: string;
  type?: string;
  value?: unknown;
  description?: string | null;
}

/** A call record as the list and get endpoints send it, in either documented dialect
 * (../shared/docs/upstream-contract.md §3). */
export interface WireCall {
  id: number;
  assistant_name: string | null;
  campaign_name: string | null;
  type: string;
  duration: number | null;
  assistant_phone_number: string | null;
  client_phone_number: string | null;
  status: string;
  transcript: WireTranscriptSegment[] | string | null;
  variables: Record<string, unknown> | [] | null;
  evaluation: WireEvaluationItem[] | Record<string, unknown> | null;
  webhook_response: unknown;
  carrier_cost: string | number | null;
  total_cost: string | number | null;
  answered_by: string | null;
  recording_url: string | null;
  created_at: string;
  updated_at: string;
}
