/**
 * Totals over a list of calls (issue 7, ../shared/docs/clarifications.md "Drift-proof pagination and statistics"):
 * counts by status, type and answeredBy, exact decimal sums of the costs (they arrive as 8-decimal strings;
 * null counts as zero), and total, mean and median duration. Pure.
 */
import { type Call, Malformed } from './model.js';

export interface CallTotals {
  scannedCount: number;
  totalCost: string;
  carrierCost: string;
  durationTotal: number;
  durationMean: number | null;
  durationMedian: number | null;
  byStatus: Map<string, number>;
  byType: Map<string, number>;
  byAnsweredBy: Map<string, number>;
}

/** `"12.345"` -> 12345n at scale 3. */
function toScaled(value: string): { units: bigint; scale: number } {
  const negative = value.startsWith('-');
  const [whole = '0', fraction = ''] = value.replace(/^-/, '').split('.');
  const units = BigInt(whole + fraction) * (negative ? -1n : 1n);
  return { units, scale: fraction.length };
}

/** Exact sum of decimal strings, written with at least 8 decimals (`"0.00000000"` for none). */
export function sumDecimals(values: readonly string[]): string {
  const parsed = values.map(toScaled);
  const scale = Math.max(8, ...parsed.map((p) => p.scale));
  let total = 0n;
  for (const { units, scale: s } of parsed) total += units * 10n ** BigInt(scale - s);
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
const readable = <T>(value: T | Malformed): T | null => (value instanceof Malformed ? null : value);

export function totalsOf(calls: readonly Call[]): CallTotals {
  const durations: number[] = [];
  const totalCosts: string[] = [];
  const carrierCosts: string[] = [];
  const byStatus = new Map<string, number>();
  const byType = new Map<string, number>();
  const byAnsweredBy = new Map<string, number>();
  for (const call of calls) {
    count(byStatus, call.status);
    count(byType, call.type);
    count(byAnsweredBy, readable(call.answeredBy) ?? 'UNKNOWN');
    const duration = readable(call.durationSeconds);
    if (duration !== null) durations.push(duration);
    const total = readable(call.totalCost);
    if (total !== null) totalCosts.push(total);
    const carrier = readable(call.carrierCost);
    if (carrier !== null) carrierCosts.push(carrier);
  }
  durations.sort((a, b) => a - b);
  const durationTotal = durations.reduce((sum, d) => sum + d, 0);
  const middle = durations.length / 2;
  return {
    scannedCount: calls.length,
    totalCost: sumDecimals(totalCosts),
    carrierCost: sumDecimals(carrierCosts),
    durationTotal,
    durationMean: durations.length === 0 ? null : durationTotal / durations.length,
    durationMedian:
      durations.length === 0
        ? null
        : durations.length % 2 === 1
          ? durations[Math.floor(middle)]!
          : (durations[middle - 1]! + durations[middle]!) / 2,
    byStatus,
    byType,
    byAnsweredBy,
  };
}
