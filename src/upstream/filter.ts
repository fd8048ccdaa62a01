/**
 * The `calls` filter in the upstream's own query parameters (../shared/docs/upstream-contract.md §2). Validated here so
 * a bad filter costs no upstream request; the canonical query string doubles as the key cursors are bound to.
 */
import { BadUserInputError } from '../errors.js';
import { type CallStatus, type CallType, statusToUpstream } from './model.js';

export interface CallFilter {
  status?: CallStatus | null;
  type?: CallType | null;
  phoneNumber?: string | null;
  assistantId?: number | null;
  campaignId?: number | null;
  dateFrom?: Date | null;
  dateTo?: Date | null;
}

const PHONE_PATTERN = /^[0-9+()\-. ]{1,32}$/;

function positiveId(name: string, value: number): string {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new BadUserInputError(`Filter field "${name}" must be a positive integer.`, {
      details: { argumentName: `filter.${name}` },
    });
  }
  return String(value);
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * The filter as upstream query parameters in a fixed order, e.g. `status=in-progress&type=inbound`.
 * The same filter always gives the same string, so it can key cursors and page loaders.
 */
export function filterQuery(filter: CallFilter | null | undefined): URLSearchParams {
  const query = new URLSearchParams();
  if (!filter) return query;
  if (filter.status != null) {
    if (filter.status === 'UNKNOWN') {
      throw new BadUserInputError('Filter field "status" cannot be UNKNOWN: the upstream has no such status.', {
        details: { argumentName: 'filter.status' },
      });
    }
    query.set('status', statusToUpstream(filter.status));
  }
  if (filter.type != null) {
    if (filter.type === 'UNKNOWN') {
      throw new BadUserInputError('Filter field "type" cannot be UNKNOWN: the upstream has no such type.', {
        details: { argumentName: 'filter.type' },
      });
    }
    query.set('type', filter.type.toLowerCase());
  }
  if (filter.phoneNumber != null) {
    const phone = filter.phoneNumber.trim();
    if (!PHONE_PATTERN.test(phone)) {
      throw new BadUserInputError(
        'Filter field "phoneNumber" must be 1 to 32 characters of digits, spaces and + ( ) - .',
        {
          details: { argumentName: 'filter.phoneNumber' },
        },
      );
    }
    query.set('phone_number', phone);
  }
  if (filter.assistantId != null) query.set('assistant_id', positiveId('assistantId', filter.assistantId));
  if (filter.campaignId != null) query.set('campaign_id', positiveId('campaignId', filter.campaignId));
  if (filter.dateFrom != null) query.set('date_from', day(filter.dateFrom));
  if (filter.dateTo != null) query.set('date_to', day(filter.dateTo));
  if (filter.dateFrom != null && filter.dateTo != null && filter.dateFrom > filter.dateTo) {
    throw new BadUserInputError('Filter field "dateTo" must not be before "dateFrom".', {
      details: { argumentName: 'filter.dateTo' },
    });
  }
  return query;
}

/** The query of one upstream list page: the filter's query string, then `page` and `per_page`. */
export function pageQuery(filter: string, perPage: number, page: number): string {
  return `${filter === '' ? '' : `${filter}&`}page=${page}&per_page=${perPage}`;
}
