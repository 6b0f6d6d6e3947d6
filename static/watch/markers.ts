// What the timeline marks, as plain functions over the session's events: page visits, clicks, rage
// clicks, inputs, errors and custom events; the inactive stretches; the page (URL) at a moment.
// Definitions shared with the hub (docs/PROTOCOL.md): a rage click is a burst of ≥ 3 clicks each
// within 1 s of the previous and 30 px of the burst's first; an error is a console event of level
// "error"; a gap between user inputs of 5 s or more is inactive.

import type { Rec } from './store';

export type MarkerKind = 'page' | 'click' | 'rage-click' | 'input' | 'error' | 'custom';

export interface Marker {
  kind: MarkerKind;
  /** Visitor timestamp. */
  ts: number;
  seq: number;
  /** What it is, for the hover text (recorded text: shown with textContent only). */
  label: string;
}

export const RAGE_CLICKS = 3;
export const RAGE_GAP_MS = 1000;
export const RAGE_RADIUS_PX = 30;
export const INACTIVE_MS = 5000;
/** Keystrokes into one field this close together are one input marker. */
const INPUT_MERGE_MS = 1000;
const LABEL_MAX = 120;

const EV_META = 4;
const EV_INCREMENTAL = 3;
const EV_CUSTOM = 5;
const EV_PLUGIN = 6;
const SRC_MOUSE_INTERACTION = 2;
const SRC_INPUT = 5;
const CLICK = 2;
const USER_INPUT_SOURCES = new Set([1, 2, 3, 5, 6, 12]);

interface Loose { type: number; timestamp: number; data?: Record<string, unknown> }

const clip = (s: string) => (s.length > LABEL_MAX ? `${s.slice(0, LABEL_MAX - 1)}…` : s);
const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v) ?? '');

/** The URL of a page visit: a Meta event's href or a `$pageview`'s url; null for other events. */
export function pageUrl(r: Rec): string | null {
  const e = r.event as Loose;
  if (e.type === EV_META && typeof e.data?.href === 'string') return e.data.href;
  if (e.type === EV_CUSTOM && e.data?.tag === '$pageview') {
    const url = (e.data.payload as { url?: unknown } | undefined)?.url;
    return typeof url === 'string' ? url : null;
  }
  return null;
}

/** A console event of level "error" (console.error, uncaught, unhandled rejection): its message. */
export function errorMessage(r: Rec): string | null {
  const e = r.event as Loose;
  if (e.type !== EV_PLUGIN || e.data?.plugin !== 'rrweb/console@1') return null;
  const p = e.data.payload as { level?: unknown; payload?: unknown[] } | undefined;
  if (p?.level !== 'error') return null;
  return Array.isArray(p.payload) ? p.payload.map(str).join(' ') : '';
}

export function isUserInput(r: Rec): boolean {
  const e = r.event as Loose;
  return e.type === EV_INCREMENTAL && USER_INPUT_SOURCES.has(e.data?.source as number);
}

/**
 * Builds the markers as events come, in seq order. An event older than the last one taken (a
 * history load filling in the past) makes it start over from the store on the next read.
 */
export class Markers {
  list: Marker[] = [];
  /** Visitor timestamps of user inputs, for the inactive stretches. */
  inputs: number[] = [];
  pages: Marker[] = [];
  /** The user id the page last identified the visitor as (`$identify`), if any. */
  userId: string | null = null;
  private lastSeq = 0;
  private dirty = false;
  private burst: { x: number; y: number; ts: number; n: number; first: Marker } | null = null;
  private lastInput: { id: unknown; ts: number } | null = null;

  onEvent(r: Rec): void {
    if (r.seq < this.lastSeq) {
      this.dirty = true;
      return;
    }
    this.take(r);
  }

  /** The markers, rebuilt from `recs` first if the past changed. */
  read(recs: readonly Rec[]): Marker[] {
    if (this.dirty) {
      this.list = [];
      this.inputs = [];
      this.pages = [];
      this.userId = null;
      this.lastSeq = 0;
      this.burst = null;
      this.lastInput = null;
      this.dirty = false;
      for (const r of recs) this.take(r);
    }
    return this.list;
  }

  private push(kind: MarkerKind, r: Rec, label: string): Marker {
    const m = { kind, ts: r.event.timestamp, seq: r.seq, label: clip(label) };
    this.list.push(m);
    return m;
  }

  private take(r: Rec): void {
    this.lastSeq = r.seq;
    const e = r.event as Loose;
    const url = pageUrl(r);
    if (url !== null) this.pages.push(this.push('page', r, `Page: ${url}`));
    if (isUserInput(r)) this.inputs.push(e.timestamp);
    const err = errorMessage(r);
    if (err !== null) this.push('error', r, `Error: ${err}`);
    if (e.type === EV_CUSTOM && typeof e.data?.tag === 'string' && !e.data.tag.startsWith('$')) this.push('custom', r, `Event: ${e.data.tag}`);
    if (e.type === EV_CUSTOM && e.data?.tag === '$identify') {
      const id = (e.data.payload as { user_id?: unknown } | undefined)?.user_id;
      if (typeof id === 'string' || typeof id === 'number') this.userId = String(id);
    }
    if (e.type !== EV_INCREMENTAL) return;
    const d = e.data ?? {};
    if (d.source === SRC_MOUSE_INTERACTION && d.type === CLICK) this.click(r, Number(d.x), Number(d.y));
    if (d.source === SRC_INPUT) {
      const merge = this.lastInput && this.lastInput.id === d.id && e.timestamp - this.lastInput.ts < INPUT_MERGE_MS;
      this.lastInput = { id: d.id, ts: e.timestamp };
      if (!merge) this.push('input', r, 'Input');
    }
  }

  /** A click marker, unless it continues a burst; the third click of a burst adds one rage click. */
  private click(r: Rec, x: number, y: number): void {
    const ts = r.event.timestamp;
    const b = this.burst;
    if (b && ts - b.ts <= RAGE_GAP_MS && Math.hypot(x - b.x, y - b.y) <= RAGE_RADIUS_PX) {
      b.ts = ts;
      b.n++;
      if (b.n === RAGE_CLICKS) {
        // The burst's first click becomes the rage click's marker.
        b.first.kind = 'rage-click';
        b.first.label = 'Rage click';
      }
      if (b.n >= RAGE_CLICKS) b.first.label = `Rage click (${b.n} clicks)`;
      return;
    }
    const first = this.push('click', r, 'Click');
    this.burst = { x, y, ts, n: 1, first };
  }
}

/** Stretches of `[from, to)` (visitor timestamps) without user input for INACTIVE_MS or more. */
export function inactiveStretches(inputs: readonly number[], from: number, to: number): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  let prev = from;
  for (const t of [...inputs, to]) {
    if (t - prev >= INACTIVE_MS) out.push({ from: prev, to: t });
    if (t > prev) prev = t;
  }
  return out;
}

/** The page shown at visitor time `ts`: the last page visit at or before it (pages in order). */
export function pageAt(pages: readonly Marker[], ts: number): Marker | null {
  let lo = 0;
  let hi = pages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pages[mid].ts <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 ? pages[lo - 1] : null;
}

/**
 * At most one marker per kind per `buckets`-th of the timeline, the first of each (a long session
 * has thousands of clicks; the timeline is a few hundred pixels): what the view draws.
 */
export function thin(markers: readonly Marker[], from: number, to: number, buckets = 200): Marker[] {
  const span = Math.max(1, to - from);
  // A flag per kind and slice (it runs over every marker of a long session a few times a second).
  const seen = new Uint8Array(KINDS.length * (buckets + 1));
  const out: Marker[] = [];
  for (const m of markers) {
    const slice = Math.min(buckets, Math.max(0, Math.floor(((m.ts - from) / span) * buckets)));
    const key = KINDS.indexOf(m.kind) * (buckets + 1) + slice;
    if (seen[key]) continue;
    seen[key] = 1;
    out.push(m);
  }
  return out;
}

const KINDS: MarkerKind[] = ['page', 'click', 'rage-click', 'input', 'error', 'custom'];
