// Unit tests of stream.ts and store.ts: ordering, duplicates, acks, the reconnect decision per
// close code, provisional ends and gaps, over a fake transport.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLOSE, type HubToViewer, type SessionInfo, type ViewerToHub } from '@streamdom/recorder/protocol';
import type { SocketHandlers } from '@streamdom/recorder/reconnect';
import { EventStore, type Rec } from './store';
import { RESUME_CHECK_MS, Stream, reconnect, type Boundary, type Transport } from './stream';

const T0 = 1_700_000_000_000;
/** Event `seq` at T0 + 100·seq; rrweb type 3 (incremental) unless given. */
const rec = (seq: number, type = 3): Rec => ({ seq, hub_time: T0 + 100 * seq + 5, event: { type, timestamp: T0 + 100 * seq, data: {} } as Rec['event'] });
const session = (active: boolean): SessionInfo => ({
  id: 's1', project: 'default', active, started_at: '', last_event_at: '', ended_at: null, duration_ms: 0, url: null, user_agent: null,
  event_count: 0, raw_bytes: 0, stored_bytes: 0, first_event_ts: T0,
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

  it('covers a moment at or after its first event, unless it has a gap', () => {
    const s = new EventStore();
    assert.equal(s.covers(T0 + 500), false, 'empty');
    s.add(rec(3));
    assert.equal(s.covers(T0 + 200), false, 'before the first event held');
    assert.equal(s.covers(T0 + 300), true);
    s.markGapped();
    assert.equal(s.covers(T0 + 300), false, 'gapped');
    s.markComplete();
    assert.equal(s.covers(T0), true, 'complete history covers everything');
    assert.equal(s.gapped, false);
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

describe('reconnect decision', () => {
  const at = { over: false, provisionalEnd: false, resumeMs: 1234 };
  it('stops for good when the session does not exist', () => {
    assert.deepEqual(reconnect(CLOSE.session_not_found, at), { kind: 'stop', status: 'Session not found.' });
  });
  it('stops once the session is over', () => {
    assert.deepEqual(reconnect(1000, { ...at, over: true }), { kind: 'stop' });
  });
  it('looks again after a second, from where the page is, after a provisional end', () => {
    assert.deepEqual(reconnect(1000, { ...at, provisionalEnd: true }), { kind: 'retry', from: '1234', delayMs: RESUME_CHECK_MS });
  });
  it('skips to live and marks a gap when the hub cut a slow viewer', () => {
    assert.deepEqual(reconnect(CLOSE.viewer_too_slow, at), { kind: 'retry', from: 'live', gap: true });
  });
  it('otherwise backs off and resumes at the last event held', () => {
    for (const code of [1006, 1001, CLOSE.shutting_down, CLOSE.internal]) assert.deepEqual(reconnect(code, at), { kind: 'retry', from: '1234' });
  });
  it('keeps its starting point while it holds nothing', () => {
    assert.deepEqual(reconnect(1006, { ...at, resumeMs: null }), { kind: 'retry', from: undefined });
  });
});

/** A Stream over a fake transport; `hub` plays the hub's side of the main and history sockets. */
function harness(from: 'start' | 'live' = 'live') {
  const log: string[] = [];
  const boundaries: Boundary[] = [];
  const statuses: string[] = [];
  const main = { url: () => '', h: null as SocketHandlers<HubToViewer> | null, sent: [] as ViewerToHub[] };
  const history: { url: string; h: { onMessage(m: HubToViewer): void; onClose(): void }; sent: ViewerToHub[]; closed: boolean }[] = [];
  const transport: Transport = {
    reconnecting(url, h) {
      main.url = url;
      main.h = h;
      return { send: (m) => { log.push(`ack ${JSON.stringify(m)}`); main.sent.push(m); }, close() {} };
    },
    once(url, h) {
      const conn = { url, h, sent: [] as ViewerToHub[], closed: false };
      history.push(conn);
      return { send: (m) => conn.sent.push(m), close: () => { conn.closed = true; } };
    },
  };
  const stream = new Stream({ sessionId: 's 1', from, transport, wsUrl: (p) => `ws://hub${p}` }, {
    event: (r) => log.push(`event ${r.seq}`),
    boundary: (b) => boundaries.push(b),
    clock: () => {},
    status: (t) => statuses.push(t),
    changed: () => {},
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
    const { close, statuses } = harness();
    assert.equal(close(CLOSE.session_not_found), false);
    assert.deepEqual(statuses, ['Session not found.']);
  });

  it('after being cut for slowness, resumes live, marks the gap, and refills it from the history socket', async () => {
    const { stream, hub, close, events, main, history, statuses } = harness('start');
    assert.equal(main.url(), 'ws://hub/ws/watch/s%201?from=start');
    hub({ type: 'session', session: session(true), start_seq: 1 });
    hub(events(1, 2));
    hub({ type: 'live' });
    assert.equal(stream.store.complete, true);
    assert.equal(close(CLOSE.viewer_too_slow), undefined);
    assert.equal(main.url(), 'ws://hub/ws/watch/s%201?from=live');
    assert.equal(stream.store.gapped, true);
    hub({ type: 'session', session: session(true), start_seq: 9 });
    hub(events(9, 10));
    const loading = stream.ensureHistory(T0 + 100);
    assert.equal(history.length, 1);
    assert.equal(history[0].url, 'ws://hub/ws/watch/s%201?from=start');
    history[0].h.onMessage(events(1, 2, 3, 4, 5, 6, 7, 8, 9));
    assert.deepEqual(history[0].sent, [{ type: 'ack', seq: 9 }]);
    assert.equal(history[0].closed, false);
    history[0].h.onMessage({ type: 'live' });
    await loading;
    assert.equal(history[0].closed, true);
    assert.deepEqual(seqs(stream.store.recs), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual([stream.store.complete, stream.store.gapped], [true, false]);
    assert.deepEqual(statuses, ['Loading history…', '']);
    await stream.ensureHistory(T0);
    assert.equal(history.length, 1, 'complete history needs no second load');
  });

  it('loads history only when the store cannot replay the moment, and tries again after a cut-off load', async () => {
    const { stream, hub, events, history } = harness();
    hub({ type: 'session', session: session(true), start_seq: 5 });
    hub(events(5, 6));
    await stream.ensureHistory(T0 + 600);
    assert.equal(history.length, 0);
    const first = stream.ensureHistory(T0 + 100);
    assert.equal(stream.ensureHistory(T0 + 100) instanceof Promise, true);
    assert.equal(history.length, 1, 'one load at a time');
    history[0].h.onClose();
    await first;
    assert.equal(stream.store.complete, false);
    void stream.ensureHistory(T0 + 100);
    assert.equal(history.length, 2);
  });
});
