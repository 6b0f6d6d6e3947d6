// The sessions page's view (filters, sort, page position) and its two spellings: the page's URL and
// the `GET /api/sessions` query. Both use the API's parameter names, so a shared link and a script
// read the same way; anything the URL holds that is not valid is dropped, never sent.

export const SORTS = ['started', 'duration', 'active', 'errors'] as const;
export type Sort = (typeof SORTS)[number];
export type Order = 'asc' | 'desc';
/** The device types the hub derives from the user agent. */
export const DEVICES = ['desktop', 'mobile', 'tablet', 'bot', 'other'] as const;

/** Filters with a text value, in the order the URL lists them. */
export const TEXT_KEYS = ['q', 'user', 'url', 'event', 'browser', 'os', 'device', 'project'] as const;
export type TextKey = (typeof TEXT_KEYS)[number];
/** Filters on a number of milliseconds (0 or more). */
export const MS_KEYS = ['min_duration_ms', 'max_duration_ms', 'min_active_ms', 'max_active_ms'] as const;
export type MsKey = (typeof MS_KEYS)[number];
export const TIME_KEYS = ['from', 'to'] as const;
export type TimeKey = (typeof TIME_KEYS)[number];

export type Filters = Partial<Record<TextKey | TimeKey, string> & Record<MsKey, number>> & {
  has_errors?: true;
  status?: 'live' | 'ended';
};

export interface View {
  filters: Filters;
  sort: Sort;
  order: Order;
  /** The `next_cursor` the shown list starts after; absent at the top. */
  cursor?: string;
  /** Sessions per page (the API's `limit`); absent: the page's default. */
  limit?: number;
}

/** A first page that fills a tall screen several times over and comes back fast. */
export const PAGE_SIZE = 100;
/** The API's largest page. */
const MAX_LIMIT = 1000;

export const DEFAULT_VIEW: View = { filters: {}, sort: 'started', order: 'desc' };

/** Epoch ms (digits) or an RFC 3339 time, as the API takes `from` and `to`. */
export function parseTime(raw: string): number | null {
  const s = raw.trim();
  if (/^\d{1,15}$/.test(s)) return Number(s);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(s)) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

const MAX_TEXT = 200;

/** Reads a view from a query string (`location.search`); invalid or unknown values are left out. */
export function parseView(search: string): View {
  const p = new URLSearchParams(search);
  const filters: Filters = {};
  for (const k of TEXT_KEYS) {
    const v = p.get(k)?.trim();
    if (v && v.length <= MAX_TEXT) filters[k] = v;
  }
  if (filters.device && !(DEVICES as readonly string[]).includes(filters.device)) delete filters.device;
  if (filters.project && !/^[A-Za-z0-9_-]{1,64}$/.test(filters.project)) delete filters.project;
  for (const k of TIME_KEYS) {
    const v = p.get(k)?.trim();
    if (v && parseTime(v) !== null) filters[k] = v;
  }
  for (const k of MS_KEYS) {
    const v = p.get(k)?.trim();
    if (v && /^\d{1,12}$/.test(v)) filters[k] = Number(v);
  }
  if (p.get('has_errors') === 'true') filters.has_errors = true;
  const status = p.get('status');
  if (status === 'live' || status === 'ended') filters.status = status;
  const sort = p.get('sort') as Sort | null;
  const order = p.get('order');
  const view: View = {
    filters,
    sort: sort && SORTS.includes(sort) ? sort : DEFAULT_VIEW.sort,
    order: order === 'asc' || order === 'desc' ? order : DEFAULT_VIEW.order,
  };
  const cursor = p.get('cursor');
  if (cursor && cursor.length <= 400) view.cursor = cursor;
  const limit = p.get('limit');
  if (limit && /^\d{1,4}$/.test(limit) && +limit >= 1 && +limit <= MAX_LIMIT) view.limit = Number(limit);
  return view;
}

/** The filters as query parameters, in a fixed order (so equal views give equal URLs). */
function filterParams(f: Filters): [string, string][] {
  const out: [string, string][] = [];
  for (const k of [...TEXT_KEYS, ...TIME_KEYS]) if (f[k]) out.push([k, f[k] as string]);
  for (const k of MS_KEYS) if (f[k] !== undefined) out.push([k, String(f[k])]);
  if (f.has_errors) out.push(['has_errors', 'true']);
  if (f.status) out.push(['status', f.status]);
  return out;
}

/** The page's query string for a view ('' for the default one); defaults are left out. */
export function viewSearch(v: View): string {
  const params = filterParams(v.filters);
  if (v.sort !== DEFAULT_VIEW.sort) params.push(['sort', v.sort]);
  if (v.order !== DEFAULT_VIEW.order) params.push(['order', v.order]);
  if (v.limit) params.push(['limit', String(v.limit)]);
  if (v.cursor) params.push(['cursor', v.cursor]);
  const s = new URLSearchParams(params).toString();
  return s ? `?${s}` : '';
}

/** `GET /api/sessions` for a view, starting after `cursor` (the view's own when not given). */
export function apiPath(v: View, cursor = v.cursor): string {
  // `all=true`: the list is not limited to the last 24 h; `from`/`to` bound it instead.
  const params = [...filterParams(v.filters), ['sort', v.sort], ['order', v.order], ['limit', String(v.limit ?? PAGE_SIZE)], ['all', 'true']];
  if (cursor) params.push(['cursor', cursor]);
  return `/api/sessions?${new URLSearchParams(params).toString()}`;
}

export function hasFilters(f: Filters): boolean {
  return filterParams(f).length > 0;
}

export function sameView(a: View, b: View): boolean {
  return viewSearch(a) === viewSearch(b);
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** One phrase per filter, for the empty result ("No sessions where …"). */
export function describeFilters(f: Filters): string[] {
  const out: string[] = [];
  if (f.q) out.push(`match “${f.q}”`);
  if (f.user) out.push(`user is “${f.user}”`);
  if (f.url) out.push(`a page contains “${f.url}”`);
  if (f.from) out.push(`started from ${f.from}`);
  if (f.to) out.push(`started until ${f.to}`);
  if (f.min_duration_ms !== undefined) out.push(`duration ≥ ${seconds(f.min_duration_ms)}`);
  if (f.max_duration_ms !== undefined) out.push(`duration ≤ ${seconds(f.max_duration_ms)}`);
  if (f.min_active_ms !== undefined) out.push(`active time ≥ ${seconds(f.min_active_ms)}`);
  if (f.max_active_ms !== undefined) out.push(`active time ≤ ${seconds(f.max_active_ms)}`);
  if (f.has_errors) out.push('has errors');
  if (f.event) out.push(`event “${f.event}” was tracked`);
  if (f.browser) out.push(`browser is ${f.browser}`);
  if (f.os) out.push(`OS is ${f.os}`);
  if (f.device) out.push(`device is ${f.device}`);
  if (f.status) out.push(f.status === 'live' ? 'live now' : 'ended');
  if (f.project) out.push(`project is ${f.project}`);
  return out;
}

/** `<input type=datetime-local>` value (local time) → the RFC 3339 UTC time the URL holds. */
export function localToIso(local: string): string | undefined {
  if (!local) return undefined;
  const t = new Date(local).getTime();
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** The URL's `from`/`to` (RFC 3339 or epoch ms) → an `<input type=datetime-local>` value. */
export function isoToLocal(raw: string | undefined): string {
  const t = raw ? parseTime(raw) : null;
  if (t === null) return '';
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
