// What the live replayer applies in one animation frame, as plain functions over the events held
// (player.ts runs them once per frame). On a heavy page each applied event costs style and layout
// work in the replay, so events whose effect a later one overwrites are dropped before they reach
// it: only the newest mouse position, and the newest scroll offset and input value of each element.

import { EVENT_FULL_SNAPSHOT, EVENT_META, type Rec } from './store';

// rrweb's EventType.IncrementalSnapshot and the IncrementalSource values coalesced here.
export const EVENT_INCREMENTAL = 3;
export const SOURCE = { mouseMove: 1, mouseInteraction: 2, scroll: 3, viewportResize: 4, input: 5, touchMove: 6, drag: 12 } as const;

interface Incremental { source: number; id?: number; positions?: { x: number; y: number; id: number; timeOffset: number }[] }

const incremental = (r: Rec): Incremental | null =>
  r.event.type === EVENT_INCREMENTAL ? (r.event.data as unknown as Incremental) : null;

/**
 * The key under which only the newest event counts, or null for an event that must be applied
 * (mutations, clicks, …). Scroll and input replace the element's whole state (offsets; value and
 * checked), a viewport resize the whole size; the pointer's position is one value for all moves.
 */
export function coalesceKey(r: Rec): string | null {
  const d = incremental(r);
  if (!d) return null;
  switch (d.source) {
    case SOURCE.mouseMove:
    case SOURCE.touchMove:
    case SOURCE.drag:
      return `pointer:${d.source}`;
    case SOURCE.scroll:
      return `scroll:${d.id}`;
    case SOURCE.input:
      return `input:${d.id}`;
    case SOURCE.viewportResize:
      return 'viewport';
    default:
      return null;
  }
}

/**
 * The events of one frame with every event a later one of the same key overwrites removed; the
 * survivors keep their order, and a move keeps only its last position (the replayer would animate
 * every sampled position, each a hover and layout pass, for a picture only the last one leaves).
 */
export function coalesce(recs: Rec[]): Rec[] {
  const last = new Map<string, number>();
  recs.forEach((r, i) => {
    const k = coalesceKey(r);
    if (k !== null) last.set(k, i);
  });
  const out: Rec[] = [];
  recs.forEach((r, i) => {
    const k = coalesceKey(r);
    if (k !== null && last.get(k) !== i) return;
    const d = incremental(r);
    if (d?.positions && d.positions.length > 1) {
      const p = d.positions[d.positions.length - 1];
      out.push({ ...r, event: { ...r.event, data: { ...d, positions: [p] } } as Rec['event'] });
    } else out.push(r);
  });
  return out;
}

/**
 * Everything a full snapshot in the batch replaces goes: the live replayer rebuilds from the newest
 * Meta + FullSnapshot and applies only what follows it (a navigation lands in one rebuild, not in
 * the old page's changes followed by a rebuild).
 */
export function fromLatestSnapshot(recs: Rec[]): Rec[] {
  for (let i = recs.length - 1; i >= 0; i--) {
    if (recs[i].event.type !== EVENT_FULL_SNAPSHOT) continue;
    const start = i > 0 && recs[i - 1].event.type === EVENT_META ? i - 1 : i;
    return start > 0 ? recs.slice(start) : recs;
  }
  return recs;
}

/**
 * One frame's work: the held events whose moment has come (visitor timestamp at or before
 * `target`, in order: an event is never applied before one received earlier), reduced by
 * fromLatestSnapshot and coalesce; the rest stay held for a later frame.
 */
export function frameBatch(held: Rec[], target: number): { apply: Rec[]; hold: Rec[] } {
  let n = 0;
  while (n < held.length && held[n].event.timestamp <= target) n++;
  return { apply: coalesce(fromLatestSnapshot(held.slice(0, n))), hold: held.slice(n) };
}

/**
 * Hover emulation by difference: which elements lose and which gain the replay's `:hover` class
 * when the pointer moves from the element chain `prev` to `next` (target first, then ancestors).
 * rrweb clears the class from the whole document and sets it on every ancestor on each move, which
 * restyles a large page every time; moving within one element changes nothing.
 */
export function hoverChange<T>(prev: readonly T[], next: readonly T[]): { remove: T[]; add: T[] } {
  const was = new Set(prev);
  const now = new Set(next);
  return { remove: prev.filter((e) => !now.has(e)), add: next.filter((e) => !was.has(e)) };
}
