// The watch page's player: runs the state machine of machine.ts, carrying out each transition's
// effect on an rrweb Replayer (made by an injected factory, so tests run without a DOM) and keeping
// the live replayer on time with LiveTiming. Live events are held until the next animation frame
// and applied together (feed.ts decides what), so a busy page does one batch per frame, not one
// pass per event.

import type { eventWithTime, playerConfig } from 'rrweb';
import { transition, held, type PlayerEvent, type PlayerState } from './machine';
import { frameBatch } from './feed';
import type { LiveTiming, Latency } from './live';
import { EVENT_FULL_SNAPSHOT, type EventStore, type Rec } from './store';

/** A User Timing mark (the bench reads them to split the time to a first frame). */
const mark = (name: string) => globalThis.performance?.mark?.(name);

/** The part of rrweb's Replayer the player uses (rrweb's own class satisfies it). */
export interface ReplayerLike {
  readonly timer: { timeOffset: number };
  on(event: string, handler: (payload?: unknown) => void): unknown;
  setConfig(config: Partial<playerConfig>): void;
  getCurrentTime(): number;
  play(timeOffset?: number): void;
  pause(timeOffset?: number): void;
  startLive(baselineTime?: number): void;
  addEvent(event: eventWithTime): void;
  destroy(): void;
}

/** Makes replayers: in the page (view.ts) or in a test. */
export interface ReplayerFactory {
  create(events: eventWithTime[], config: Partial<playerConfig>): ReplayerLike;
  /** Remove what the last replayer left behind. */
  clear(): void;
  /**
   * Apply events to a live replayer now, in order. `sync`: history, applied without animation,
   * after which the pointer is drawn where it last was (rrweb would leave it at the top-left until
   * the next move); otherwise as live changes.
   */
  apply(r: ReplayerLike, events: eventWithTime[], sync: boolean): void;
}

/** What the player reads from the stream (stream.ts's Stream is one). */
export interface Source {
  readonly store: EventStore;
  sessionStart(): number;
  lastTs(): number;
  /** Resolves once the store can replay from this visitor timestamp. */
  ensureHistory(ts: number): Promise<void>;
}

export interface PlayerDeps {
  source: Source;
  factory: ReplayerFactory;
  timing: LiveTiming;
  /** Speed and skip-inactivity for a new replay, from the controls. */
  replayConfig(): { speed: number; skipInactive: boolean };
  status(text: string): void;
  /** After every transition. */
  changed(): void;
  /** Run `cb` before the next paint (requestAnimationFrame in the page). */
  frame(cb: () => void): void;
}

export class Player {
  state: PlayerState;
  replayer: ReplayerLike | null = null;
  /** The latest live delay measured; null until one. */
  latency: Latency | null = null;
  /** Timestamp of the first event the current replayer holds (its time 0). */
  private firstTs = 0;
  /** Seq of the first event the current replay's replayer holds (a full snapshot or its Meta). */
  private firstSeq = 0;
  /** Counts replay effects: one that waited for loading is dropped if a newer one came meanwhile. */
  private replays = 0;
  /** The live replayer's baseline: its time 0 is this visitor timestamp. */
  private liveBase = 0;
  private lastFedSeq = 0;
  /** Live events received and not yet applied: the next frame applies those that are due. */
  private held: Rec[] = [];
  private frameQueued = false;
  private sawEvent = false;

  constructor(private d: PlayerDeps, t: number | null) {
    this.state = { name: 'waiting', t };
  }

  /**
   * Take one event. A replay that needs history waits for it before it opens, and the state
   * changes once the replay has: until then the page keeps showing what it showed.
   */
  async send(e: PlayerEvent): Promise<void> {
    const step = transition(this.state, e);
    if (step.state === this.state && !step.effect) return;
    const effect = step.effect;
    if (effect?.kind === 'replay') {
      // A moment asked for past the end (a link's ?t=) opens at the end of what is held.
      const start = this.d.source.sessionStart();
      const target = effect.ms === null ? start + this.currentTimeMs() : start + Math.min(effect.ms, this.d.source.lastTs() - start);
      const n = ++this.replays;
      await this.d.source.ensureHistory(target);
      if (n !== this.replays) return;
      this.openReplay(target, effect.play, step.state);
    } else {
      this.state = step.state;
      if (effect?.kind === 'live') this.goLive();
      else if (effect?.kind === 'pause') this.replayer?.pause();
    }
    this.d.changed();
  }

  /** A new event from the stream, already in the store. */
  onEvent(r: Rec): void {
    if (!this.sawEvent) {
      this.sawEvent = true;
      mark('streamdom:first-event');
    }
    if (this.state.name === 'live') {
      if (!this.replayer && r.event.type === EVENT_FULL_SNAPSHOT) {
        this.goLive();
        this.d.changed();
      } else if (this.replayer && r.seq > this.lastFedSeq) this.holdLive(r);
    } else if (this.replayer && r.seq > this.lastFedSeq) {
      // The recording being replayed keeps growing: the rest of a long one streams in while it
      // plays, and a session that is still live records on.
      this.pump();
    }
  }

  /**
   * Give the replayer what the store holds right after what it has, without a hole: the
   * replayer's span may have grown (new events, or a load that met the events held after it).
   */
  private pump(): void {
    const r = this.replayer;
    const store = this.d.source.store;
    const span = store.spans.of(this.lastFedSeq);
    if (!r || !span || span.hi <= this.lastFedSeq) return;
    let i = store.indexOf(this.lastFedSeq) + 1;
    for (; i < store.recs.length && store.recs[i].seq <= span.hi; i++) {
      const next = store.recs[i];
      if (store.playable(next)) r.addEvent(next.event);
      this.lastFedSeq = next.seq;
    }
  }

  /** Called every 100 ms: keeps the live replayer on LiveTiming's target. */
  tick(): void { this.syncTimer(); }

  setReplayConfig(c: { speed?: number; skipInactive?: boolean }): void {
    if (this.state.name !== 'live') this.replayer?.setConfig(c);
  }

  /** Where the picture is, in ms from the session's start. */
  currentTimeMs(): number {
    return Math.max(0, this.currentAbs() - this.d.source.sessionStart());
  }

  private currentAbs(): number {
    if (!this.replayer) return this.d.source.lastTs();
    if (this.state.name === 'live') return this.d.timing.target();
    try { return this.firstTs + this.replayer.getCurrentTime(); } catch { return this.firstTs; }
  }

  private destroyReplayer(): void {
    if (!this.replayer) return;
    try { this.replayer.destroy(); } catch { /* already torn down */ }
    this.replayer = null;
    this.d.factory.clear();
  }

  private wire(r: ReplayerLike): void {
    // Seeking to the end while paused also "finishes"; the machine moves on only from playing.
    r.on('finish', () => { if (this.replayer === r) void this.send({ type: 'finish' }); });
    this.replayer = r;
  }

  /** Start the live replayer at the newest Meta + FullSnapshot held, the only safe point. */
  private goLive(): void {
    this.destroyReplayer();
    // The read-out measures what this live replayer applies as it arrives, never the history it
    // starts from (events held while the page was rewound would read as seconds behind).
    this.latency = null;
    this.held = [];
    const recs = this.d.source.store.recs;
    const start = this.d.source.store.latestSnapshotIndex();
    if (start < 0) { this.d.status('Waiting for the first snapshot…'); return; }
    this.d.status('');
    const batch = recs.slice(start);
    // History up to now is applied "in sync" (fast-forward). rrweb's virtual DOM would hold those
    // mutations until a flush that live mode never triggers, so the live replayer writes the real DOM.
    // Animations keep running: the page is live, not paused.
    const r = this.create([], { liveMode: true, showWarning: false, mouseTail: false, useVirtualDom: false, pauseAnimation: false });
    if (!r) return;
    // Baseline from the recorded timestamps, never the viewer's clock (the visitor's may be minutes
    // off): everything held so far is in the past and is applied at once, from the snapshot on.
    this.liveBase = batch[batch.length - 1].event.timestamp + 1;
    this.d.timing.reset(this.liveBase);
    r.startLive(this.liveBase);
    this.firstTs = batch[0].event.timestamp;
    this.wire(r);
    mark('streamdom:live-rebuild-start');
    this.d.factory.apply(r, this.events(batch), true);
    mark('streamdom:live-rebuild-end');
    this.lastFedSeq = batch[batch.length - 1].seq;
    this.syncTimer();
  }

  /**
   * Sets the live replayer's clock to the moment it should show (LiveTiming.target): rrweb applies
   * a live event once its timer reaches `timestamp − liveBase`, and advances that timer in real time
   * between these corrections. Before clock sync the target follows the newest event; after it, the
   * visitor's clock mapped onto this page's, minus a buffer sized to the measured jitter.
   */
  private syncTimer(): void {
    if (!this.replayer || this.state.name !== 'live') return;
    // lastTimestamp is private in rrweb's types; it is where the timer measures elapsed time from.
    const timer = this.replayer.timer as unknown as { timeOffset: number; lastTimestamp: number };
    timer.timeOffset = this.d.timing.target() - this.liveBase;
    timer.lastTimestamp = performance.now();
  }

  private holdLive(r: Rec): void {
    this.d.timing.onArrival(r.event.timestamp, r.recv ?? Date.now());
    this.held.push(r);
    this.lastFedSeq = r.seq;
    this.queueFrame();
  }

  private queueFrame(): void {
    if (this.frameQueued) return;
    this.frameQueued = true;
    this.d.frame(() => {
      this.frameQueued = false;
      this.applyFrame();
    });
  }

  /** One frame of the live replay: apply what is due, measure its delay, come back for the rest. */
  applyFrame(): void {
    const r = this.replayer;
    if (!r || this.state.name !== 'live') {
      this.held = [];
      return;
    }
    const { apply, hold } = frameBatch(this.held, this.d.timing.target());
    this.held = hold;
    if (apply.length) {
      this.syncTimer();
      this.d.factory.apply(r, this.events(apply), false);
      const appliedAt = Date.now();
      for (let i = apply.length - 1; i >= 0; i--) {
        const a = apply[i];
        if (a.recv === undefined) continue;
        this.latency = this.d.timing.measure(a.event.timestamp, a.hub_time, a.recv, appliedAt) ?? this.latency;
        break;
      }
    }
    if (this.held.length) this.queueFrame();
  }

  /** The events of `recs` the replayer can take (the store decided which as they arrived). */
  private events(recs: Rec[]): eventWithTime[] {
    const store = this.d.source.store;
    return recs.filter((r) => store.playable(r)).map((r) => r.event);
  }

  /**
   * A replayer, or null (with a status saying so) when rrweb refuses the recording: whatever a
   * recorded session holds, the page stays up.
   */
  private create(events: eventWithTime[], config: Partial<playerConfig>): ReplayerLike | null {
    try {
      return this.d.factory.create(events, config);
    } catch (err) {
      console.warn('StreamDOM: the recording cannot be replayed', err);
      this.d.factory.clear();
      this.d.status('This part of the recording cannot be replayed.');
      return null;
    }
  }

  /**
   * Play (or hold) the recording at visitor timestamp `target`, then enter `next`. The replayer
   * holds one span of the store from the full snapshot before `target` on; it is kept when that
   * snapshot is among what it holds already.
   */
  private openReplay(target: number, play: boolean, next: PlayerState): void {
    const store = this.d.source.store;
    const recs = store.recs;
    // Past everything held (a link's ?t= beyond the end): from the newest snapshot.
    let start = store.replayStart(target);
    if (start < 0 && recs.length && target >= recs[recs.length - 1].event.timestamp) start = store.latestSnapshotIndex();
    const from = recs[start];
    const reuse = this.replayer && this.state.name !== 'live' && from && from.seq >= this.firstSeq && from.seq <= this.lastFedSeq;
    if (!reuse) {
      this.destroyReplayer();
      const span = from && store.spans.of(from.seq);
      if (!from || !span || recs.length < 2) {
        this.d.status('Nothing recorded yet.');
        this.state = held(next);
        return;
      }
      const end = store.indexOf(span.hi);
      const events = this.events(recs.slice(start, end + 1));
      const replayer = events.length < 2 ? null : this.create(events, { ...this.d.replayConfig(), showWarning: false, mouseTail: false });
      if (!replayer) {
        this.state = held(next);
        return;
      }
      this.firstTs = events[0].timestamp;
      this.firstSeq = from.seq;
      this.lastFedSeq = span.hi;
      this.wire(replayer);
    }
    const offset = Math.max(0, target - this.firstTs);
    if (play) this.replayer?.play(offset);
    else this.replayer?.pause(offset);
    this.state = next;
    mark('streamdom:replay-open');
  }
}
