// Unit tests of stream.ts and store.ts: ordering, duplicates, acks, the reconnect decision per
// close code, provisional ends and gaps, over a fake transport.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLOSE, type HubToViewer, type SessionInfo, type ViewerToHub } from '@streamdom/recorder/protocol';
import type { SocketHandlers } from '@streamdom/recorder/reconnect';
import { SILENT_MS } from './silence';
import { EventStore, type Rec } from './store';
import { AHEAD_MS } from './readahead';
import { RESUME_CHECK_MS, Stream, probeVerdict, reconnect, type Boundary, type Transport } from './stream';

const T0 = 1_700_000_000_000;
/** Event `seq` at T0 + 100·seq; rrweb type 3 (incremental) unless given. */
/** `data` of the shape rrweb's replayer takes, per event kind. */
const dataOf = (type: number): unknown => (type === 2 ? { node: { type: 0, childNodes: [] }, initialOffset: { top: 0, left: 0 } } : type === 3 ? { source: 2, type: 2, id: 1, x: 0, y: 0 } : type === 4 ? { href: 'https://x/', width: 800, height: 600 } : {});
const rec = (seq: number, type = 3): Rec => ({ seq, hub_time: T0 + 100 * seq + 5, event: { type, timestamp: T0 + 100 * seq, data: dataOf(type) } as Rec['event'] });
const session = (active: boolean): SessionInfo => ({
  id: 's1', project: 'default', active, started_at: '', last_event_at: '', ended_at: null, duration_ms: 0, url: null, user_agent: null,
  event_count: 0, raw_bytes: 0, stored_bytes: 0, first_event_ts: T0,
  user_id: null, traits: null, browser: null, os: null, device: null, viewport: null, page_count: 0,
  active_ms: 0, error_count: 0, click_count: 0, rage_click_count: 0, custom_event_count: 0,
});
const seqs = (rs: readonly Rec[]) => rs.map((r) => r.seq);

describe('EventStore', () => {
  it('keeps events in seq order whatever order they arrive in', () => {
    const s = new EventStore();
    for (const n of [3, 1, 4, 2, 6, 5]) s.add(rec(n));
    assert.deepEqual(seqs(s.recs), [1, 2, 3, 4, 5, 6]);
  });

  it('drops a seq it already holds', () => {
    const s = new EventStore();
    assert.equal(s.add(rec(1)), true);
    assert.equal(s.add(rec(2)), true);
    assert.equal(s.add(rec(1)), false);
    assert.deepEqual(seqs(s.recs), [1, 2]);
  });

  it('covers a moment from the full snapshot before it, with no hole up to it', () => {
    const s = new EventStore();
    assert.equal(s.covers(T0 + 500), false, 'empty');
    // A stream from seq 10 (a snapshot at 10–11, another at 20–21), and one from 40 (after a cut).
    for (const n of [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22]) s.add(rec(n, n === 10 || n === 20 ? 4 : n === 11 || n === 21 ? 2 : 3), 10);
    for (const n of [40, 41, 42]) s.add(rec(n, n === 40 ? 4 : n === 41 ? 2 : 3), 40);
    assert.equal(s.covers(T0 + 900), false, 'before the first snapshot held');
    assert.equal(s.replayStart(T0 + 1500), 0, 'the snapshot at 10 (its Meta)');
    assert.equal(s.replayStart(T0 + 2150), 10, 'the newer snapshot at 20');
    assert.equal(s.covers(T0 + 3000), false, 'in the hole between the streams');
    assert.equal(s.replayStart(T0 + 4200), 13, 'the second stream from its snapshot');
    assert.equal(s.covers(T0 + 4300), false, 'after everything held');
    // A load from 23 fills the hole: the spans join, and the whole stretch can be shown.
    for (let n = 23; n < 40; n++) s.add(rec(n), 23);
    assert.deepEqual(s.spans.list, [{ lo: 10, hi: 42 }]);
    assert.equal(s.replayStart(T0 + 3000), 10);
  });

  it('starts a session held from its first event at its first snapshot, even if that comes a moment late', () => {
    const s = new EventStore();
    [rec(1), rec(2, 4), rec(3, 2), rec(4)].forEach((r) => s.add(r, 1));
    assert.equal(s.replayStart(T0 + 100), 1);
    const late = new EventStore();
    [rec(5), rec(6, 4), rec(7, 2), rec(8)].forEach((r) => late.add(r, 5));
    assert.equal(late.replayStart(T0 + 500), -1, 'a later stretch needs the snapshot before the moment');
  });

  it('starts live replay at the newest Meta + FullSnapshot pair, or a lone FullSnapshot', () => {
    const s = new EventStore();
    assert.equal(s.latestSnapshotIndex(), -1);
    [rec(1, 4), rec(2, 2), rec(3), rec(4, 4), rec(5, 2), rec(6)].forEach((r) => s.add(r));
    assert.equal(s.latestSnapshotIndex(), 3);
    s.add(rec(7, 2));
    assert.equal(s.latestSnapshotIndex(), 6);
  });
});

describe('probe verdict', () => {
  it('reads 404 and 400 as not found, 401 as signed out, anything else as worth retrying', () => {
    assert.deepEqual([404, 400, 401, 0, 500, 503, 200].map(probeVerdict), ['not-found', 'not-found', 'signed-out', 'retry', 'retry', 'retry', 'retry']);
  });
});

describe('reconnect decision', () => {
  const at = { over: false, provisionalEnd: false, resumeMs: 1234 };
  it('stops for good when the session does not exist', () => {
    assert.deepEqual(reconnect(CLOSE.session_not_found, at), { kind: 'stop', notFound: true });
  });
  it('stops once the session is over', () => {
    assert.deepEqual(reconnect(1000, { ...at, over: true }), { kind: 'stop' });
  });
  it('looks again after a second, from where the page is, after a provisional end', () => {
    assert.deepEqual(reconnect(1000, { ...at, provisionalEnd: true }), { kind: 'retry', from: '1234', delayMs: RESUME_CHECK_MS });
  });
  it('skips to live and marks a gap when the hub cut a slow viewer', () => {
    assert.deepEqual(reconnect(CLOSE.viewer_too_slow, at), { kind: 'retry', from: 'live' });
  });
  it('otherwise backs off and resumes at the last event held', () => {
    for (const code of [1006, 1001, CLOSE.shutting_down, CLOSE.internal]) assert.deepEqual(reconnect(code, at), { kind: 'retry', from: '1234' });
  });
  it('keeps its starting point while it holds nothing', () => {
    assert.deepEqual(reconnect(1006, { ...at, resumeMs: null }), { kind: 'retry', from: undefined });
  });
});

/** A Stream over a fake transport; `hub` plays the hub's side of the main and history sockets. */
function harness(from = 'live', probe?: () => Promise<number>, at: number | null = null) {
  const log: string[] = [];
  const boundaries: Boundary[] = [];
  const statuses: string[] = [];
  const main = { url: () => '', h: null as SocketHandlers<HubToViewer> | null, sent: [] as ViewerToHub[] };
  const history: { url: string; h: { onMessage(m: HubToViewer): void; onClose(): void }; sent: ViewerToHub[]; closed: boolean }[] = [];
  const transport: Transport = {
    reconnecting(url, h) {
      main.url = url;
      main.h = h;
      return { send: (m) => { log.push(`ack ${JSON.stringify(m)}`); main.sent.push(m); }, close() { log.push('main closed'); } };
    },
    once(url, h) {
      const conn = { url, h, sent: [] as ViewerToHub[], closed: false };
      history.push(conn);
      return { send: (m) => conn.sent.push(m), close: () => { conn.closed = true; } };
    },
  };
  const stream = new Stream({ sessionId: 's 1', from, at, transport, wsUrl: (p) => `ws://hub${p}`, probe }, {
    event: (r) => log.push(`event ${r.seq}`),
    boundary: (b) => boundaries.push(b),
    clock: () => {},
    status: (t) => statuses.push(t),
    changed: () => {},
    signedOut: () => log.push('signed out'),
  });
  stream.start();
  const hub = (m: HubToViewer) => main.h!.onMessage(m);
  const close = (code: number) => main.h!.onClose!(code);
  const events = (...ns: number[]): HubToViewer => ({ type: 'events', events: ns.map(rec) });
  return { stream, hub, close, events, main, history, log, boundaries, statuses };
}

describe('Stream', () => {
  it('acknowledges the last seq of each batch once its events are handled', () => {
    const { hub, events, log, main } = harness();
    hub({ type: 'session', session: session(true), start_seq: 1 });
    hub(events(1, 2, 3));
    hub(events(3, 4));
    assert.deepEqual(log, ['event 1', 'event 2', 'event 3', 'ack {"type":"ack","seq":3}', 'event 4', 'ack {"type":"ack","seq":4}']);
    assert.deepEqual(main.sent, [{ type: 'ack', seq: 3 }, { type: 'ack', seq: 4 }]);
  });

  it('passes each event on once, stamped with when the live socket got it', () => {
    const { stream, hub, events, log } = harness();
    hub(events(2, 1, 2));
    assert.deepEqual(log.filter((l) => l.startsWith('event')), ['event 2', 'event 1']);
    assert.deepEqual(seqs(stream.store.recs), [1, 2]);
    assert.ok(stream.store.recs.every((r) => typeof r.recv === 'number'));
  });

  it('reports catching up once, and an ended session as ended', () => {
    const a = harness();
    a.hub({ type: 'session', session: session(true), start_seq: 1 });
    a.hub({ type: 'live' });
    a.hub({ type: 'live' });
    assert.deepEqual(a.boundaries, [{ type: 'caught-up' }]);
    assert.equal(a.stream.sessionLive, true);
    const b = harness();
    b.hub({ type: 'session', session: session(false), start_seq: 1 });
    b.hub(b.events(1, 2));
    b.hub({ type: 'end' });
    assert.deepEqual(b.boundaries, [{ type: 'end', provisional: false }]);
    assert.equal(b.stream.sessionLive, false);
    assert.equal(b.stream.store.complete, true, 'from=live on an ended session streams it all');
    assert.equal(b.close(1000), false, 'an ended session stays closed');
  });

  it('treats an end for a session the hub called active as provisional, and looks again after a second', () => {
    const { stream, hub, close, events, main, boundaries } = harness();
    hub({ type: 'session', session: session(true), start_seq: 1 });
    hub(events(1, 2, 3));
    hub({ type: 'live' });
    hub({ type: 'end' });
    assert.deepEqual(boundaries, [{ type: 'caught-up' }, { type: 'end', provisional: true }]);
    assert.equal(stream.sessionLive, true);
    assert.equal(close(1000), RESUME_CHECK_MS);
    assert.equal(main.url(), 'ws://hub/ws/watch/s%201?from=300');
    assert.equal(close(1006), undefined, 'the next close backs off as usual');
  });

  it('takes an end before the first catch-up, or for a session the hub called ended, as real', () => {
    const a = harness();
    a.hub({ type: 'session', session: session(true), start_seq: 1 });
    a.hub({ type: 'end' });
    assert.deepEqual(a.boundaries, [{ type: 'end', provisional: false }]);
    assert.equal(a.stream.over, true);
    const b = harness();
    b.hub({ type: 'session', session: session(true), start_seq: 1 });
    b.hub({ type: 'live' });
    b.close(1006);
    b.hub({ type: 'session', session: session(false), start_seq: 1 });
    b.hub({ type: 'end' });
    assert.deepEqual(b.boundaries, [{ type: 'caught-up' }, { type: 'end', provisional: false }]);
    assert.equal(b.close(1000), false);
  });

  it('stops when the session does not exist', () => {
    const { stream, close } = harness();
    assert.equal(close(CLOSE.session_not_found), false);
    assert.equal(stream.notFound, true);
    assert.equal(stream.down, false);
  });

  it('is down from a close until the next session message', () => {
    const { stream, hub, close } = harness();
    hub({ type: 'session', session: session(true), start_seq: 1 });
    assert.equal(stream.down, false);
    assert.equal(close(CLOSE.shutting_down), undefined);
    assert.equal(stream.down, true);
    close(1006);
    assert.equal(stream.down, true, 'still down while reconnecting fails');
    hub({ type: 'session', session: session(true), start_seq: 1 });
    assert.equal(stream.down, false);
  });

  const settle = () => new Promise((r) => setTimeout(r, 0));

  it('asks the API why a socket was refused before its session message, and stops for a missing session', async () => {
    let probes = 0;
    const { stream, close, log } = harness('live', async () => { probes++; return 404; });
    assert.equal(close(1006), undefined, 'retries while it asks');
    await settle();
    assert.equal(probes, 1);
    assert.equal(stream.notFound, true);
    assert.ok(log.includes('main closed'), 'the socket stops retrying');
  });

  it('keeps reconnecting when the API does not answer either, and sends a signed-out user to the login', async () => {
    const a = harness('live', async () => 0);
    a.close(1006);
    await settle();
    assert.deepEqual([a.stream.notFound, a.stream.down], [false, true]);
    assert.ok(!a.log.includes('main closed'));
    const b = harness('live', async () => 401);
    b.close(1006);
    await settle();
    assert.ok(b.log.includes('signed out') && b.log.includes('main closed'));
  });

  it('does not ask the API after a socket that had its session message closes', async () => {
    let probes = 0;
    const { hub, close } = harness('live', async () => { probes++; return 404; });
    hub({ type: 'session', session: session(true), start_seq: 1 });
    close(1006);
    await settle();
    assert.equal(probes, 0);
  });

  it('after being cut for slowness, resumes live, and a seek into the hole loads it from the snapshot before', async () => {
    const { stream, hub, close, events, main, history, statuses } = harness('start');
    assert.equal(main.url(), 'ws://hub/ws/watch/s%201?from=start');
    hub({ type: 'session', session: session(true), start_seq: 1 });
    hub(events(1, 2, 3));
    hub({ type: 'live' });
    assert.equal(stream.store.complete, true);
    assert.equal(close(CLOSE.viewer_too_slow), undefined);
    assert.equal(main.url(), 'ws://hub/ws/watch/s%201?from=live');
    hub({ type: 'session', session: session(true), start_seq: 9 });
    hub(events(9, 10));
    assert.deepEqual(stream.store.spans.list, [{ lo: 1, hi: 3 }, { lo: 9, hi: 10 }]);
    const loading = stream.ensureHistory(T0 + 500);
    assert.equal(history.length, 1);
    assert.equal(history[0].url, 'ws://hub/ws/watch/s%201?from=500');
    history[0].h.onMessage({ type: 'session', session: session(true), start_seq: 4 });
    history[0].h.onMessage({ type: 'events', events: [rec(4, 4), rec(5, 2), rec(6), rec(7)] });
    assert.deepEqual(history[0].sent, [{ type: 'ack', seq: 7 }]);
    await loading;
    assert.equal(history[0].closed, false, 'the moment is in; the load goes on until it meets what is held');
    history[0].h.onMessage(events(8, 9));
    assert.equal(history[0].closed, true);
    assert.deepEqual(seqs(stream.store.recs), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(stream.store.spans.list, [{ lo: 1, hi: 10 }], 'the streams met: one stretch');
    assert.deepEqual(statuses, ['Loading…', '', '']);
  });

  it('gives up a main socket that went silent without closing, says it is down, and opens another', () => {
    const { stream, hub, main, log } = harness();
    try {
      main.h!.onOpen!();
      const t = Date.now();
      hub({ type: 'session', session: session(true), start_seq: 1 });
      hub({ type: 'live' });
      const first = main.h;
      // Quiet: pinged; the hub never answers.
      for (let s = 1; s < SILENT_MS / 1000; s++) stream.checkSilence(t + s * 1000);
      assert.equal(stream.down, false);
      assert.ok(main.sent.some((m) => m.type === 'ping'), 'a quiet socket is pinged');
      assert.equal(log.includes('main closed'), false);
      stream.checkSilence(t + SILENT_MS + 100);
      assert.equal(log.includes('main closed'), true, 'the silent socket closed');
      assert.equal(stream.down, true, 'the page says reconnecting');
      assert.notEqual(main.h, first, 'a new main socket');
      assert.match(main.url(), /from=\d+|from=live/);
      hub({ type: 'session', session: session(true), start_seq: 1 });
      assert.equal(stream.down, false, 'back once the hub answers');
    } finally {
      stream.clock.stop();
    }
  });

  it('loads only when the store cannot show the moment, and a newer seek replaces an older load', async () => {
    const { stream, hub, history } = harness();
    hub({ type: 'session', session: session(true), start_seq: 5 });
    hub({ type: 'events', events: [rec(5, 4), rec(6, 2), rec(7)] });
    await stream.ensureHistory(T0 + 650);
    assert.equal(history.length, 0);
    const first = stream.ensureHistory(T0 + 100);
    assert.equal(history.length, 1);
    const second = stream.ensureHistory(T0 + 200);
    assert.equal(history.length, 2);
    assert.equal(history[0].closed, true, 'the older load stops');
    await first;
    assert.equal(history[1].url, 'ws://hub/ws/watch/s%201?from=200');
    history[1].h.onClose();
    await second;
    assert.equal(stream.store.covers(T0 + 200), false, 'a load cut off leaves the moment unloaded');
  });

  it('loads from the session\'s start once when the hub\'s start point had no snapshot to show the moment from', async () => {
    const { stream, hub, history } = harness('500', undefined, 500);
    // The hub started at a Meta without a usable FullSnapshot (garbage), and so does a load.
    hub({ type: 'session', session: session(false), start_seq: 4 });
    hub({ type: 'events', events: [rec(4, 4), rec(5), rec(6), rec(7)] });
    hub({ type: 'end' });
    const loading = stream.ensureHistory(T0 + 500);
    assert.equal(history[0].url, 'ws://hub/ws/watch/s%201?from=500');
    history[0].h.onMessage({ type: 'session', session: session(false), start_seq: 4 });
    history[0].h.onMessage({ type: 'events', events: [rec(4, 4), rec(5), rec(6), rec(7)] });
    history[0].h.onMessage({ type: 'end' });
    assert.equal(history[0].closed, true);
    assert.equal(history[1].url, 'ws://hub/ws/watch/s%201?from=start');
    history[1].h.onMessage({ type: 'session', session: session(false), start_seq: 1 });
    history[1].h.onMessage({ type: 'events', events: [rec(1, 4), rec(2, 2), rec(3), rec(4, 4)] });
    await loading;
    assert.equal(stream.store.replayStart(T0 + 500), 0);
    assert.equal(history.length, 2, 'only once');
  });

  it('says the page can open a link\'s moment once the events up to it are in, before the rest', () => {
    const { hub, boundaries, main } = harness('2000', undefined, 2000);
    assert.equal(main.url(), 'ws://hub/ws/watch/s%201?from=2000');
    hub({ type: 'session', session: session(false), start_seq: 15 });
    hub({ type: 'events', events: [rec(15, 4), rec(16, 2), rec(17), rec(18), rec(19)] });
    assert.deepEqual(boundaries, [], 'not yet at the moment');
    hub({ type: 'events', events: [rec(20), rec(21)] });
    assert.deepEqual(boundaries, [{ type: 'ready', over: true }]);
    hub({ type: 'events', events: [rec(22)] });
    hub({ type: 'end' });
    assert.deepEqual(boundaries, [{ type: 'ready', over: true }, { type: 'end', provisional: false }]);
  });

  it('reads a recording only so far ahead of the moment shown, and lets a seek\'s load go first', async () => {
    const { stream, hub, main, history } = harness();
    const far = (seq: number): Rec => ({ ...rec(seq), event: { ...rec(seq).event, timestamp: T0 + AHEAD_MS + 100 * seq } });
    hub({ type: 'session', session: session(false), start_seq: 1 });
    hub({ type: 'events', events: [rec(1, 4), rec(2, 2), rec(3)] });
    assert.deepEqual(main.sent, [{ type: 'ack', seq: 3 }]);
    hub({ type: 'events', events: [far(4), far(5)] });
    assert.deepEqual(main.sent, [{ type: 'ack', seq: 3 }], 'past AHEAD_MS from the start: held');
    stream.follow(T0 + 1000);
    assert.deepEqual(main.sent, [{ type: 'ack', seq: 3 }, { type: 'ack', seq: 5 }], 'the moment shown moved on');
    // A seek far ahead: the main stream waits while the load runs, and then as long as it is far behind.
    const loading = stream.ensureHistory(T0 + 3 * AHEAD_MS);
    stream.follow(T0 + AHEAD_MS);
    hub({ type: 'events', events: [far(6)] });
    assert.equal(main.sent.length, 2, 'held while the seek loads');
    history[0].h.onMessage({ type: 'session', session: session(false), start_seq: 100 });
    history[0].h.onMessage({ type: 'events', events: [100, 101].map((n) => ({ ...rec(n, n === 100 ? 4 : 2), event: { ...rec(n, n === 100 ? 4 : 2).event, timestamp: T0 + 3 * AHEAD_MS - 10 + n - 100 } })) });
    history[0].h.onMessage({ type: 'events', events: [{ ...rec(102), event: { ...rec(102).event, timestamp: T0 + 3 * AHEAD_MS + 5 } }] });
    await loading;
    assert.deepEqual(history[0].sent, [{ type: 'ack', seq: 101 }], 'read on until its moment was in');
    assert.equal(main.sent.length, 3, 'the load is done: the main stream reads on (near the moment shown)');
    stream.follow(T0 + 3 * AHEAD_MS);
    assert.deepEqual(history[0].sent[1], { type: 'ack', seq: 102 }, 'the replay opened there: the load reads on');
    hub({ type: 'events', events: [far(7)] });
    assert.equal(main.sent.length, 3, 'far behind the moment shown now: held');
    stream.follow(T0 + AHEAD_MS);
    assert.deepEqual(main.sent[3], { type: 'ack', seq: 7 }, 'sought back near it: read on');
  });

  it('opens an ended session at its first snapshot, and a live one only at the live edge', () => {
    const a = harness();
    a.hub({ type: 'session', session: session(false), start_seq: 1 });
    a.hub({ type: 'events', events: [rec(1, 4), rec(2, 2), rec(3)] });
    assert.deepEqual(a.boundaries, [{ type: 'ready', over: true }]);
    const b = harness();
    b.hub({ type: 'session', session: session(true), start_seq: 1 });
    b.hub({ type: 'events', events: [rec(1, 4), rec(2, 2), rec(3)] });
    assert.deepEqual(b.boundaries, []);
  });
});
