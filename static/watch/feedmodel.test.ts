// Unit tests of feedmodel.ts and summary.ts: summaries per kind, filtering and search, pausing
// without losing anything, late history, and the rows a scroll position shows.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FOLLOW_CAP, FeedModel, visibleRows } from './feedmodel';
import type { Rec } from './store';
import { summarize } from './summary';

const T0 = 1_700_000_000_000;
const ev = (seq: number, type: number, data: unknown): Rec => ({ seq, hub_time: T0, event: { type, timestamp: T0 + seq * 10, data } as Rec['event'] });
const click = (seq: number) => ev(seq, 3, { source: 2, type: 2, id: 5, x: 10, y: 20 });
const log = (seq: number, level: string, text: string) => ev(seq, 6, { plugin: 'rrweb/console@1', payload: { level, payload: [JSON.stringify(text)], trace: [], source: 'console' } });

describe('summarize', () => {
  it('names every kind readably', () => {
    const net = ev(9, 6, { plugin: 'streamdom/network@1', payload: { requests: [{ initiator: 'fetch', method: 'POST', url: 'https://api.example/pay', status: 0, duration: 12.4, error: 'Failed to fetch' }] } });
    assert.deepEqual([
      ev(1, 4, { href: 'https://shop.example/', width: 800, height: 600 }),
      click(2),
      ev(3, 3, { source: 5, id: 7, text: 'abc', isChecked: false }),
      ev(4, 3, { source: 0, adds: [1, 2], removes: [], texts: [], attributes: [1] }),
      log(5, 'error', 'boom'),
      log(6, 'warn', 'careful'),
      ev(7, 5, { tag: 'checkout', payload: { total: 42 } }),
      ev(8, 5, { tag: '$pageview', payload: { url: 'https://shop.example/cart', title: 'Cart' } }),
      net,
    ].map((r) => `${summarize(r).kind}: ${summarize(r).text}`), [
      'page: Page load https://shop.example/ (800×600)',
      'click: Click at 10, 20 on node 5',
      'input: Input on node 7: "abc"',
      'mutation: DOM change: +2 −0 text 0 attributes 1',
      'error: console.error: "boom"',
      'console: console.warn: "careful"',
      'custom: Event checkout {"total":42}',
      'page: Page view https://shop.example/cart — Cart',
      'network: POST https://api.example/pay → failed (Failed to fetch) 12 ms',
    ]);
  });

  it('names every change rrweb records (its incremental sources 0 to 16), none as a bare number', () => {
    for (let source = 0; source <= 16; source++) {
      const text = summarize(ev(source + 1, 3, { source, id: 3 })).text;
      assert.ok(!/source \d+/.test(text), `source ${source}: ${text}`);
    }
    assert.deepEqual([
      ev(1, 3, { source: 7, type: 0, id: 4, currentTime: 12.34 }),
      ev(2, 3, { source: 8, id: 4, adds: [{ rule: 'a{}' }], removes: [] }),
      ev(3, 3, { source: 13, id: 4, index: [0], set: { property: 'color', value: 'red' } }),
      ev(4, 3, { source: 14, ranges: [{ start: 1, startOffset: 0, end: 1, endOffset: 3 }] }),
      ev(5, 3, { source: 16, define: { name: 'x-cart' } }),
    ].map((r) => `${summarize(r).kind}: ${summarize(r).text}`), [
      'other: Media play on node 4 at 12.3 s',
      'mutation: Style sheet rules: +1 −0',
      'mutation: Style change color: red',
      'other: Text selected (1 range)',
      'mutation: Custom element defined: x-cart',
    ]);
  });
});

describe('FeedModel', () => {
  it('filters by kind and searches the summaries, keeping every event', () => {
    const m = new FeedModel();
    [click(1), log(2, 'error', 'Payment failed'), log(3, 'info', 'paid'), click(4)].forEach((r) => m.add(r));
    m.setFilter('click', '');
    assert.deepEqual(m.shown.map((e) => e.seq), [1, 4]);
    m.setFilter('all', 'PAY');
    assert.deepEqual(m.shown.map((e) => e.seq), [2]);
    m.add(log(5, 'log', 'payment retried'));
    assert.deepEqual(m.shown.map((e) => e.seq), [2, 5], 'new events pass the same filter');
    m.setFilter('all', '');
    assert.equal(m.shown.length, 5);
  });

  it('counts what arrives while paused and loses none of it', () => {
    const m = new FeedModel();
    m.add(click(1));
    m.pause();
    for (let i = 2; i <= 6; i++) m.add(click(i));
    assert.equal(m.arrivedWhilePaused, 5);
    assert.deepEqual(m.shown.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
    m.resume();
    assert.equal(m.arrivedWhilePaused, 0);
  });

  it('puts late history in seq order, once', () => {
    const m = new FeedModel();
    [click(5), click(6), click(2), click(2), click(1)].forEach((r) => m.add(r));
    assert.deepEqual(m.shown.map((e) => e.seq), [1, 2, 5, 6]);
    assert.equal(m.rowAtOrBefore(4), 1);
    assert.equal(m.rowAtTime(T0 + 55), 2);
    assert.equal(m.rowAtTime(T0), -1);
  });

  it('merges a load of older events in one pass when the rows are next read, newer arrivals included', () => {
    const m = new FeedModel();
    for (let n = 5000; n < 6000; n++) m.add(click(n));
    const version = m.version;
    for (let n = 1000; n < 2000; n++) m.add(click(n));
    m.add(click(6000));
    m.add(click(1500));
    assert.equal(m.version, version, 'nothing refiltered while the load arrives');
    const seqs = m.shown.map((e) => e.seq);
    assert.equal(seqs.length, 2001);
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), 'in seq order, without duplicates');
    assert.equal(m.version, version + 1, 'one refilter for the whole load');
  });
});

describe('FeedModel over hours', () => {
  it('keeps the newest rows while following, everything while paused, and takes older ones back', () => {
    const m = new FeedModel();
    const total = FOLLOW_CAP + 1500;
    for (let i = 1; i <= total; i++) m.add(click(i));
    assert.ok(m.entries.length <= FOLLOW_CAP + 1000 && m.entries.length >= FOLLOW_CAP, `${m.entries.length} kept`);
    assert.equal(m.entries[m.entries.length - 1].seq, total, 'the newest is kept');
    assert.equal(m.shown[0].seq, m.entries[0].seq);
    const first = m.entries[0].seq;
    m.pause();
    for (let i = total + 1; i <= total + 2000; i++) m.add(click(i));
    assert.equal(m.entries[0].seq, first, 'a paused feed drops nothing');
    m.resume();
    const added = m.prepend([click(first - 2), click(first - 1), click(first)]);
    assert.equal(added, 2, 'only what it did not hold');
    assert.equal(m.entries[0].seq, first - 2);
  });
});

describe('visibleRows', () => {
  it('covers the viewport with a few rows either side, within bounds', () => {
    assert.deepEqual(visibleRows(100_000, 22_000, 440, 22), { from: 996, to: 1024 });
    assert.deepEqual(visibleRows(10, 0, 440, 22), { from: 0, to: 10 });
    assert.deepEqual(visibleRows(0, 0, 440, 22), { from: 0, to: 0 });
  });
});
