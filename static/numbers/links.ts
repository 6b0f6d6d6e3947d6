// The numbers page's pure parts: its URL (project and range), the API path, and the sessions-list
// links behind each number, spelled with `GET /api/sessions`'s parameter names (sessions/query.ts).

/** What `GET /api/numbers` answers (src/db/numbers_query.rs). */
export interface Count { key: string; count: number }
export interface Numbers {
  project: string;
  from: number;
  to: number;
  days: { from: number; sessions: number; errored: number }[];
  sessions: number;
  errored: number;
  error_rate: number;
  active_now: number;
  median_duration_ms: number | null;
  median_active_ms: number | null;
  median_error: number;
  top_pages: Count[];
  entry_pages: Count[];
  exit_pages: Count[];
  rage_clicks: Count[];
  /** By page path (the heatmaps' key), not full URL. */
  dead_clicks: Count[];
  events: Count[];
}

export interface Range { project?: string; from?: string; to?: string }

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const PROJECT = /^[A-Za-z0-9_-]{1,64}$/;
export const DAY_MS = 86_400_000;

/** The page's project and range (UTC days `YYYY-MM-DD`) from its query string; bad values are dropped. */
export function parseRange(search: string): Range {
  const p = new URLSearchParams(search);
  const r: Range = {};
  const project = p.get('project');
  if (project && PROJECT.test(project)) r.project = project;
  for (const k of ['from', 'to'] as const) {
    const v = p.get(k);
    if (v && DAY.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`))) r[k] = v;
  }
  return r;
}

export function rangeSearch(r: Range): string {
  const p = new URLSearchParams();
  if (r.project) p.set('project', r.project);
  if (r.from) p.set('from', r.from);
  if (r.to) p.set('to', r.to);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** `GET /api/numbers` for a range: its days' first and last moments, UTC. */
export function apiPath(project: string, r: Range): string {
  const p = new URLSearchParams({ project });
  if (r.from) p.set('from', `${r.from}T00:00:00Z`);
  if (r.to) p.set('to', `${r.to}T23:59:59.999Z`);
  return `/api/numbers?${p.toString()}`;
}

/** `YYYY-MM-DD` of a time (UTC). */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The sessions list showing the sessions behind a number: the project's, started within
 * `from`..`to` (inclusive, as the list's filters are), plus `extra` filters.
 */
export function sessionsHref(project: string, from: number, to: number, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams({ project, ...extra, from: new Date(from).toISOString(), to: new Date(to).toISOString() });
  return `/?${p.toString()}`;
}

/** The sessions of one day of the chart. */
export const dayHref = (project: string, dayFrom: number) => sessionsHref(project, dayFrom, dayFrom + DAY_MS - 1);
