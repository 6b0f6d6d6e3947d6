// Unit tests of reconnect.ts: the backoff policy, and the socket's reconnect decisions driven
// through a fake WebSocket.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLOSE } from './protocol';
import { Backoff, RATE_LIMITED_MAX_MS, RATE_LIMITED_MIN_MS, ReconnectingSocket, type SocketHandlers } from './reconnect';

const sequence = (b: Backoff, n: number) => Array.from({ length: n }, () => b.next());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Backoff', () => {
  it('doubles from 250 ms up to 5 s, with the low end of the jitter at half of each cap', () => {
    assert.deepEqual(sequence(new Backoff(undefined, undefined, () => 0), 8), [125, 250, 500, 1000, 2000, 2500, 2500, 2500]);
  });

  it('never waits as long as the cap itself', () => {
    const delays = sequence(new Backoff(undefined, undefined, () => 0.999999), 7);
    const caps = [250, 500, 1000, 2000, 4000, 5000, 5000];
    delays.forEach((d, i) => assert.ok(d < caps[i] && d > caps[i] * 0.99, `attempt ${i}: ${d} against cap ${caps[i]}`));
  });

  it('spreads delays over the upper half of the cap', () => {
    assert.equal(new Backoff(250, 5000, () => 0.5).next(), 187.5);
  });

  it('after rate_limited closes, waits 1 s or more and backs off up to 30 s', () => {
    const b = new Backoff(RATE_LIMITED_MIN_MS, RATE_LIMITED_MAX_MS, () => 0);
    assert.deepEqual(sequence(b, 7), [1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
  });

  it('starts again from the shortest delay after reset', () => {
    const b = new Backoff(undefined, undefined, () => 0);
    sequence(b, 5);
    b.reset();
    assert.deepEqual(sequence(b, 2), [125, 250]);
  });
});

/** Stands in for the browser's WebSocket: records instances and what was sent. */
class FakeWebSocket {
  static readonly OPEN = 1;
  static all: FakeWebSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  closedWith: number | undefined;
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) { FakeWebSocket.all.push(this); }
  send(body: string): void { this.sent.push(body); }
  close(code: number): void { this.closedWith = code; }
  open(): void { this.readyState = 1; this.onopen?.(); }
  hubCloses(code: number): void { this.readyState = 3; this.onclose?.({ code }); }
}
(globalThis as unknown as { WebSocket: unknown }).WebSocket = FakeWebSocket;

function socket(h: Partial<SocketHandlers<{ n: number }>>, backoff = new Backoff(1, 1, () => 0), resetOnOpen?: boolean) {
  FakeWebSocket.all = [];
  const got: { n: number }[] = [];
  const s = new ReconnectingSocket<{ n: number }, { m: string }>(() => `ws://hub/${FakeWebSocket.all.length}`, { onMessage: (m) => got.push(m), ...h }, { backoff, resetOnOpen });
  s.connect();
  return { s, got, last: () => FakeWebSocket.all[FakeWebSocket.all.length - 1] };
}

describe('ReconnectingSocket', () => {
  it('reopens after the hub closes it, with a fresh URL', async () => {
    const { last } = socket({});
    last().open();
    last().hubCloses(1006);
    await sleep(20);
    assert.equal(FakeWebSocket.all.length, 2);
    assert.equal(last().url, 'ws://hub/1');
  });

  it('stays closed when onClose says false', async () => {
    const { last } = socket({ onClose: () => false });
    last().hubCloses(CLOSE.session_not_found);
    await sleep(20);
    assert.equal(FakeWebSocket.all.length, 1);
  });

  it('waits the delay onClose returns instead of backing off', async () => {
    const { last } = socket({ onClose: () => 5 }, new Backoff(10_000, 10_000));
    last().hubCloses(1000);
    await sleep(40);
    assert.equal(FakeWebSocket.all.length, 2);
  });

  it('counts an open connection as healthy unless told to wait for more', () => {
    const delays: number[] = [];
    for (const resetOnOpen of [undefined, false]) {
      const b = new Backoff(100, 10_000, () => 0);
      const { s, last } = socket({ onClose: () => { delays.push(b.next()); return false; } }, b, resetOnOpen);
      b.next();
      b.next();
      last().open();
      last().hubCloses(1006);
      s.close();
    }
    assert.deepEqual(delays, [50, 200]);
  });

  it('does not reopen after close()', async () => {
    const { s, last } = socket({});
    last().open();
    s.close();
    assert.equal(last().closedWith, 1000);
    last().hubCloses(1000);
    await sleep(20);
    assert.equal(FakeWebSocket.all.length, 1);
  });

  it('stays closed when closed from its own onClose', async () => {
    let s: ReconnectingSocket<{ n: number }, { m: string }> | null = null;
    const made = socket({ onClose: () => { s?.close(); } });
    s = made.s;
    made.last().hubCloses(1006);
    await sleep(20);
    assert.equal(FakeWebSocket.all.length, 1);
  });

  it('passes parsed JSON on and drops anything else', () => {
    const { got, last } = socket({});
    last().open();
    for (const data of ['{"n":1}', 'not json', new ArrayBuffer(2), '{"n":2}']) last().onmessage?.({ data });
    assert.deepEqual(got, [{ n: 1 }, { n: 2 }]);
  });

  it('sends JSON only while open', () => {
    const { s, last } = socket({});
    assert.equal(s.send({ m: 'early' }), false);
    last().open();
    assert.equal(s.send({ m: 'hi' }), true);
    assert.deepEqual(last().sent, ['{"m":"hi"}']);
  });
});
