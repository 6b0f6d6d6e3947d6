// One recording: rrweb events -> numbered buffer -> hub socket, with resend after reconnects and unload fallbacks.

import { record } from '@rrweb/record';
import type { eventWithTime } from 'rrweb';
import { EventBuffer, FRAME_LIMIT } from './buffer';
import { Backoff, RATE_LIMITED_MAX_MS, RATE_LIMITED_MIN_MS } from './reconnect';
import { postFrames, KEEPALIVE_QUOTA } from './beacon';
import { warn } from './console';
import { CLOSE } from './protocol';
import { RecorderSocket, type Welcome } from './socket';
import { loadSeq, loadToken, saveSeq, savePending, saveToken, takePending } from './storage';

type RecordOptions = NonNullable<Parameters<typeof record>[0]>;

// A forced snapshot can itself overflow the buffer; do not let that turn into a loop.
const MIN_FORCED_SNAPSHOT_GAP_MS = 5000;
const STOP_ACK_TIMEOUT_MS = 3000;
// rrweb's EventType.FullSnapshot.
const FULL_SNAPSHOT = 2;
// The first full snapshot waits for the page's load and then for an idle moment, at most this long.
const FIRST_SNAPSHOT_IDLE_TIMEOUT_MS = 300;

/**
 * Runs `cb` once the page has loaded and the browser is idle (or after `timeout` ms). rrweb would
 * serialize the whole DOM inside the `load` event, which makes the page's own load that much later;
 * nothing is lost by waiting, the snapshot records the DOM as it is when taken.
 */
export function afterLoad(cb: () => void, timeout = FIRST_SNAPSHOT_IDLE_TIMEOUT_MS): void {
  const idle = () => {
    if (typeof requestIdleCallback === 'function') requestIdleCallback(() => cb(), { timeout });
    else setTimeout(cb, 0);
  };
  if (document.readyState === 'complete') idle();
  else addEventListener('load', () => setTimeout(idle, 0), { once: true });
}

/** The page's node that rrweb's events call `id` (when they are emitted). */
export const nodeById = (id: number): Node | null => record.mirror.getNode(id);

export class Recorder {
  readonly socket: RecorderSocket;
  private buffer: EventBuffer;
  /** Last seq the previous page of this tab used; entries above it were numbered by this page. */
  private pageStartSeq: number;
  private welcomed = false;
  private sentSeq = 0;
  private durableSeq = 0;
  private flushQueued = false;
  /** A full snapshot and the events after it, waiting for the task after rrweb's (see onEvent). */
  private deferred: eventWithTime[] | null = null;
  private lastForced = -Infinity;
  private stopRecording: (() => void) | undefined;
  /** stop() was called (perhaps before recording began). */
  private stopped = false;
  private ackWaiters: (() => void)[] = [];
  /**
   * Delays after `rate_limited` closes: longer each time the hub refuses again, back to the
   * shortest once everything is acknowledged (the welcome alone proves nothing: the limit is
   * on what is sent after it).
   */
  private limited = new Backoff(RATE_LIMITED_MIN_MS, RATE_LIMITED_MAX_MS);
  /** From the hub's `welcome`: presenting it again takes this session's slot over at once. */
  private resumeToken: string | null;

  constructor(readonly sessionId: string, private endpoint: string, private key: string, private options: RecordOptions) {
    this.pageStartSeq = loadSeq(sessionId);
    this.buffer = new EventBuffer(this.pageStartSeq);
    this.buffer.restore(takePending(sessionId));
    const ws = endpoint.replace(/^http/, 'ws');
    this.resumeToken = loadToken(sessionId);
    const keyParam = `key=${encodeURIComponent(key)}`;
    const url = () => `${ws}/ws/record/${sessionId}?${keyParam}${this.resumeToken ? `&resume=${encodeURIComponent(this.resumeToken)}` : ''}`;
    this.socket = new RecorderSocket(url, {
      welcome: (w) => this.onWelcome(w),
      ack: (n) => this.onAck(n),
      resend: (n) => this.onResend(n),
      close: (code) => this.onClose(code),
    });
  }

  /**
   * `now`: a PM is waiting (recording on demand), so on a loaded page the snapshot is taken at
   * once rather than at the next idle moment.
   */
  start(now = false): void {
    this.socket.connect();
    const begin = () => {
      if (this.stopped) return;
      this.stopRecording = record({ ...this.options, emit: (e: eventWithTime) => this.onEvent(e) });
    };
    if (now && document.readyState === 'complete') begin();
    else afterLoad(begin);
    addEventListener('pagehide', this.onPageHide);
    addEventListener('pageshow', this.onPageShow);
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  /** Stop recording, give the hub a moment to store everything, then close the socket. */
  async stop(): Promise<void> {
    this.stopped = true;
    removeEventListener('pagehide', this.onPageHide);
    removeEventListener('pageshow', this.onPageShow);
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.stopRecording?.();
    this.stopRecording = undefined;
    this.flush();
    if (this.durableSeq < this.buffer.lastSeq) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, STOP_ACK_TIMEOUT_MS);
        this.ackWaiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    if (this.durableSeq < this.buffer.lastSeq) this.postUnacked();
    saveSeq(this.sessionId, this.buffer.lastSeq);
    this.socket.close(1000);
  }

  /** Events of StreamDOM's own (custom, console, network, pages), in the same ordered stream as rrweb's. */
  report(e: { type: number; timestamp: number; data: unknown }): void {
    if (!this.stopped) this.onEvent(e as eventWithTime);
  }

  /**
   * rrweb serializes a full snapshot inside one task; turning it into JSON in that task too would
   * make one long task of both. The snapshot and what follows it wait for the next task instead
   * (in order), unless the page is going away (flush() takes them at once).
   */
  private onEvent(e: eventWithTime): void {
    if (this.deferred) {
      this.deferred.push(e);
      return;
    }
    if (e.type === FULL_SNAPSHOT) {
      this.deferred = [e];
      setTimeout(() => this.flush(), 0);
      return;
    }
    this.take(e);
  }

  private take(e: eventWithTime): void {
    if (this.buffer.push(e)) this.onOverflow();
    // Events emitted in the same task leave in one frame; nothing waits on a timer.
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => { this.flushQueued = false; this.flush(false); });
    }
  }

  /** Send what is buffered; `takeDeferred`: a deferred snapshot too (every caller but the microtask). */
  private flush(takeDeferred = true): void {
    if (takeDeferred && this.deferred) {
      const deferred = this.deferred;
      this.deferred = null;
      deferred.forEach((e) => this.take(e));
    }
    saveSeq(this.sessionId, this.buffer.lastSeq);
    if (!this.socket.ready) return;
    for (const f of this.buffer.frames(this.sentSeq)) {
      if (!this.socket.send(f.body, f.bytes)) return;
      this.sentSeq = f.last;
    }
  }

  private onWelcome(w: Welcome): void {
    this.resumeToken = w.resume_token;
    saveToken(this.sessionId, w.resume_token);
    // The hub has seqs this tab thought unused (storage lost, or events sent after the last save):
    // nothing from this page has been sent yet, so move its events past them instead of being dropped as duplicates.
    if (!this.welcomed && w.received_seq > this.pageStartSeq) this.buffer.renumber(this.pageStartSeq, w.received_seq);
    this.welcomed = true;
    this.onAck(w.durable_seq);
    this.sentSeq = w.received_seq;
    this.flush();
  }

  /**
   * The hub acknowledges nothing past a gap, and asks for everything again from it. If this
   * buffer no longer starts there (its bound made it drop the oldest events, which will not come
   * back), what it holds is numbered on from the gap, so the hub is never left waiting.
   */
  private onResend(fromSeq: number): void {
    const first = this.buffer.entries[0]?.seq;
    if (first !== undefined && first > fromSeq) this.buffer.renumber(first - 1, fromSeq - 1);
    this.sentSeq = Math.min(this.sentSeq, fromSeq - 1);
    this.flush();
  }

  private onAck(durableSeq: number): void {
    if (!(durableSeq > this.durableSeq)) return;
    this.durableSeq = durableSeq;
    this.buffer.dropThrough(durableSeq);
    if (durableSeq >= this.buffer.lastSeq) {
      this.limited.reset();
      this.ackWaiters.splice(0).forEach((f) => f());
    }
  }

  private onClose(code: number): boolean | number | void {
    // A newer connection of this session (another page of this tab) took over: this one is done.
    if (code === CLOSE.recorder_replaced) {
      warn('StreamDOM: another page of this session took over the recording');
      return false;
    }
    // Over the hub's rate: the refused frame and the rest are still buffered and go again after
    // the reconnect, once the hub's bucket has had time to refill.
    if (code === CLOSE.rate_limited) return this.limited.next();
    // A single event over the hub's frame limit would be resent forever; give it up and resnapshot.
    if (code === CLOSE.frame_too_large) {
      this.buffer.drop((e) => e.bytes > FRAME_LIMIT);
      this.forceSnapshot();
    }
  }

  private onOverflow(): void {
    // Replay recovers from a gap at the next full snapshot; make one unless the buffer still holds one.
    if (!this.buffer.hasFullSnapshot()) this.forceSnapshot();
  }

  private forceSnapshot(): void {
    const now = Date.now();
    if (!this.stopRecording || now - this.lastForced < MIN_FORCED_SNAPSHOT_GAP_MS) return;
    this.lastForced = now;
    // Not from inside rrweb's emit: the snapshot would re-enter it.
    setTimeout(() => this.stopRecording && record.takeFullSnapshot(true), 0);
  }

  /** Everything not yet durable goes by POST; the hub ignores seqs it already has. */
  private postUnacked(): void {
    const frames = this.buffer.frames(this.durableSeq, KEEPALIVE_QUOTA - 1024);
    if (frames.length) postFrames(`${this.endpoint}/api/sessions/${this.sessionId}/events?key=${encodeURIComponent(this.key)}`, frames);
  }

  private onPageHide = (): void => {
    this.flush();
    this.postUnacked();
    saveSeq(this.sessionId, this.buffer.lastSeq);
    // Beyond the keepalive quota, the next page of this tab resends what is left.
    savePending(this.sessionId, this.buffer.entries);
  };

  // Back from the bfcache: other pages of this tab may have used seqs and replaced the DOM the hub last saw.
  private onPageShow = (e: PageTransitionEvent): void => {
    if (!e.persisted) return;
    this.buffer.lastSeq = Math.max(this.buffer.lastSeq, loadSeq(this.sessionId));
    this.lastForced = -Infinity;
    this.forceSnapshot();
  };

  private onVisibility = (): void => {
    if (document.visibilityState === 'hidden') {
      this.flush();
      this.postUnacked();
    }
  };
}
