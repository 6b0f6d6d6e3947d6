// The API's filters and sort, judged in the browser for sessions the feed pushes, so that the list
// stays live with the filters applied. What the feed does not carry cannot be judged here:
// - `event`: the feed has no custom event names;
// - `url` and `q`: it has the first page's URL (and the user and traits), not every page visited.
// A session they may match is "unknown": the page refetches its first page (throttled) instead.
// Text is compared as the hub does on both backends, ignoring the case of ASCII letters; a hit
// only when the case of other letters is ignored (PostgreSQL's, not SQLite's) is left to the hub.

import type { Filters, Sort, Order } from './query';
import { parseTime } from './query';
import type { Session } from './types';

export type Verdict = 'yes' | 'no' | 'unknown';

/** ASCII letters in lower case, others as they are (as SQLite's `lower()`). */
const fold = (s: string) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
/** 'yes' where `needle` is in one of `hay` but for ASCII case; 'unknown' otherwise (the hub may know more). */
const found = (needle: string, hay: (string | null | undefined)[]): boolean | undefined =>
  hay.some((h) => h != null && fold(h).includes(fold(needle))) || undefined;
const startMs = (s: Session) => Date.parse(s.started_at) || 0;

/** Whether `s` is in the API's answer for `f`, as far as the fields on `s` tell. */
export function matches(s: Session, f: Filters): Verdict {
  const checks: Verdict[] = [];
  const check = (ok: boolean | undefined) => checks.push(ok === undefined ? 'unknown' : ok ? 'yes' : 'no');
  /** A filter on a field an older hub may not send: unknown without it. */
  const derived = <T>(v: T | undefined, test: (v: T) => boolean) => check(v === undefined ? undefined : test(v));

  if (f.status) check(f.status === 'live' ? s.active : !s.active);
  if (f.project) check(s.project === f.project);
  if (f.user) derived(s.user_id, (u) => u === f.user);
  for (const k of ['browser', 'os', 'device'] as const) {
    const want = f[k];
    if (want) derived(s[k], (v) => v === want);
  }
  if (f.from) check(startMs(s) >= (parseTime(f.from) ?? 0));
  if (f.to) check(startMs(s) <= (parseTime(f.to) ?? Infinity));
  if (f.min_duration_ms !== undefined) check(s.duration_ms >= f.min_duration_ms);
  if (f.max_duration_ms !== undefined) check(s.duration_ms <= f.max_duration_ms);
  if (f.min_active_ms !== undefined) derived(s.active_ms, (a) => a >= f.min_active_ms!);
  if (f.max_active_ms !== undefined) derived(s.active_ms, (a) => a <= f.max_active_ms!);
  if (f.has_errors) derived(s.error_count, (n) => n > 0);
  // A match on what is here is a match; no match may still be one on a page the feed does not list.
  if (f.url) check(found(f.url, [s.url]));
  if (f.q) {
    const traits = s.traits ? Object.entries(s.traits).flatMap(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]) : [];
    check(found(f.q, [s.user_id, s.url, ...traits]));
  }
  if (f.event) check(undefined);
  if (checks.includes('no')) return 'no';
  return checks.includes('unknown') ? 'unknown' : 'yes';
}

export function sortKey(s: Session, sort: Sort): number {
  switch (sort) {
    case 'started': return startMs(s);
    case 'duration': return s.duration_ms;
    case 'active': return s.active_ms ?? 0;
    case 'errors': return s.error_count ?? 0;
  }
}

/** Two projects may use the same session id: the page keys sessions by both. */
export const keyOf = (s: Pick<Session, 'project' | 'id'>) => `${s.project}:${s.id}`;

/** The list's order, as the hub's keyset: the sort key, then the key, in the same direction. */
export function compare(a: Session, b: Session, sort: Sort, order: Order): number {
  const c = sortKey(a, sort) - sortKey(b, sort) || (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0);
  return order === 'asc' ? c : -c;
}
