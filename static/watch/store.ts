// The watch page's event store: every event received, ordered by seq and without duplicates, with
// the stretches held without a hole (spans.ts), so that a replay starts at a full snapshot it holds
// and rewinding within what is held needs no network. Fed by stream.ts, read by player.ts.

import type { eventWithTime } from 'rrweb';
import type { EventEnvelope } from '@streamdom/recorder/protocol';
import { replayable } from './replayable';
import { Spans, type Span } from './spans';

/**
 * An event as the hub relays it (the hub checked that it has a numeric type and timestamp), plus
 * when the main socket received it (Date.now()). Recorded pages are hostile: events are only ever
 * handed to the replayer, never evaluated.
 */
export type Rec = Omit<EventEnvelope, 'event'> & { event: eventWithTime; recv?: number };

// rrweb's EventType.Meta and EventType.FullSnapshot.
export const EVENT_META = 4;
export const EVENT_FULL_SNAPSHOT = 2;

export class EventStore {
  readonly recs: Rec[] = [];
  private seen = new Set<number>();
  /** Seqs of events the replayer cannot take (replayable.ts), decided once as each arrives. */
  private unplayable = new Set<number>();
  /** The stretches of seqs held without a hole. */
  readonly spans = new Spans();
  /** Whether `recs` holds everything from the session's first event (up to live or end). */
  complete = false;
  /** Whether a full snapshot has arrived: without one there is no picture to show. */
  hasSnapshot = false;

  get first(): Rec | undefined { return this.recs[0]; }
  get last(): Rec | undefined { return this.recs[this.recs.length - 1]; }

  /**
   * Insert in seq order; false for a duplicate (history and live overlap on purpose). `from`: the
   * seq the delivering stream began at (it has delivered everything from there up to this event);
   * without it the event only joins the spans it touches.
   */
  add(r: Rec, from = r.seq): boolean {
    this.spans.cover(Math.min(from, r.seq), r.seq);
    if (this.seen.has(r.seq)) return false;
    this.seen.add(r.seq);
    // One walk of each event's tree, here: snapshots of heavy pages hold tens of thousands of nodes.
    const ok = replayable(r.event);
    if (!ok) this.unplayable.add(r.seq);
    else if (r.event.type === EVENT_FULL_SNAPSHOT) this.hasSnapshot = true;
    // Events nearly always arrive in order: search from the end.
    let i = this.recs.length;
    while (i > 0 && this.recs[i - 1].seq > r.seq) i--;
    this.recs.splice(i, 0, r);
    return true;
  }

  /** Whether the replayer can be given this event (an event of this store). */
  playable(r: Rec): boolean {
    return !this.unplayable.has(r.seq);
  }

  /** Whether a replay showing `ts` (a visitor timestamp) can start without loading anything. */
  covers(ts: number): boolean {
    return this.replayStart(ts) >= 0;
  }

  /** Everything from the session's first event is here (a full stream reached live or end). */
  markComplete(): void {
    this.complete = true;
  }

  /** Index of the event with this seq, or -1. */
  indexOf(seq: number): number {
    let lo = 0;
    let hi = this.recs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.recs[mid].seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return this.recs[lo]?.seq === seq ? lo : -1;
  }

  /** The span holding the event at index `i`. */
  spanAt(i: number): Span | null {
    const r = this.recs[i];
    return r ? this.spans.of(r.seq) : null;
  }

  /**
   * Where a replay showing `ts` starts: the index of the newest playable full snapshot (its Meta
   * when paired) at or before `ts` whose span also holds events up to `ts`; a span from the
   * session's first event may start at its first snapshot even if that is a little after `ts`.
   * -1 when what is held cannot show `ts` without a hole.
   */
  replayStart(ts: number): number {
    const recs = this.recs;
    // The last event at or before ts (timestamps rise with seq, give or take a few ms).
    let lo = 0;
    let hi = recs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (recs[mid].event.timestamp <= ts) lo = mid + 1;
      else hi = mid;
    }
    const at = lo - 1;
    const span = this.spanAt(Math.max(0, at));
    if (!span) return -1;
    const last = recs[this.indexOf(span.hi)];
    if (!last || last.event.timestamp < ts) return -1;
    for (let i = at; i >= 0 && recs[i].seq >= span.lo; i--) {
      if (recs[i].event.type === EVENT_FULL_SNAPSHOT && this.playable(recs[i])) return this.pairStart(i);
    }
    if (span.lo > 1) return -1;
    for (let i = Math.max(0, at + 1); i < recs.length && recs[i].seq <= span.hi; i++) {
      if (recs[i].event.type === EVENT_FULL_SNAPSHOT && this.playable(recs[i])) return this.pairStart(i);
    }
    return -1;
  }

  /** A full snapshot's index, or its Meta's when the Meta comes right before it. */
  private pairStart(i: number): number {
    return i > 0 && this.recs[i - 1].event.type === EVENT_META && this.recs[i - 1].seq === this.recs[i].seq - 1 ? i - 1 : i;
  }

  /** Index where the newest Meta + FullSnapshot pair starts (the only safe start for a live replayer); -1 without one. */
  latestSnapshotIndex(): number {
    for (let i = this.recs.length - 1; i >= 0; i--) {
      // A snapshot the replayer cannot take is no place to start from.
      if (this.recs[i].event.type !== EVENT_FULL_SNAPSHOT || !this.playable(this.recs[i])) continue;
      return this.pairStart(i);
    }
    return -1;
  }
}
