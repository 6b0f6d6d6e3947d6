// The watch page's data side: the viewer sockets (main: live or from a moment; history: from the
// session's start), the seq-ordered event store, flow-control acks and the reconnect policy. No DOM
// and no replayer: player.ts turns what arrives here into pictures.

import { ClockSync } from '@streamdom/recorder/clock';
import { CLOSE, type EventEnvelope, type HubToViewer, type SessionInfo, type ViewerToHub } from '@streamdom/recorder/protocol';
import type { SocketHandlers } from '@streamdom/recorder/reconnect';
import { defuse } from './defuse';
import { EventStore, type Rec } from './store';

export type { Rec } from './store';

/** After an `end` that the hub may take back (see onMain), look again this soon. */
export const RESUME_CHECK_MS = 1000;

/** What the main socket does after the hub closed it. */
export type Reconnect =
  | { kind: 'stop'; status?: string }
  /** from: the next connection's `from=` (undefined: as before); delayMs undefined: back off. */
  | { kind: 'retry'; from?: string; delayMs?: number; gap?: boolean };

/**
 * The reconnect policy. `resumeMs`: the last event held, in ms from the session's start (null when
 * nothing is held); the hub starts `from=<ms>` at the full snapshot before it, so the streams
 * overlap (dropped by seq) and never leave a gap.
 */
export function reconnect(code: number, s: { over: boolean; provisionalEnd: boolean; resumeMs: number | null }): Reconnect {
  const from = s.resumeMs === null ? undefined : String(s.resumeMs);
  if (code === CLOSE.session_not_found) return { kind: 'stop', status: 'Session not found.' };
  if (s.over) return { kind: 'stop' };
  // The hub had no recorder for a session it still holds open (it restarted): the recorder is
  // probably on its way back, so look again shortly, from where this page is.
  if (s.provisionalEnd) return { kind: 'retry', from, delayMs: RESUME_CHECK_MS };
  // Cut for falling too far behind: skip to the newest snapshot, which leaves a hole in the store.
  if (code === CLOSE.viewer_too_slow) return { kind: 'retry', from: 'live', gap: true };
  return { kind: 'retry', from };
}

/** The first time the hub has sent everything so far, and every `end`. */
export type Boundary = { type: 'caught-up' } | { type: 'end'; provisional: boolean };

export interface StreamEvents {
  /** A new event (not a duplicate), already in the store. */
  event(r: Rec): void;
  boundary(b: Boundary): void;
  /** The recorder's clock estimate, relayed by the hub. */
  clock(offset: number, rtt: number): void;
  status(text: string): void;
  /** After every message on the main socket. */
  changed(): void;
}

export interface Conn { send(msg: ViewerToHub): unknown; close(): void }

/** How sockets are opened: the browser's WebSocket in the page (watch.ts), fakes in unit tests. */
export interface Transport {
  /** Reopens itself after every close unless onClose returns false (reconnect.ts). */
  reconnecting(url: () => string, h: SocketHandlers<HubToViewer>): Conn;
  /** Opened once; onClose runs when the hub or the network closes it, not after close(). */
  once(url: string, h: { onMessage(msg: HubToViewer): void; onClose(): void }): Conn;
}

export class Stream {
  readonly store = new EventStore();
  /** This page's clock offset to the hub; with the recorder's it maps visitor time onto ours. */
  readonly clock = new ClockSync((m) => this.main?.send(m));
  session: SessionInfo | null = null;
  /** The session is over: nothing more will come, and the sockets stay closed. */
  over = false;
  /** Whether a boundary (caught up, or end) was passed on: only later `end`s can be provisional. */
  private began = false;
  // Facts about the current main connection.
  private from: string;
  /** Whether its stream began at the session's first event (from=start, or an ended session). */
  private full = false;
  /** Whether its `session` message called the session active. */
  private saidActive = false;
  /** The hub sent `end` for a session it still calls active: reconnect rather than stop. */
  private provisionalEnd = false;
  private main: Conn | null = null;
  private historyLoad: Promise<void> | null = null;

  constructor(private opts: { sessionId: string; project?: string | null; from: 'start' | 'live'; transport: Transport; wsUrl(path: string): string }, public on: StreamEvents) {
    this.from = opts.from;
  }

  start(): void {
    this.main = this.opts.transport.reconnecting(() => this.url(this.from), {
      onOpen: () => this.clock.start(),
      onMessage: (msg) => this.onMain(msg),
      onClose: (code) => this.onMainClose(code),
    });
  }

  get sessionLive(): boolean { return !!this.session?.active && !this.over; }
  /** The session's time 0, a visitor timestamp. */
  sessionStart(): number { return this.session?.first_event_ts ?? this.store.first?.event.timestamp ?? 0; }
  lastTs(): number { return this.store.last?.event.timestamp ?? this.sessionStart(); }

  /** Resolves once the store can replay from `ts` (a visitor timestamp), loading history if needed. */
  async ensureHistory(ts: number): Promise<void> {
    if (this.store.covers(ts)) return;
    this.on.status('Loading history…');
    await this.loadHistory();
    this.on.status('');
  }

  /** A second socket from the session's first event; merged by seq, closed once it reaches live or end. */
  loadHistory(): Promise<void> {
    if (this.store.complete) return Promise.resolve();
    return (this.historyLoad ??= new Promise<void>((resolve) => {
      const finish = (complete: boolean) => {
        if (complete) this.store.markComplete();
        this.historyLoad = null;
        ws.close();
        resolve();
      };
      const ws = this.opts.transport.once(this.url('start'), {
        onMessage: (msg) => {
          if (msg.type === 'events') this.ingest(msg.events, undefined, ws);
          else if (msg.type === 'live' || msg.type === 'end') finish(true);
        },
        onClose: () => finish(false),
      });
    }));
  }

  private url(from: string): string {
    const project = this.opts.project ? `&project=${encodeURIComponent(this.opts.project)}` : '';
    return `${this.opts.wsUrl(`/ws/watch/${encodeURIComponent(this.opts.sessionId)}`)}?from=${from}${project}`;
  }

  /**
   * Flow control: the hub sends history only while less than 4 MiB is unacknowledged, and cuts a
   * live viewer 32 MiB behind; acknowledging each batch once it is handled keeps both moving.
   */
  private ingest(events: EventEnvelope[], recv: number | undefined, conn: Conn): void {
    for (const e of events) {
      const r = e as Rec;
      defuse(r.event);
      if (recv !== undefined) r.recv = recv;
      if (this.store.add(r)) this.on.event(r);
    }
    const last = events[events.length - 1];
    if (last) conn.send({ type: 'ack', seq: last.seq });
  }

  private onMain(msg: HubToViewer): void {
    switch (msg.type) {
      case 'session':
        this.saidActive = msg.session.active;
        this.session = msg.session;
        // For an ended session the hub treats from=live as from=start: the whole recording, then `end`.
        this.full = this.from === 'start' || (this.from === 'live' && !msg.session.active);
        if (!msg.session.active) this.over = true;
        break;
      case 'events':
        if (this.main) this.ingest(msg.events, Date.now(), this.main);
        break;
      case 'clock':
        this.on.clock(msg.recorder_offset, msg.recorder_rtt);
        break;
      case 'live':
        if (this.full) this.store.markComplete();
        if (!this.began) {
          this.began = true;
          this.on.boundary(this.over ? { type: 'end', provisional: false } : { type: 'caught-up' });
        }
        break;
      case 'end':
        if (this.saidActive && this.began) {
          // Not really ended: the hub has no recorder for it right now (see reconnect()).
          this.provisionalEnd = true;
          this.on.boundary({ type: 'end', provisional: true });
          break;
        }
        this.over = true;
        this.began = true;
        if (this.session) this.session.active = false;
        if (this.full) this.store.markComplete();
        this.on.boundary({ type: 'end', provisional: false });
        break;
      case 'pong':
        this.clock.onPong(msg);
        break;
      case 'error':
        this.on.status(`${msg.error}: ${msg.message}`);
        break;
    }
    this.on.changed();
  }

  private onMainClose(code: number): boolean | number | void {
    this.clock.stop();
    const held = this.store.last;
    const resumeMs = held ? Math.max(0, Math.floor(held.event.timestamp - this.sessionStart())) : null;
    const next = reconnect(code, { over: this.over, provisionalEnd: this.provisionalEnd, resumeMs });
    this.provisionalEnd = false;
    if (next.kind === 'stop') {
      if (next.status) this.on.status(next.status);
      return false;
    }
    if (next.from !== undefined) this.from = next.from;
    if (next.gap) this.store.markGapped();
    return next.delayMs;
  }
}
