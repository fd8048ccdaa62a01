/**
 * The upstream's REST behaviour as a pure function: request in, response out, no socket. It imitates a
 * Laravel 10 app (../shared/docs/upstream-contract.md §1, §2, §5, §6): route matching (404/405) before auth,
 * Sanctum-style bearer auth with the web guard's login redirect, an optional throttle hook after auth (the one stateful
 * part, supplied by the server; see throttle.ts), FormRequest validation with Laravel's messages and summary
 * line, and the LengthAwarePaginator envelope. Bodies are encoded as PHP's `json_encode` does by default
 * (`\/` and `\uXXXX` escapes), which any JSON parser reads like the plain form.
 */
import type { SimCall } from './data.js';
import type { ThrottleDecision } from './throttle.js';
import { CALL_STATUSES, CALL_TYPES } from './wire.js';

export type SimOrder = 'newest-first' | 'oldest-first';

export const DEFAULT_BASE_PATH = '/api';
const DEFAULT_PER_PAGE = 15;
const MAX_PER_PAGE = 100;

export interface SimRequest {
  method: string;
  /** Path and query string as on the request line, e.g. `/api/user/calls?page=2`. */
  url: string;
  /** Lower-case header names, as node:http gives them. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RouteContext {
  /** Bearer token → that tenant's calls. Read on every request, so changes apply at once. */
  tenants: ReadonlyMap<string, readonly SimCall[]>;
  /** `http://host:port`, used for paginator URLs and the login redirect. */
  origin: string;
  /** @default '/api' */
  basePath?: string;
  /** @default 'newest-first' */
  order?: SimOrder;
  /**
   * The throttle middleware (../shared/docs/upstream-contract.md §5.3): called with the bearer token of every
   * authenticated request to a calls route, after auth and before the handler. A refusal becomes a 429; otherwise its
   * headers are added to the handler's answer (200, a get's 404, a list's 422). @default none (no throttling, no
   * headers)
   */
  throttle?: (token: string) => ThrottleDecision;
  /**
   * Largest page size the list serves: a larger `per_page` (valid up to 100) is clamped to it without an error,
   * as `->paginate(min($request->per_page, 50))` does, and so is the default of 15. @default none
   */
  maxPerPage?: number;
  /**
   * How much of Laravel's paginator the list answers with (../shared/docs/upstream-contract.md §2): `full` (every
   * field), `abridged` (`data`, `current_page`, `per_page`, `total`, `last_page`: the list page's first doc version)
   * or `data` (only `data`, a variant the gateway must accept). @default 'full'
   */
  envelope?: SimEnvelope;
}

export type SimEnvelope = 'full' | 'abridged' | 'data';

interface ListFilters {
  status?: string;
  type?: string;
  phoneNumber?: string;
  assistantId?: number;
  campaignId?: number;
  dateFrom?: string;
  dateTo?: string;
}

/** Leading slash, no trailing slash; the root is ''. */
export function normalizeBasePath(basePath: string): string {
  const trimmed = basePath.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `/${trimmed}`;
}

/** PHP `json_encode` without flags: escapes `/` and every non-ASCII UTF-16 unit. */
function phpJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function json(status: number, body: unknown, extraHeaders: Record<string, string> = {}): SimResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-cache, private', ...extraHeaders },
    body: phpJson(body),
  };
}

function header(request: SimRequest, name: string): string | null {
  const value = request.headers[name];
  if (value === undefined) return null;
  if (typeof value === 'string') return value;
  return value[0] ?? null;
}

/** Laravel's `Request::bearerToken()`: the text after the last "Bearer ", cut at a comma. */
function bearerToken(authorization: string | null): string | null {
  if (authorization === null) return null;
  const position = authorization.lastIndexOf('Bearer ');
  if (position === -1) return null;
  const token = authorization.slice(position + 7);
  const comma = token.indexOf(',');
  return comma === -1 ? token : token.slice(0, comma);
}

/** Acceptable types ordered as Symfony's AcceptHeader sorts them: quality desc, then header order. */
function acceptableTypes(accept: string | null): string[] {
  if (accept === null || accept.trim() === '') return [];
  return accept
    .split(',')
    .map((part, index) => {
      const [type = '', ...params] = part.split(';').map((piece) => piece.trim());
      const q = params.find((param) => /^q=/i.test(param));
      const quality = q === undefined ? 1 : Number.parseFloat(q.slice(2));
      return { type, quality: Number.isNaN(quality) ? 0 : quality, index };
    })
    .filter((entry) => entry.type !== '')
    .sort((a, b) => b.quality - a.quality || a.index - b.index)
    .map((entry) => entry.type);
}

/** Laravel's `Request::expectsJson()`: an ajax request accepting anything, or JSON first in Accept. */
function expectsJson(request: SimRequest): boolean {
  const types = acceptableTypes(header(request, 'accept'));
  const first = types[0]?.toLowerCase();
  const wantsJson = first !== undefined && (first.includes('/json') || first.includes('+json'));
  const ajax = header(request, 'x-requested-with') === 'XMLHttpRequest';
  const acceptsAnything = first === undefined || first === '*/*' || first === '*';
  return wantsJson || (ajax && acceptsAnything);
}

/** The Symfony RedirectResponse page Laravel sends when the web guard redirects to the login route. */
function loginRedirect(origin: string): SimResponse {
  const url = `${origin}/login`;
  const escaped = url
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#039;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
  return {
    status: 302,
    headers: { location: url, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache, private' },
    body: `<!DOCTYPE html>
<html>
    <head>
        <meta charset="UTF-8" />
        <meta http-equiv="refresh" content="0;url='${escaped}'" />

        <title>Redirecting to ${escaped}</title>
    </head>
    <body>
        Redirecting to <a href="${escaped}">${escaped}</a>.
    </body>
</html>`,
  };
}

type InputValue = string | string[] | null;

/** PHP query parsing as Laravel sees it: `key[]=a` makes an array, the last plain `key=` wins, then
 * the TrimStrings and ConvertEmptyStringsToNull middleware run. */
function parseInput(search: URLSearchParams): Map<string, InputValue> {
  const input = new Map<string, InputValue>();
  for (const [key, value] of search) {
    const bracket = /^([^[\]]+)\[[^\]]*\]$/.exec(key);
    if (bracket?.[1] !== undefined) {
      const name = bracket[1];
      const current = input.get(name);
      input.set(name, [...(Array.isArray(current) ? current : []), value.trim()]);
    } else {
      const trimmed = value.trim();
      input.set(key, trimmed === '' ? null : trimmed);
    }
  }
  return input;
}

const INT64_MAX = 9223372036854775807n;

/** PHP `filter_var($v, FILTER_VALIDATE_INT) !== false` for an already-trimmed string. */
function isPhpInteger(value: InputValue): value is string {
  if (typeof value !== 'string' || !/^[+-]?(0|[1-9]\d*)$/.test(value)) return false;
  const big = BigInt(value);
  return big <= INT64_MAX && big >= -INT64_MAX - 1n;
}

/** PHP `is_numeric` for an already-trimmed string. */
function isPhpNumeric(value: InputValue): value is string {
  return typeof value === 'string' && /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(value);
}

/** Laravel's `getSize` for an attribute with a numeric rule. */
function numericSize(value: InputValue): number {
  if (isPhpNumeric(value)) return Number(value);
  if (Array.isArray(value)) return value.length;
  return [...(value ?? '')].length;
}

function isYmd(value: InputValue): value is string {
  if (typeof value !== 'string') return false;
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toISOString().slice(0, 10) === value;
}

type Rule = (value: InputValue, attribute: string, input: Map<string, InputValue>) => string | null;

const ruleString: Rule = (value, attribute) =>
  typeof value === 'string' ? null : `The ${attribute} field must be a string.`;
const ruleIn =
  (allowed: readonly string[]): Rule =>
  (value, attribute) =>
    typeof value === 'string' && allowed.includes(value) ? null : `The selected ${attribute} is invalid.`;
const ruleInteger: Rule = (value, attribute) =>
  isPhpInteger(value) ? null : `The ${attribute} field must be an integer.`;
const ruleMin =
  (min: number): Rule =>
  (value, attribute) =>
    numericSize(value) >= min ? null : `The ${attribute} field must be at least ${min}.`;
const ruleMax =
  (max: number): Rule =>
  (value, attribute) =>
    numericSize(value) <= max ? null : `The ${attribute} field must not be greater than ${max}.`;
const ruleDateFormat: Rule = (value, attribute) =>
  isYmd(value) ? null : `The ${attribute} field must match the format Y-m-d.`;
/** `after_or_equal:date_from`, checked only when both dates are valid (see the report on this choice). */
const ruleAfterOrEqualDateFrom: Rule = (value, attribute, input) => {
  const from = input.get('date_from') ?? null;
  if (!isYmd(value) || !isYmd(from)) return null;
  return value >= from ? null : `The ${attribute} field must be a date after or equal to date from.`;
};

const LIST_RULES: readonly (readonly [string, readonly Rule[]])[] = [
  ['status', [ruleString, ruleIn(CALL_STATUSES)]],
  ['type', [ruleString, ruleIn(CALL_TYPES)]],
  ['phone_number', [ruleString]],
  ['assistant_id', [ruleInteger, ruleMin(1)]],
  ['campaign_id', [ruleInteger, ruleMin(1)]],
  ['date_from', [ruleDateFormat]],
  ['date_to', [ruleDateFormat, ruleAfterOrEqualDateFrom]],
  ['per_page', [ruleInteger, ruleMin(1), ruleMax(MAX_PER_PAGE)]],
  ['page', [ruleInteger, ruleMin(1)]],
];

/** Every rule of every present field runs (no `bail`), as Laravel does; null/absent fields are skipped. */
function validate(input: Map<string, InputValue>): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const [field, rules] of LIST_RULES) {
    const value = input.get(field) ?? null;
    if (value === null) continue;
    const attribute = field.replace(/_/g, ' ');
    for (const rule of rules) {
      const message = rule(value, attribute, input);
      if (message !== null) {
        errors[field] ??= [];
        errors[field].push(message);
      }
    }
  }
  return errors;
}

/** Laravel's `ValidationException::summarize`. */
function validationFailed(errors: Record<string, string[]>): SimResponse {
  const messages = Object.values(errors).flat();
  const [first = 'The given data was invalid.', ...rest] = messages;
  const more = rest.length === 0 ? '' : ` (and ${rest.length} more ${rest.length === 1 ? 'error' : 'errors'})`;
  return json(422, { message: `${first}${more}`, errors });
}

function utcDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function matches(call: SimCall, filters: ListFilters): boolean {
  const raw = call.raw;
  if (filters.status !== undefined && raw.status !== filters.status) return false;
  if (filters.type !== undefined && raw.type !== filters.type) return false;
  if (filters.phoneNumber !== undefined && !(raw.client_phone_number ?? '').includes(filters.phoneNumber)) {
    return false;
  }
  if (filters.assistantId !== undefined && call.assistantId !== filters.assistantId) return false;
  if (filters.campaignId !== undefined && call.campaignId !== filters.campaignId) return false;
  if (filters.dateFrom !== undefined && utcDate(call.createdAt) < filters.dateFrom) return false;
  if (filters.dateTo !== undefined && utcDate(call.createdAt) > filters.dateTo) return false;
  return true;
}

function compareCalls(order: SimOrder): (a: SimCall, b: SimCall) => number {
  const sign = order === 'newest-first' ? -1 : 1;
  return (a, b) => sign * (a.createdAt.getTime() - b.createdAt.getTime() || a.raw.id - b.raw.id);
}

function stringValue(input: Map<string, InputValue>, field: string): string | undefined {
  const value = input.get(field);
  return typeof value === 'string' ? value : undefined;
}

function intValue(input: Map<string, InputValue>, field: string): number | undefined {
  const value = stringValue(input, field);
  return value === undefined ? undefined : Number(value);
}

interface PaginatorLink {
  url: string | null;
  label: string;
  active: boolean;
}

/** `LengthAwarePaginator::toArray()` with the default UrlWindow (onEachSide = 3). */
function paginator(items: readonly SimCall[], total: number, page: number, perPage: number, path: string) {
  const lastPage = Math.max(Math.ceil(total / perPage), 1);
  const url = (n: number): string => `${path}?page=${n}`;
  const from = items.length > 0 ? (page - 1) * perPage + 1 : null;
  const to = from === null ? null : from + items.length - 1;
  const nextPageUrl = page < lastPage ? url(page + 1) : null;
  const prevPageUrl = page > 1 ? url(page - 1) : null;

  const range = (start: number, end: number): number[] =>
    Array.from({ length: Math.max(0, end - start + 1) }, (_, i) => start + i);
  const onEachSide = 3;
  const window = onEachSide + 4;
  let elements: (number[] | '...')[];
  if (lastPage < onEachSide * 2 + 8) elements = [range(1, lastPage)];
  else if (page <= window) elements = [range(1, window + onEachSide), '...', range(lastPage - 1, lastPage)];
  else if (page > lastPage - window) {
    elements = [range(1, 2), '...', range(lastPage - (window + (onEachSide - 1)), lastPage)];
  } else {
    elements = [range(1, 2), '...', range(page - onEachSide, page + onEachSide), '...', range(lastPage - 1, lastPage)];
  }
  const links: PaginatorLink[] = [
    { url: prevPageUrl, label: '&laquo; Previous', active: false },
    ...elements.flatMap((element): PaginatorLink[] =>
      element === '...'
        ? [{ url: null, label: '...', active: false }]
        : element.map((n) => ({ url: url(n), label: String(n), active: n === page })),
    ),
    { url: nextPageUrl, label: 'Next &raquo;', active: false },
  ];

  return {
    current_page: page,
    data: items.map((call) => call.raw),
    first_page_url: url(1),
    from,
    last_page: lastPage,
    last_page_url: url(lastPage),
    links,
    next_page_url: nextPageUrl,
    path,
    per_page: perPage,
    prev_page_url: prevPageUrl,
    to,
    total,
  };
}

function listCalls(
  calls: readonly SimCall[],
  search: URLSearchParams,
  context: RouteContext,
  path: string,
): SimResponse {
  const input = parseInput(search);
  const errors = validate(input);
  if (Object.keys(errors).length > 0) return validationFailed(errors);

  const filters: ListFilters = {
    status: stringValue(input, 'status'),
    type: stringValue(input, 'type'),
    phoneNumber: stringValue(input, 'phone_number'),
    assistantId: intValue(input, 'assistant_id'),
    campaignId: intValue(input, 'campaign_id'),
    dateFrom: stringValue(input, 'date_from'),
    dateTo: stringValue(input, 'date_to'),
  };
  const requestedPerPage = intValue(input, 'per_page') ?? DEFAULT_PER_PAGE;
  const perPage = context.maxPerPage === undefined ? requestedPerPage : Math.min(requestedPerPage, context.maxPerPage);
  const page = intValue(input, 'page') ?? 1;

  const order = context.order ?? 'newest-first';
  const matching = calls.filter((call) => matches(call, filters)).sort(compareCalls(order));
  const offset = (page - 1) * perPage;
  const items = offset < matching.length ? matching.slice(offset, offset + perPage) : [];
  const full = paginator(items, matching.length, page, perPage, path);
  if (context.envelope === 'data') return json(200, { data: full.data });
  if (context.envelope === 'abridged') {
    const { data, current_page, per_page, total, last_page } = full;
    return json(200, { data, current_page, per_page, total, last_page });
  }
  return json(200, full);
}

function getCall(calls: readonly SimCall[], idSegment: string): SimResponse {
  const id = /^\d+$/.test(idSegment) ? Number(idSegment) : Number.NaN;
  const call = Number.isSafeInteger(id) ? calls.find((candidate) => candidate.raw.id === id) : undefined;
  return call ? json(200, call.raw) : json(404, { message: 'Call not found' });
}

function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

/** Answers one request. HEAD is answered like GET; the caller drops the body. */
export function handleRequest(request: SimRequest, context: RouteContext): SimResponse {
  const basePath = normalizeBasePath(context.basePath ?? DEFAULT_BASE_PATH);
  const parsed = new URL(request.url, 'http://simulator.invalid');
  // Laravel matches on the decoded path with surrounding slashes trimmed.
  const path = `/${decodePath(parsed.pathname).replace(/^\/+|\/+$/g, '')}`;
  const listPath = `${basePath}/user/calls`;

  let route: { kind: 'list' } | { kind: 'get'; id: string } | null = null;
  if (path === listPath) route = { kind: 'list' };
  else if (path.startsWith(`${listPath}/`) && !path.slice(listPath.length + 1).includes('/')) {
    route = { kind: 'get', id: path.slice(listPath.length + 1) };
  }
  if (route === null) return json(404, { message: 'Not Found' });

  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') {
    return json(
      405,
      { message: `The ${method} method is not supported for route ${path.slice(1)}. Supported methods: GET, HEAD.` },
      { allow: 'GET, HEAD' },
    );
  }

  const token = bearerToken(header(request, 'authorization'));
  const calls = token === null ? undefined : context.tenants.get(token);
  if (token === null || calls === undefined) {
    return expectsJson(request) ? json(401, { message: 'Unauthenticated.' }) : loginRedirect(context.origin);
  }

  // Laravel's `auth` middleware runs before `throttle`, so only authenticated requests are counted, per token.
  const throttled = context.throttle?.(token);
  if (throttled?.allowed === false) return json(429, { message: 'Too Many Attempts.' }, throttled.headers);

  const answer =
    route.kind === 'get'
      ? getCall(calls, route.id)
      : listCalls(calls, parsed.searchParams, context, `${context.origin}${listPath}`);
  if (throttled !== undefined) Object.assign(answer.headers, throttled.headers);
  return answer;
}
