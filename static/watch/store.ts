// The watch page's event store: every event received, ordered by seq and without duplicates, so
// that rewinding needs no network once the history is complete. Fed by stream.ts, read by player.ts.

import type { eventWithTime } from 'rrweb';
import type { EventEnvelope } from '@streamdom/recorder/protocol';

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
  /** Whether `recs` holds everything from the session's first event (up to live or end). */
  complete = false;
  /** Whether `recs` may miss events in the middle (after a `viewer_too_slow` reconnect). */
  gapped = false;

  get first(): Rec | undefined { return this.recs[0]; }
  get last(): Rec | undefined { return this.recs[this.recs.length - 1]; }

  /** Insert in seq order; false for a duplicate (history and live overlap on purpose). */
  add(r: Rec): boolean {
    if (this.seen.has(r.seq)) return false;
    this.seen.add(r.seq);
    // Events nearly always arrive in order: search from the end.
    let i = this.recs.length;
    while (i > 0 && this.recs[i - 1].seq > r.seq) i--;
    this.recs.splice(i, 0, r);
    return true;
  }

  /** Whether a replay from `ts` (a visitor timestamp) can start without loading history. */
  covers(ts: number): boolean {
    if (this.complete) return true;
    return !this.gapped && this.recs.length > 0 && this.recs[0].event.timestamp <= ts;
  }

  /** Everything from the session's first event is here (a full stream reached live or end). */
  markComplete(): void {
    this.complete = true;
    this.gapped = false;
  }

  /** The live stream skipped ahead: events in the middle may be missing until history is reloaded. */
  markGapped(): void {
    this.complete = false;
    this.gapped = true;
  }

  /** Index where the newest Meta + FullSnapshot pair starts (the only safe start for a live replayer); -1 without one. */
  latestSnapshotIndex(): number {
    for (let i = this.recs.length - 1; i >= 0; i--) {
      if (this.recs[i].event.type !== EVENT_FULL_SNAPSHOT) continue;
      return i > 0 && this.recs[i - 1].event.type === EVENT_META ? i - 1 : i;
    }
    return -1;
  }
}
