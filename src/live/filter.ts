/**
 * `callEvents(filter:)` applies the `calls` filter to each event itself, since one poller reads the key's
 * unfiltered list for every subscriber (issue 12, item 3). Each field matches as the upstream's list filter
 * does (../shared/docs/upstream-contract.md §2, and the simulator that models it): status and type exactly, the phone
 * number as a part of the client's number, and the dates as days of `createdAt` in `UPSTREAM_TIMEZONE`, both ends
 * inclusive.
 *
 * `assistantId` and `campaignId` are refused: the call records the API returns carry only the assistant's
 * and the campaign's names (../shared/docs/upstream-contract.md §3), so the gateway could tell membership only by
 * polling the list filtered by each id that any subscriber names. That would cost one more upstream request per
 * distinct id and interval, out of the key's budget, and break "one poller per key"; a client can filter
 * the events by `call.assistantName` or `call.campaignName` instead.
 */
import { BadUserInputError } from '../errors.js';
import { type CallFilter, filterQuery } from '../upstream/filter.js';
import type { Call } from '../upstream/model.js';

/**
 * Checks the filter as `calls` does (same errors, so a bad filter is refused before anything is opened),
 * refuses the ids the events cannot be matched on, and returns the predicate.
 */
export function eventFilter(filter: CallFilter | null | undefined, timeZone: string): (call: Call) => boolean {
  filterQuery(filter);
  if (!filter) return () => true;
  for (const name of ['assistantId', 'campaignId'] as const) {
    if (filter[name] != null) {
      throw new BadUserInputError(
        `Filter field "${name}" is not available for callEvents: call records do not carry it, so events ` +
          `cannot be matched on it; filter on call.${name === 'assistantId' ? 'assistantName' : 'campaignName'} ` +
          'instead.',
        { details: { argumentName: `filter.${name}` } },
      );
    }
  }
  const format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const from = filter.dateFrom ? filter.dateFrom.toISOString().slice(0, 10) : null;
  const to = filter.dateTo ? filter.dateTo.toISOString().slice(0, 10) : null;
  const phone = filter.phoneNumber?.trim() ?? null;
  return (call) => {
    if (filter.status != null && call.status !== filter.status) return false;
    if (filter.type != null && call.type !== filter.type) return false;
    if (phone !== null) {
      const number = call.clientPhoneNumber;
      if (typeof number !== 'string' || !number.includes(phone)) return false;
    }
    if (from !== null || to !== null) {
      const day = format.format(call.createdAt);
      if ((from !== null && day < from) || (to !== null && day > to)) return false;
    }
    return true;
  };
}
