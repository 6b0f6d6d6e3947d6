// When the watch page stops believing in its socket: a hub that froze, or a network that went away
// without closing anything, leaves a WebSocket open and silent for minutes. The hub answers a ping
// at once, so a quiet connection is pinged, and one with no word at all for SILENT_MS is given up
// (stream.ts then says "reconnecting" and opens a new one).

/** Quiet this long (no message at all): ask the hub with a ping. */
export const QUIET_MS = 5000;
/** Silent this long despite the pings: the hub is out of reach. */
export const SILENT_MS = 15_000;
/**
 * A check this much later than the one before means the page itself was not running (a long task,
 * a throttled background tab): the silence is the page's, not the hub's, and starts over.
 */
export const LATE_CHECK_MS = 3000;

export type SilenceVerdict = 'ping' | 'drop' | null;

export class Silence {
  private watching = false;
  private heardAt = 0;
  private pingedAt = 0;
  private checkedAt = 0;

  /** A connection opened: its silence counts from now. */
  open(now: number): void {
    this.watching = true;
    this.heardAt = this.pingedAt = this.checkedAt = now;
  }

  /** A message arrived. */
  heard(now: number): void { this.heardAt = now; }

  /** The connection closed (or was given up): nothing to watch until the next opens. */
  closed(): void { this.watching = false; }

  /** Called about once a second: what to do about the connection's silence, if anything. */
  check(now: number): SilenceVerdict {
    if (!this.watching) return null;
    if (now - this.checkedAt > LATE_CHECK_MS) this.heardAt = this.pingedAt = now;
    this.checkedAt = now;
    const quiet = now - this.heardAt;
    if (quiet >= SILENT_MS) {
      this.watching = false;
      return 'drop';
    }
    if (quiet >= QUIET_MS && now - this.pingedAt >= QUIET_MS) {
      this.pingedAt = now;
      return 'ping';
    }
    return null;
  }
}
