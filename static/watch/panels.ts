// The console and network panels' rows, as plain functions over the events: one row per console
// message (rrweb/console@1) and one per request (streamdom/network@1), their filters (level; status
// class) and the row at the moment shown. Texts are recorded content: shown as text only.

import type { Rec } from './store';

export interface PanelRow {
  seq: number;
  /** Visitor timestamp: when it happened (a request: when it started). */
  ts: number;
  /** console: the level; network: ok | redirect | client-error | server-error | failed. */
  group: string;
  text: string;
  /** Stack lines, response details…: the row's tooltip. */
  detail: string;
}

const MAX = 300;
const clip = (s: string) => (s.length > MAX ? `${s.slice(0, MAX - 1)}…` : s);
type D = Record<string, unknown>;
const data = (r: Rec) => ((r.event as { data?: D }).data ?? {}) as D;

export const CONSOLE_LEVELS = ['error', 'warn', 'info', 'log', 'debug'];
export const NETWORK_GROUPS = ['failed', 'server-error', 'client-error', 'redirect', 'ok'];

export function consoleRows(r: Rec): PanelRow[] {
  if (r.event.type !== 6) return [];
  const d = data(r);
  if (d.plugin !== 'rrweb/console@1') return [];
  const p = (d.payload ?? {}) as D;
  const args = Array.isArray(p.payload) ? p.payload.map((a) => (typeof a === 'string' ? a : JSON.stringify(a) ?? '')) : [];
  const level = typeof p.level === 'string' ? p.level : 'log';
  const source = p.source === 'uncaught' || p.source === 'unhandledrejection' ? `${p.source}: ` : '';
  const trace = Array.isArray(p.trace) ? p.trace.map(String).join('\n') : '';
  return [{ seq: r.seq, ts: r.event.timestamp, group: level, text: clip(`${source}${args.join(' ')}`), detail: clip(trace) }];
}

export function statusGroup(status: number): string {
  if (!(status > 0)) return 'failed';
  if (status >= 500) return 'server-error';
  if (status >= 400) return 'client-error';
  if (status >= 300) return 'redirect';
  return 'ok';
}

export function networkRows(r: Rec): PanelRow[] {
  if (r.event.type !== 6) return [];
  const d = data(r);
  if (d.plugin !== 'streamdom/network@1') return [];
  const reqs = Array.isArray((d.payload as D | undefined)?.requests) ? ((d.payload as D).requests as D[]) : [];
  return reqs.map((q) => {
    const status = Number(q.status) || 0;
    const ms = Math.round(Number(q.duration) || 0);
    const failed = status === 0 ? `failed${q.error ? ` (${String(q.error)})` : ''}` : String(status);
    const size = typeof q.response_size === 'number' ? ` · ${q.response_size} B` : '';
    return {
      seq: r.seq,
      ts: typeof q.start === 'number' ? q.start : r.event.timestamp,
      group: statusGroup(status),
      text: clip(`${String(q.method ?? 'GET')} ${String(q.url ?? '')} ${failed} ${ms} ms`),
      detail: clip(`${String(q.initiator ?? '')} ${String(q.method ?? '')} ${String(q.url ?? '')}\nstatus ${failed}, ${ms} ms${size}`),
    };
  });
}

/** The rows a filter lets through ('all', or one group). */
export function filterRows(rows: readonly PanelRow[], group: string): PanelRow[] {
  return group === 'all' ? rows.slice() : rows.filter((r) => r.group === group);
}

/** The index of the last row at or before visitor time `ts` (rows in time order); -1 when none. */
export function rowAt(rows: readonly PanelRow[], ts: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid].ts <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
