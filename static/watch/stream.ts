// The watch page's data side: the viewer sockets (main: live or from a moment; fill: from the full
// snapshot before a moment a seek asked for), the seq-ordered event store, flow-control acks and
// the reconnect policy. No DOM and no replayer: player.ts turns what arrives here into pictures.
// A long session is never loaded whole before it is shown: the main socket starts at the snapshot
// before the moment to show, and the page shows it as soon as the events up to it are in.

import { ClockSync } from '@streamdom/recorder/clock';
import { CLOSE, type EventEnvelope, type HubToViewer, type SessionInfo, type ViewerToHub } from '@streamdom/recorder/protocol';
import type { SocketHandlers } from '@streamdom/recorder/reconnect';
import { defuse } from './defuse';
import { readOn } from './readahead';
import { Silence } from './silence';
import { EventStore, type Rec } from './store';

export type { Rec } from './store';

/** WebSocket's "closed abnormally" (no close frame): what a socket given up for silence counts as. */
const CLOSE_ABNORMAL = 1006;

/** After an `end` that the hub may take back (see onMain), look again this soon. */
export const RESUME_CHECK_MS = 1000;

/** What the main socket does after the hub closed it. */
export type Reconnect =
  /** notFound: the hub does not know the session (the page says so; nothing will change that). */
  | { kind: 'stop'; notFound?: boolean }
  /** from: the next connection's `from=` (undefined: as before); delayMs undefined: back off. */
  | { kind: 'retry'; from?: string; delayMs?: number };

/**
 * The reconnect policy. `resumeMs`: the last event held, in ms from the session's start (null when
 * nothing is held); the hub starts `from=<ms>` at the full snapshot before it, so the streams
 * overlap (dropped by seq) and never leave a gap.
 */
export function reconnect(code: number, s: { over: boolean; provisionalEnd: boolean; resumeMs: number | null }): Reconnect {
  const from = s.resumeMs === null ? undefined : String(s.resumeMs);
  if (code === CLOSE.session_not_found || code === CLOSE.invalid_session_id) return { kind: 'stop', notFound: true };
  if (s.over) return { kind: 'stop' };
  // The hub had no recorder for a session it still holds open (it restarted): the recorder is
  // probably on its way back, so look again shortly, from where this page is.
  if (s.provisionalEnd) return { kind: 'retry', from, delayMs: RESUME_CHECK_MS };
  // Cut for falling too far behind: skip to the newest snapshot, which leaves a hole in the store
  // (its spans show it: a seek into the hole loads it again).
  if (code === CLOSE.viewer_too_slow) return { kind: 'retry', from: 'live' };
  return { kind: 'retry', from };
}

/**
 * Why a socket closed before its `session` message, from the status of GET /api/sessions/{id}
 * (0: no answer). The hub refuses a viewer socket with an HTTP status before the upgrade, which
 * the browser reports only as close 1006; the API says which it was.
 */
export type Probe = 'not-found' | 'signed-out' | 'retry';

export function probeVerdict(status: number): Probe {
  // 400: an id that breaks the session id rule can never name a session.
  if (status === 404 || status === 400) return 'not-found';
  if (status === 401) return 'signed-out';
  return 'retry';
}

/**
 * The first time the hub has sent everything so far, and every `end`; `ready` (at most once,
 * before either) when the store can show the moment the page opens at while the rest still comes.
 */
export type Boundary = { type: 'caught-up' } | { type: 'end'; provisional: boolean } | { type: 'ready'; over: boolean };

export interface StreamEvents {
  /** A new event (not a duplicate), already in the store. */
  event(r: Rec): void;
  boundary(b: Boundary): void;
  /** The recorder's clock estimate, relayed by the hub. */
  clock(offset: number, rtt: number): void;
  status(text: string): void;
  /** After every message on the main socket, and when the connection's state changes. */
  changed(): void;
  /** The sign-in expired: the page should send the user to the login. */
  signedOut?(): void;
}

export interface Conn { send(msg: ViewerToHub): unknown; close(): void }

/** How sockets are opened: the browser's WebSocket in the page (watch.ts), fakes in unit tests. */
export interface Transport {
  /** Reopens itself after every close unless onClose returns false (reconnect.ts). */
  reconnecting(url: () => string, h: SocketHandlers<HubToViewer>): Conn;
  /** Opened once; onClose runs when the hub or the network closes it, not after close(). */
  once(url: string, h: { onMessage(msg: HubToViewer): void; onClose(): void }): Conn;
}

/** Where a history stream is: its newest event, and the seq of a batch not acknowledged yet. */
interface Read { lastTs: number; unacked: number | null }

export class Stream {
  readonly store = new EventStore();
  /** This page's clock offset to the hub; with the recorder's it maps visitor time onto ours. */
  readonly clock = new ClockSync((m) => this.main?.send(m));
  session: SessionInfo | null = null;
  /** The session is over: nothing more will come, and the sockets stay closed. */
  over = false;
  /** The main socket is closed and retrying: the hub is out of reach (or restarting). */
  down = false;
  /** The hub does not know this session (or the id is not a session id); the sockets stay closed. */
  notFound = false;
  /** Whether a boundary (caught up, or end) was passed on: only later `end`s can be provisional. */
  private began = false;
  /** The current main connection has had its `session` message. */
  private sawSession = false;
  private probing = false;
  // Facts about the current main connection.
  private from: string;
  /** Whether its stream began at the session's first event (from=start, or an ended session). */
  private full = false;
  /** Whether its `session` message called the session active. */
  private saidActive = false;
  /** The hub sent `end` for a session it still calls active: reconnect rather than stop. */
  private provisionalEnd = false;
  /** The `start_seq` of the current main connection: it delivers everything from there on. */
  private mainFrom = 0;
  private main: Conn | null = null;
  private mainRead: Read = { lastTs: 0, unacked: null };
  /** The socket loading what a seek needs, and the moments waiting for it. */
  private fill: { conn: Conn; from: number; read: Read; waiters: { ts: number; done(): void }[] } | null = null;
  private readySent = false;
  /** The moment shown (visitor timestamp): how far to read ahead is measured from it (readahead.ts). */
  private playhead: number | null = null;
  /** Whether the main socket has gone silent without closing (silence.ts). */
  private silence = new Silence();

  constructor(
    private opts: {
      sessionId: string;
      project?: string | null;
      /** `start`, `live`, or ms into the session (a link's ?t=): the hub starts at the snapshot before. */
      from: string;
      /** The moment the page opens at (ms from the session's start; null: live, or the start of an ended session). */
      at?: number | null;
      transport: Transport;
      wsUrl(path: string): string;
      /** The HTTP status of GET /api/sessions/{id} (0 when the hub does not answer). */
      probe?(): Promise<number>;
    },
    public on: StreamEvents,
  ) {
    this.from = opts.from;
  }

  start(): void {
    this.main = this.opts.transport.reconnecting(() => this.url(this.from), {
      onOpen: () => {
        this.silence.open(Date.now());
        this.clock.start();
      },
      onMessage: (msg) => {
        this.silence.heard(Date.now());
        this.onMain(msg);
      },
      onClose: (code) => this.onMainClose(code),
    });
  }

  /**
   * About once a second (watch.ts): a quiet main socket is pinged; one silent despite the pings
   * (a frozen hub, a network gone without a close) is closed here and reopened, as after a close.
   */
  checkSilence(now = Date.now()): void {
    const verdict = this.silence.check(now);
    if (verdict === 'ping') this.clock.ping();
    if (verdict !== 'drop' || !this.main) return;
    this.main.close();
    if (this.onMainClose(CLOSE_ABNORMAL) !== false) this.start();
  }

  get sessionLive(): boolean { return !!this.session?.active && !this.over; }
  /** The hub has sent everything so far at least once (caught up, or ended). */
  get caughtUp(): boolean { return this.began; }
  /** The session's time 0, a visitor timestamp. */
  sessionStart(): number { return this.session?.first_event_ts ?? this.store.first?.event.timestamp ?? 0; }
  /**
   * The newest moment of the session known: the newest event held, or for an ended session its
   * last event (the store may not hold it yet: the rest streams in while the page plays).
   */
  lastTs(): number {
    const held = this.store.last?.event.timestamp ?? this.sessionStart();
    const s = this.session;
    return s && !s.active && s.first_event_ts !== null ? Math.max(held, s.first_event_ts + s.duration_ms) : held;
  }

  /**
   * Resolves once the store can show `ts` (a visitor timestamp) from a full snapshot with no hole
   * after it, loading what is missing from the snapshot before `ts` (a newer seek replaces an
   * older one's load), or once nothing more can come.
   */
  ensureHistory(ts: number): Promise<void> {
    if (this.store.covers(ts)) return Promise.resolve();
    this.closeFill();
    this.on.status('Loading…');
    return new Promise<void>((done) => this.openFill(String(Math.max(0, Math.floor(ts - this.sessionStart()))), [{ ts, done }]));
  }

  private openFill(from: string, waiters: { ts: number; done(): void }[]): void {
    const fill = { conn: null as unknown as Conn, from: 0, read: { lastTs: 0, unacked: null } as Read, waiters };
    /** `reached`: it got to what was held after it, or to the end (not cut off). */
    const finish = (reached: boolean) => {
      if (this.fill !== fill) return;
      // Read to its end and still no snapshot to show the moment from: the hub's snapshot index
      // started it at a Meta without a usable FullSnapshot (a recorded page is anything). Once,
      // from the session's start.
      if (reached && from !== 'start' && fill.waiters.some((w) => !this.store.covers(w.ts))) {
        this.fill = null;
        fill.conn.close();
        this.openFill('start', fill.waiters);
        return;
      }
      this.closeFill();
    };
    fill.conn = this.opts.transport.once(this.url(from), {
      onMessage: (msg) => {
        // Frames already received may still be handed over after close().
        if (this.fill !== fill) return;
        if (msg.type === 'session') fill.from = msg.start_seq;
        else if (msg.type === 'events') {
          this.ingest(msg.events, undefined, fill.conn, fill.from, fill.read);
          // It reached what the store already held after it: the rest is there.
          const last = msg.events[msg.events.length - 1];
          const span = last && this.store.spans.of(last.seq);
          if (span && span.hi > last.seq) finish(true);
        } else if (msg.type === 'live' || msg.type === 'end') finish(true);
      },
      onClose: () => finish(false),
    });
    this.fill = fill;
  }

  /** Stop the fill socket; whoever waited on it goes on with what is held. */
  private closeFill(): void {
    const fill = this.fill;
    if (!fill) return;
    this.fill = null;
    fill.conn.close();
    this.on.status('');
    for (const w of fill.waiters) w.done();
    this.readOn();
  }

  /** The moment shown moved (visitor timestamp): streams held back near it may read on. */
  follow(playheadTs: number): void {
    this.playhead = playheadTs;
    this.readOn();
  }

  /** Acknowledge each stream's held batch if readahead.ts says it may read on now. */
  private readOn(): void {
    const seekLoading = !!this.fill?.waiters.length;
    if (this.main) this.ack(this.main, this.mainRead, seekLoading, false);
    // A seek's load reads on until its moment is in (the moment shown moves there only then).
    if (this.fill) this.ack(this.fill.conn, this.fill.read, false, seekLoading);
  }

  private ack(conn: Conn, read: Read, seekLoading: boolean, now: boolean): void {
    if (read.unacked === null) return;
    if (!now && !readOn({ over: this.over, seekLoading, lastTs: read.lastTs, playheadTs: this.playhead ?? read.lastTs })) return;
    conn.send({ type: 'ack', seq: read.unacked });
    read.unacked = null;
  }

  /** Release the waiters whose moment the store can now show. */
  private wake(): void {
    const fill = this.fill;
    if (fill) {
      const ready = fill.waiters.filter((w) => this.store.covers(w.ts));
      fill.waiters = fill.waiters.filter((w) => !ready.includes(w));
      if (ready.length) this.on.status('');
      for (const w of ready) w.done();
    }
    // The page's first picture: as soon as the moment it opens at can be shown.
    const s = this.session;
    if (this.readySent || this.began || !s || (s.active && (this.opts.at ?? null) === null)) return;
    if (!this.store.covers(this.sessionStart() + (this.opts.at ?? 0))) return;
    this.readySent = true;
    this.on.boundary({ type: 'ready', over: !s.active });
  }

  private url(from: string): string {
    const project = this.opts.project ? `&project=${encodeURIComponent(this.opts.project)}` : '';
    return `${this.opts.wsUrl(`/ws/watch/${encodeURIComponent(this.opts.sessionId)}`)}?from=${from}${project}`;
  }

  /**
   * Flow control: the hub sends history only while less than 4 MiB is unacknowledged, and cuts a
   * live viewer 32 MiB behind; acknowledging each batch once it is handled keeps both moving. A
   * recording's batch far from the moment shown is acknowledged later (readahead.ts).
   */
  private ingest(events: EventEnvelope[], recv: number | undefined, conn: Conn, from: number, read: Read): void {
    for (const e of events) {
      const r = e as Rec;
      defuse(r.event);
      if (recv !== undefined) r.recv = recv;
      if (this.store.add(r, from)) this.on.event(r);
    }
    const last = events[events.length - 1];
    if (last) {
      read.lastTs = (last as Rec).event.timestamp;
      read.unacked = last.seq;
    }
    this.wake();
    this.readOn();
  }

  private onMain(msg: HubToViewer): void {
    switch (msg.type) {
      case 'session':
        this.sawSession = true;
        this.down = false;
        this.saidActive = msg.session.active;
        this.session = msg.session;
        this.mainFrom = msg.start_seq;
        this.mainRead = { lastTs: 0, unacked: null };
        if (this.playhead === null && msg.session.first_event_ts !== null) this.playhead = msg.session.first_event_ts + (this.opts.at ?? 0);
        // For an ended session the hub treats from=live as from=start: the whole recording, then `end`.
        this.full = msg.start_seq <= 1 || this.from === 'start' || (this.from === 'live' && !msg.session.active);
        if (!msg.session.active) this.over = true;
        break;
      case 'events':
        if (this.main) this.ingest(msg.events, Date.now(), this.main, this.mainFrom, this.mainRead);
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
    this.silence.closed();
    const held = this.store.last;
    const resumeMs = held ? Math.max(0, Math.floor(held.event.timestamp - this.sessionStart())) : null;
    const next = reconnect(code, { over: this.over, provisionalEnd: this.provisionalEnd, resumeMs });
    const refused = !this.sawSession;
    this.provisionalEnd = false;
    this.sawSession = false;
    if (next.kind === 'stop') {
      if (next.notFound) this.notFound = true;
      this.on.changed();
      return false;
    }
    this.down = true;
    if (next.from !== undefined) this.from = next.from;
    // Refused before the session message: ask the API why (not found, signed out, or unreachable).
    if (refused) void this.probe();
    this.on.changed();
    return next.delayMs;
  }

  private async probe(): Promise<void> {
    if (this.probing || !this.opts.probe) return;
    this.probing = true;
    let status = 0;
    try { status = await this.opts.probe(); } catch { status = 0; }
    this.probing = false;
    // A connection may have succeeded meanwhile: the socket's own word wins.
    if (!this.down) return;
    const verdict = probeVerdict(status);
    if (verdict === 'retry') return;
    this.main?.close();
    if (verdict === 'not-found') this.notFound = true;
    else this.on.signedOut?.();
    this.on.changed();
  }
}
