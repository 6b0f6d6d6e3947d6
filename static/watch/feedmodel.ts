// The event feed's model, without a DOM: every event as a summarized entry in seq order, the
// entries the kind filter and text search let through, following and pausing (nothing is dropped
// while paused; arrivals are counted), and which rows a scroll position shows (the view renders
// only those, so 100,000 events cost as much to draw as 30).

import type { Rec } from './store';
import { summarize, type FeedKind } from './summary';

export interface Entry { seq: number; ts: number; kind: FeedKind; text: string; rec: Rec }

/** Rows kept while following live for hours; older ones are fetched again on scrolling up. */
export const FOLLOW_CAP = 10_000;
/** Trim in batches of this many, not one row per event. */
const TRIM_SLACK = 1000;

export class FeedModel {
  private all: Entry[] = [];
  private rows: Entry[] = [];
  /**
   * Older events that arrived out of order (a seek's load filling in the past), merged in at the
   * next read: a load brings thousands, and placing and refiltering each alone cost seconds.
   */
  private older: Entry[] = [];
  /** Every event, in seq order. */
  get entries(): readonly Entry[] { this.settle(); return this.all; }
  /** The entries that pass the filter, in seq order: the rows. */
  get shown(): readonly Entry[] { this.settle(); return this.rows; }
  kind: FeedKind | 'all' = 'all';
  query = '';
  paused = false;
  /** Events that arrived since the pause. */
  arrivedWhilePaused = 0;
  /** Bumped whenever `shown` changes other than by appending (the view redraws all rows). */
  version = 0;

  add(r: Rec): void {
    const s = summarize(r);
    const e: Entry = { seq: r.seq, ts: r.event.timestamp, kind: s.kind, text: s.text, rec: r };
    if (this.paused) this.arrivedWhilePaused++;
    const n = this.all.length;
    if (n === 0 || (this.all[n - 1].seq < e.seq && !this.older.length)) {
      this.all.push(e);
      if (this.matches(e)) this.rows.push(e);
      if (!this.paused && this.all.length > FOLLOW_CAP + TRIM_SLACK) this.trim();
      return;
    }
    this.older.push(e);
  }

  /** Merge the events that arrived out of order, once, and refilter. */
  private settle(): void {
    if (!this.older.length) return;
    const older = this.older.sort((a, b) => a.seq - b.seq);
    this.older = [];
    const merged: Entry[] = [];
    let i = 0;
    for (const e of older) {
      while (i < this.all.length && this.all[i].seq < e.seq) merged.push(this.all[i++]);
      if (this.all[i]?.seq === e.seq || merged[merged.length - 1]?.seq === e.seq) continue;
      merged.push(e);
    }
    while (i < this.all.length) merged.push(this.all[i++]);
    this.all = merged;
    this.refilter();
  }

  /** Keep the newest FOLLOW_CAP while following (a paused feed keeps everything it shows). */
  private trim(): void {
    this.all.splice(0, this.all.length - FOLLOW_CAP);
    const first = this.all[0].seq;
    let k = 0;
    while (k < this.rows.length && this.rows[k].seq < first) k++;
    this.rows.splice(0, k);
    this.version++;
  }

  /** Older events fetched again (scrolling up past the first row): how many rows they add. */
  prepend(recs: Rec[]): number {
    this.settle();
    const first = this.all[0]?.seq ?? Infinity;
    const older = recs.filter((r) => r.seq < first).sort((a, b) => a.seq - b.seq);
    const rows = this.rows.length;
    this.all.unshift(...older.map((r) => {
      const s = summarize(r);
      return { seq: r.seq, ts: r.event.timestamp, kind: s.kind, text: s.text, rec: r };
    }));
    this.refilter();
    return this.rows.length - rows;
  }

  setFilter(kind: FeedKind | 'all', query: string): void {
    this.kind = kind;
    this.query = query.trim().toLowerCase();
    this.refilter();
  }

  pause(): void {
    this.paused = true;
    this.arrivedWhilePaused = 0;
  }

  resume(): void {
    this.paused = false;
    this.arrivedWhilePaused = 0;
  }

  matches(e: Entry): boolean {
    if (this.kind !== 'all' && e.kind !== this.kind) return false;
    return !this.query || e.text.toLowerCase().includes(this.query) || e.kind.includes(this.query);
  }

  /** The row index of the entry with this seq, or of the last one before it; -1 when none. */
  rowAtOrBefore(seq: number): number {
    let lo = 0;
    const rows = this.shown;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The last row at or before visitor time `ts` (rows are in seq order, which is time order). */
  rowAtTime(ts: number): number {
    let lo = 0;
    const rows = this.shown;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].ts <= ts) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  private refilter(): void {
    this.rows = this.all.filter((e) => this.matches(e));
    this.version++;
  }
}

/** The rows `[from, to)` a viewport of `height` px scrolled to `top` shows, with `overscan` rows either side. */
export function visibleRows(count: number, top: number, height: number, rowHeight: number, overscan = 4): { from: number; to: number } {
  const from = Math.max(0, Math.floor(top / rowHeight) - overscan);
  const to = Math.min(count, Math.ceil((top + height) / rowHeight) + overscan);
  return { from, to: Math.max(from, to) };
}
