// Helpers shared by the dashboard pages: socket URLs and formatting.

import type { SessionInfo } from '@streamdom/recorder/protocol';

export function wsUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms == null || !(ms >= 0)) return '—';
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : timeFmt.format(d);
}

/** Duration so far: ended sessions use the hub's figure, live ones keep counting. */
export function sessionDuration(s: SessionInfo, now = Date.now()): number {
  if (!s.active) return s.duration_ms;
  const start = Date.parse(s.started_at);
  if (Number.isNaN(start)) return s.duration_ms;
  return Math.max(0, now - start);
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
