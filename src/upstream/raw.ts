/**
 * Wire types of the upstream "List calls" / "Get call" API exactly as documented, in every dialect the
 * docs show (see shared/docs/upstream-contract.md §2-§3). They describe what may arrive, not what is
 * guaranteed: the normaliser treats every field as `unknown` and checks it.
 */

/** One transcript segment of the array dialect (../shared/docs/upstream-contract.md §3.1). */
export interface RawTranscriptSegment {
  text: string;
  /** Only "transcript" is documented; others must be accepted. */
  type?: string;
  /** "bot" | "human" documented; others must be accepted. */
  sender?: string;
  /** Unix epoch seconds with microseconds, e.g. 1754055268.525861. */
  timestamp?: number;
}

/** One evaluation field of the array dialect (../shared/docs/upstream-contract.md §3.2). */
export interface RawEvaluationItem {
  name: string;
  /** bool | boolean | string | number | integer | int | float, or unknown values. */
  type?: string;
  value?: unknown;
  description?: string | null;
}

/** A call record as `GET /user/calls` and `GET /user/calls/{id}` return it (../shared/docs/upstream-contract.md §3). */
export interface RawCall {
  id: number;
  assistant_name: string | null;
  campaign_name: string | null;
  type: string;
  duration: number | null;
  assistant_phone_number: string | null;
  client_phone_number: string | null;
  status: string;
  /** Array of segments (new dialect), a plain string (old dialect), null, "" or []. */
  transcript: RawTranscriptSegment[] | string | null;
  /** Object (PHP empty array encodes as []), or null. */
  variables: Record<string, unknown> | [] | null;
  /** Array of fields (new dialect) or a flat object (old dialect), or []. */
  evaluation: RawEvaluationItem[] | Record<string, unknown> | null;
  /** Whatever the customer's webhook returned: object, [], null, anything. */
  webhook_response: unknown;
  /** "0.02500000" (new dialect, decimal:8 cast), 0.025 (old dialect), or null. */
  carrier_cost: string | number | null;
  total_cost: string | number | null;
  /** "human" | "machine" | "unknown" | null. */
  answered_by: string | null;
  recording_url: string | null;
  /** "Y-m-d H:i:s" (zone-less), ISO-8601 with Z, fractions or an offset. */
  created_at: string;
  updated_at: string;
}

/** Laravel LengthAwarePaginator envelope (../shared/docs/upstream-contract.md §2). Only `data` is guaranteed. */
export interface RawCallPage {
  data: RawCall[];
  current_page?: number;
  per_page?: number | string;
  total?: number;
  last_page?: number;
  from?: number | null;
  to?: number | null;
  first_page_url?: string;
  last_page_url?: string;
  next_page_url?: string | null;
  prev_page_url?: string | null;
  path?: string;
  links?: { url: string | null; label: string; active: boolean }[];
}

/** Error envelopes seen across the API family (../shared/docs/upstream-contract.md §5.1). */
export interface RawErrorBody {
  message?: string;
  error?: string;
  errors?: Record<string, string[]>;
  retry_after?: number;
  success?: false;
  error_code?: string;
}
