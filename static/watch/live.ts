// Live timing for the watch page's player: which moment of the visitor's clock the live replay
// shows, and how far behind the visitor it is, measured from the recorder's and this page's clock
// offsets to the hub (both NTP-style estimates), never by trusting the visitor's clock to agree.

import type { ClockSync } from '@streamdom/recorder/clock';

/** One applied event's delay, split where it was spent; all in ms. */
export interface Latency {
  /** From the visitor's change to this page applying it. */
  total: number;
  /** ± bound from the two clock estimates: (recorder RTT + viewer RTT) / 2. */
  uncertainty: number;
  visitorToHub: number;
  hubToPm: number;
  /** Time the event waited in this page before the replayer applied it. */
  buffer: number;
  /** Date.now() when it was applied. */
  at: number;
}

// The playback buffer follows the p95 of recent arrival delays, within these bounds: enough to
// replay a burst at its real pace, never so much that live feels late. Every live event shows at
// least `bufferMs` after it happened, so the cap is the delay a smooth picture may cost; beyond it
// a late burst lands in one frame (feed.ts), which on a busy heavy page is what it would do anyway.
export const BUFFER_MIN_MS = 10;
export const BUFFER_MAX_MS = 50;
const BUFFER_START_MS = 50;
const JITTER_WINDOW = 200;
// Without clock sync the replay trails the newest event by this much.
const UNSYNCED_LAG_MS = 30;
/** Past this delay the read-out says the replay is catching up (it applies all that is due each frame). */
export const LAGGING_MS = 1000;

export class LiveTiming {
  /** hub − visitor, from the recorder's `clock` report; null until one arrives. */
  recorderOffset: number | null = null;
  recorderRtt = Infinity;
  bufferMs = BUFFER_START_MS;
  private transits: number[] = [];
  // Fallback clock (no sync): runs in real time from followBase, pulled forward by new events.
  private followBase = 0;
  private followT0 = 0;

  constructor(private viewer: ClockSync) {}

  get synced(): boolean { return this.viewer.synced && this.recorderOffset !== null; }
  get uncertainty(): number { return (this.recorderRtt + this.viewer.rtt) / 2; }

  onClock(offset: number, rtt: number): void {
    if (!Number.isFinite(offset) || !(rtt >= 0)) return;
    this.recorderOffset = offset;
    this.recorderRtt = rtt;
  }

  /** Start (or restart) following from a visitor timestamp: the replay shows everything before it. */
  reset(visitorTs: number): void {
    this.followBase = visitorTs;
    this.followT0 = performance.now();
  }

  private followNow(): number { return this.followBase + performance.now() - this.followT0; }

  /** The visitor-clock moment the live replay should show now. */
  target(): number {
    if (!this.synced) return this.followNow();
    return Date.now() + this.viewer.offset - this.recorderOffset! - this.bufferMs;
  }

  /** A live event arrived (receivedAt = Date.now()): update the jitter estimate and the fallback clock. */
  onArrival(visitorTs: number, receivedAt: number): void {
    const behind = visitorTs - UNSYNCED_LAG_MS - this.followNow();
    if (behind > 0) this.followBase += behind;
    if (!this.synced) return;
    this.transits.push(receivedAt + this.viewer.offset - (visitorTs + this.recorderOffset!));
    if (this.transits.length > JITTER_WINDOW) this.transits.shift();
    const sorted = [...this.transits].sort((a, b) => a - b);
    const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))];
    this.bufferMs = Math.min(BUFFER_MAX_MS, Math.max(BUFFER_MIN_MS, Math.ceil(p95)));
  }

  /** The delay of an event the replayer applied just now; null without clock sync. */
  measure(visitorTs: number, hubTime: number, receivedAt: number, appliedAt = Date.now()): Latency | null {
    if (!this.synced) return null;
    const captured = visitorTs + this.recorderOffset!; // on the hub's clock
    const received = receivedAt + this.viewer.offset;
    const applied = appliedAt + this.viewer.offset;
    return {
      total: applied - captured,
      uncertainty: this.uncertainty,
      visitorToHub: hubTime - captured,
      hubToPm: received - hubTime,
      buffer: appliedAt - receivedAt,
      at: appliedAt,
    };
  }
}

export function fmtLatency(l: Latency | null, synced: boolean, now = Date.now()): string {
  if (!synced) return 'unknown: no clock sync yet';
  if (!l) return 'measuring…';
  const r = Math.round;
  const idle = now - l.at > 5000 ? ` (last change ${r((now - l.at) / 1000)} s ago)` : '';
  const lagging = l.total > LAGGING_MS && !idle ? ' · catching up' : '';
  return `${r(l.total)} ms behind ±${r(l.uncertainty)} ms · visitor→hub ${r(l.visitorToHub)} · hub→PM ${r(l.hubToPm)} · buffer ${r(l.buffer)}${idle}${lagging}`;
}

/**
 * The read-out's short form for PMs, "Live · 0.04 s behind"; the breakdown (fmtLatency) goes in
 * its tooltip. Negative totals (clock estimates within their uncertainty) read as 0.
 */
export function fmtDelay(l: Latency | null, synced: boolean, now = Date.now()): string {
  if (!synced) return 'Live · delay unknown yet';
  if (!l) return 'Live · measuring…';
  const lagging = l.total > LAGGING_MS && now - l.at <= 5000 ? ' · catching up' : '';
  return `Live · ${(Math.max(0, l.total) / 1000).toFixed(2)} s behind${lagging}`;
}
