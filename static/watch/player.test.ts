// Unit tests of player.ts: the machine's transitions carried out on fake replayers (no DOM):
// going live at the newest snapshot, feeding live events, ending, rewinding and going live again.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { eventWithTime, playerConfig } from 'rrweb';
import { ClockSync } from '@streamdom/recorder/clock';
import { LiveTiming, type Latency } from './live';
import { Player, type ReplayerLike, type Source } from './player';
import { EventStore, type Rec } from './store';

const T0 = 1_700_000_000_000;
const META = 4;
const FULL = 2;
/** `data` of the shape rrweb's replayer takes, per event kind. */
const dataOf = (type: number): unknown => (type === 2 ? { node: { type: 0, childNodes: [] }, initialOffset: { top: 0, left: 0 } } : type === 3 ? { source: 2, type: 2, id: 1, x: 0, y: 0 } : type === 4 ? { href: 'https://x/', width: 800, height: 600 } : {});
const rec = (seq: number, type = 3): Rec => ({ seq, hub_time: T0 + 100 * seq, recv: Date.now(), event: { type, timestamp: T0 + 100 * seq, data: dataOf(type) } as Rec['event'] });

/** Records what the player did to it. */
class FakeReplayer implements ReplayerLike {
  readonly timer = { timeOffset: 0, lastTimestamp: 0 };
  added: number[] = [];
  /** Events applied by the player's frames (factory.apply), as [timestamp, sync]. */
  applied: [number, boolean][] = [];
  calls: string[] = [];
  handlers = new Map<string, (payload?: unknown) => void>();
  destroyed = false;
  current = 0;
  constructor(readonly initial: eventWithTime[], readonly config: Partial<playerConfig>) {}
  on(event: string, handler: (payload?: unknown) => void): this { this.handlers.set(event, handler); return this; }
  setConfig(c: Partial<playerConfig>): void { this.calls.push(`setConfig ${JSON.stringify(c)}`); }
  getCurrentTime(): number { return this.current; }
  play(ms?: number): void { this.calls.push(`play ${ms}`); this.current = ms ?? this.current; }
  pause(ms?: number): void { this.calls.push(`pause ${ms ?? ''}`.trim()); this.current = ms ?? this.current; }
  startLive(base?: number): void { this.calls.push(`startLive ${base}`); }
  addEvent(e: eventWithTime): void { this.added.push(e.timestamp); }
  apply(events: eventWithTime[], sync: boolean): void {
    for (const e of events) this.added.push(e.timestamp);
    for (const e of events) this.applied.push([e.timestamp, sync]);
    if (sync) this.calls.push(`apply-sync ${events.length}`);
  }
  destroy(): void { this.destroyed = true; }
  emit(event: string, payload?: unknown): void { this.handlers.get(event)?.(payload); }
}

function harness(t: number | null = null, recs: Rec[] = [], failCreate = false) {
  const store = new EventStore();
  recs.forEach((r) => store.add(r));
  const made: FakeReplayer[] = [];
  const statuses: string[] = [];
  const historyWaits: { ts: number; release(): void }[] = [];
  let history: 'ready' | 'wait' = 'ready';
  const source: Source = {
    store,
    sessionStart: () => T0,
    lastTs: () => store.last?.event.timestamp ?? T0,
    ensureHistory: (ts) => (history === 'ready' ? Promise.resolve() : new Promise((release) => historyWaits.push({ ts, release: () => release() }))),
  };
  const clock = new ClockSync(() => {});
  const timing = new LiveTiming(clock);
  const frames: (() => void)[] = [];
  const player = new Player({
    source,
    factory: {
      create: (events, config) => {
        if (failCreate) throw new TypeError("Cannot read properties of null (reading 'source')");
        const r = new FakeReplayer(events, config);
        made.push(r);
        return r;
      },
      clear: () => statuses.push('(cleared)'),
      apply: (r, events, sync) => (r as FakeReplayer).apply(events, sync),
    },
    timing,
    replayConfig: () => ({ speed: 2, skipInactive: false }),
    status: (s) => statuses.push(s),
    changed: () => {},
    frame: (cb) => frames.push(cb),
  }, t);
  /** Runs the animation frames requested so far (and not those they request). */
  const frame = () => frames.splice(0).forEach((cb) => cb());
  /** Both clock estimates are in (offsets 0): the live target is "now" on the visitor's clock. */
  const sync = () => { timing.onClock(0, 2); clock.addSample(0, 2); };
  /** An event arriving from the stream (added to the store first, as the stream does). */
  const arrive = (r: Rec) => { if (store.add(r)) player.onEvent(r); };
  const last = () => made[made.length - 1];
  return { player, clock, timing, store, made, last, statuses, historyWaits, arrive, frame, frames, sync, waitForHistory: () => { history = 'wait'; } };
}

/** A session: Meta + FullSnapshot at 1–2, changes at 3–4, a second snapshot at 5–6, a change at 7. */
const session = () => [rec(1, META), rec(2, FULL), rec(3), rec(4), rec(5, META), rec(6, FULL), rec(7)];

describe('Player', () => {
  it('goes live from the newest full snapshot, applying what it holds at once', async () => {
    const { player, last } = harness(null, session());
    await player.send({ type: 'caught-up' });
    assert.equal(player.state.name, 'live');
    assert.equal(last().config.liveMode, true);
    assert.deepEqual(last().added, [T0 + 500, T0 + 600, T0 + 700]);
    assert.deepEqual(last().calls, [`startLive ${T0 + 701}`, 'apply-sync 3']);
  });

  it('waits live for a first snapshot, then starts from it', async () => {
    const { player, made, statuses, arrive, last } = harness(null, [rec(1)]);
    await player.send({ type: 'caught-up' });
    assert.equal(made.length, 0);
    assert.deepEqual(statuses, ['Waiting for the first snapshot…']);
    arrive(rec(2, META));
    assert.equal(made.length, 0);
    arrive(rec(3, FULL));
    assert.equal(made.length, 1);
    assert.deepEqual(last().added, [T0 + 200, T0 + 300]);
  });

  it('feeds new live events to the live replayer, each once, in the next frame, and keeps its clock on target', async () => {
    const { player, arrive, last, frame, frames, sync } = harness(null, session());
    sync();
    await player.send({ type: 'caught-up' });
    last().timer.timeOffset = -1;
    arrive(rec(8));
    arrive(rec(8));
    arrive(rec(9));
    assert.equal(frames.length, 1, 'one frame for all of them');
    assert.deepEqual(last().added.slice(3), [], 'nothing before the frame');
    frame();
    assert.deepEqual(last().applied.slice(3), [[T0 + 800, false], [T0 + 900, false]]);
    assert.notEqual(last().timer.timeOffset, -1, 'the live clock was set');
  });

  it('sets the live replayer clock to the live target as it starts', async () => {
    const { player, clock, timing, last } = harness(null, session());
    timing.onClock(0, 2);
    clock.addSample(0, 2);
    await player.send({ type: 'caught-up' });
    const expected = timing.target() - (T0 + 701);
    assert.ok(Math.abs(last().timer.timeOffset - expected) < 50, `${last().timer.timeOffset} against ${expected}`);
  });

  it('does not feed the live replayer older events that history brings in', async () => {
    const { player, arrive, last } = harness(null, session().filter((r) => r.seq !== 3));
    await player.send({ type: 'caught-up' });
    arrive(rec(3));
    assert.deepEqual(last().added, [T0 + 500, T0 + 600, T0 + 700]);
  });

  it('measures the delay of a live event when the replayer applies it', async () => {
    const { player, arrive, frame, sync } = harness(null, session());
    await player.send({ type: 'caught-up' });
    // Both clock estimates (the recorder's, relayed by the hub, and this page's) are in.
    sync();
    arrive(rec(8));
    assert.equal(player.latency, null, 'not applied yet');
    frame();
    assert.ok(player.latency, 'a latency measurement');
  });

  it('reads out the live delay after "Go live", never the time the events waited while rewound', async () => {
    const now = Date.now();
    // A session happening now: snapshot 10 s ago, events on the visitor's clock (offsets 0).
    const at = (seq: number, ts: number, recv: number, type = 3): Rec => ({ seq, hub_time: ts, recv, event: { type, timestamp: ts, data: dataOf(type) } as Rec['event'] });
    const { player, arrive, frame, sync, last } = harness(null, [at(1, now - 10_000, now - 10_000, META), at(2, now - 10_000, now - 10_000, FULL)]);
    sync();
    await player.send({ type: 'caught-up' });
    arrive(at(3, now - 7000, now - 7000));
    frame();
    assert.ok(player.latency, 'a live event measured before the rewind');
    arrive(at(4, now - 6000, now - 6000));
    // Rewound before that event's frame ran; more arrive meanwhile, 5 s before "Go live".
    await player.send({ type: 'seek', ms: 0, play: false });
    arrive(at(5, now - 5000, now - 5000));
    await player.send({ type: 'go-live' });
    assert.equal(player.latency, null, 'nothing measured from history');
    frame();
    assert.equal(player.latency, null, 'still nothing: no live event applied yet');
    assert.deepEqual(last().applied.filter(([, s]) => !s), [], 'history is not applied again as live');
    assert.equal(last().applied.length, 5, 'the new live replayer starts from the snapshot, with all held');
    arrive(at(6, Date.now() - 20, Date.now() - 5));
    frame();
    const l = player.latency as Latency | null;
    assert.ok(l, 'the live event is measured');
    assert.ok(l.total >= 0 && l.total < 1000, `read-out ${l.total} ms`);
  });

  it('holds live events whose moment has not come, and comes back for them next frame', async () => {
    const { player, arrive, frame, frames, sync, last } = harness(null, session());
    sync();
    await player.send({ type: 'caught-up' });
    const future = Date.now() + 60_000;
    arrive({ seq: 8, hub_time: future, recv: Date.now(), event: { type: 3, timestamp: future, data: dataOf(3) } as Rec['event'] });
    frame();
    assert.deepEqual(last().applied.filter(([, s]) => !s), []);
    assert.equal(frames.length, 1, 'another frame is queued for it');
  });

  it('on a provisional end stays live with the same replayer', async () => {
    const { player, made } = harness(null, session());
    await player.send({ type: 'caught-up' });
    await player.send({ type: 'end', provisional: true });
    assert.equal(player.state.name, 'live');
    assert.equal(made.length, 1);
    assert.equal(made[0].destroyed, false);
  });

  it('when the session ends while live, holds the recording at the moment shown', async () => {
    const { player, made, last } = harness(null, session());
    await player.send({ type: 'caught-up' });
    await player.send({ type: 'end', provisional: false });
    assert.deepEqual(player.state, { name: 'ended', playing: false });
    assert.equal(made.length, 2);
    assert.equal(made[0].destroyed, true);
    assert.equal(last().config.liveMode, undefined);
    assert.equal(last().config.speed, 2);
    assert.equal(last().initial.length, 3, 'the replay holds the events from the snapshot before the moment');
    // The live replay showed everything up to its baseline (T0 + 701); the replay starts at the
    // snapshot before it (Meta at T0 + 500).
    const [call, at] = last().calls[0].split(' ');
    assert.equal(call, 'pause');
    assert.ok(Number(at) >= 201 && Number(at) < 600, `paused at ${at}`);
  });

  it('opens a link to a moment held there, and plays an ended session from its start', async () => {
    const a = harness(250, session());
    await a.player.send({ type: 'caught-up' });
    assert.deepEqual([a.player.state.name, a.last().calls], ['paused', ['pause 150']]);
    const b = harness(null, session());
    await b.player.send({ type: 'end', provisional: false });
    assert.deepEqual(b.player.state, { name: 'ended', playing: true });
    assert.deepEqual(b.last().calls, ['play 0']);
  });

  it('gives the replayer only events it can take, and survives one that throws', async () => {
    const broken = (seq: number, type: number, data: unknown): Rec => ({ ...rec(seq, type), event: { type, timestamp: T0 + 100 * seq, data } as Rec['event'] });
    // A broken snapshot after the good one is no place to go live from.
    const recs = [rec(1, META), rec(2, FULL), broken(3, 3, null), rec(4), rec(5, META), broken(6, FULL, {})];
    const a = harness(null, recs);
    await a.player.send({ type: 'caught-up' });
    assert.deepEqual(a.last().added, [T0 + 100, T0 + 200, T0 + 400, T0 + 500], 'live from the good snapshot, without the broken events');
    a.arrive(broken(7, 3, { source: 0 }));
    a.frame();
    assert.equal(a.last().added.length, 4 + 0, 'the broken live event is not applied');
    await a.player.send({ type: 'end', provisional: false });
    assert.deepEqual(a.last().initial.map((e) => e.timestamp), [1, 2, 4, 5].map((s) => T0 + 100 * s));

    const b = harness(null, session(), true);
    await b.player.send({ type: 'end', provisional: false });
    assert.equal(b.player.state.name, 'ended');
    assert.equal(b.made.length, 0);
    assert.equal(b.statuses[b.statuses.length - 1], 'This part of the recording cannot be replayed.');
  });

  it('opens a recording while it streams in, and gives the replayer the rest in order as it comes', async () => {
    const { player, store, last } = harness(null, [rec(1, META), rec(2, FULL), rec(3)]);
    await player.send({ type: 'ready', over: true });
    assert.deepEqual(player.state, { name: 'ended', playing: true });
    assert.equal(last().initial.length, 3);
    // A load for a later seek brings 10–11 first (another span): not the replayer's, yet.
    store.add(rec(10), 10);
    player.onEvent(store.recs[store.recs.length - 1]);
    assert.deepEqual(last().added, []);
    for (const n of [4, 5, 6, 7, 8, 9]) {
      const r = rec(n);
      if (store.add(r, 1)) player.onEvent(r);
    }
    assert.deepEqual(last().added, [4, 5, 6, 7, 8, 9, 10].map((n) => T0 + 100 * n), 'the main stream met the load: 10 follows at once');
  });

  it('drops a seek that waited for loading once a newer one came', async () => {
    const { player, made, last, historyWaits, waitForHistory } = harness(null, session());
    await player.send({ type: 'end', provisional: false });
    waitForHistory();
    const first = player.send({ type: 'seek', ms: 100, play: false });
    const second = player.send({ type: 'seek', ms: 500, play: false });
    historyWaits.forEach((w) => w.release());
    await Promise.all([first, second]);
    assert.equal(made.length, 1);
    assert.deepEqual(last().calls, ['play 0', 'pause 400'], 'only the newer seek is carried out');
  });

  it('clamps a link to a moment past the end to the end of the session', async () => {
    const a = harness(99_999_999, session());
    await a.player.send({ type: 'end', provisional: false });
    assert.deepEqual(a.last().calls, ['pause 200'], 'from the snapshot at T0 + 500');
    assert.equal(a.player.currentTimeMs(), 700);
  });

  it('goes live again from a rewound replay, at the newest snapshot', async () => {
    const { player, made, last } = harness(null, session());
    await player.send({ type: 'caught-up' });
    await player.send({ type: 'seek', ms: 200, play: false });
    assert.equal(player.state.name, 'paused');
    assert.deepEqual(last().calls, ['pause 100']);
    await player.send({ type: 'go-live' });
    assert.equal(player.state.name, 'live');
    assert.equal(made.length, 3);
    assert.equal(made[1].destroyed, true);
    assert.deepEqual(last().added, [T0 + 500, T0 + 600, T0 + 700]);
  });

  it('adds events that arrive while replaying to the recording being played', async () => {
    const { player, arrive, last, made } = harness(300, session().slice(2));
    await player.send({ type: 'caught-up' });
    await player.send({ type: 'play' });
    assert.equal(player.state.name, 'replaying');
    assert.equal(made.length, 1, 'play reuses the held replayer');
    arrive(rec(8));
    arrive(rec(1, META));
    assert.deepEqual(last().added, [T0 + 800], 'history before the replay start is left to a new replayer');
  });

  it('goes live when a live session is played to its end, and holds when an ended one is', async () => {
    const a = harness(100, session());
    await a.player.send({ type: 'caught-up' });
    await a.player.send({ type: 'play' });
    a.last().emit('finish');
    await Promise.resolve();
    assert.equal(a.player.state.name, 'live');
    const b = harness(null, session());
    await b.player.send({ type: 'end', provisional: false });
    b.last().emit('finish');
    await Promise.resolve();
    assert.deepEqual(b.player.state, { name: 'ended', playing: false });
  });

  it('changes state only once the history a rewind needs has arrived', async () => {
    const { player, historyWaits, made, waitForHistory } = harness(null, session());
    await player.send({ type: 'caught-up' });
    waitForHistory();
    const seeking = player.send({ type: 'seek', ms: 0, play: true });
    assert.equal(player.state.name, 'live');
    assert.deepEqual(historyWaits.map((w) => w.ts), [T0]);
    historyWaits[0].release();
    await seeking;
    assert.equal(player.state.name, 'replaying');
    assert.equal(made.length, 2);
  });

  it('holds still and says so when there is nothing to replay', async () => {
    const { player, statuses } = harness(null, [rec(1, FULL)]);
    await player.send({ type: 'end', provisional: false });
    assert.deepEqual(player.state, { name: 'ended', playing: false });
    assert.equal(player.replayer, null);
    assert.ok(statuses.includes('Nothing recorded yet.'));
  });

  it('applies speed and skipping to a replay, never to the live replayer', async () => {
    const { player, last } = harness(null, session());
    await player.send({ type: 'caught-up' });
    player.setReplayConfig({ speed: 4 });
    assert.deepEqual(last().calls.filter((c) => c.startsWith('setConfig')), []);
    await player.send({ type: 'pause' });
    player.setReplayConfig({ speed: 4 });
    assert.deepEqual(last().calls.filter((c) => c.startsWith('setConfig')), ['setConfig {"speed":4}']);
  });
});
