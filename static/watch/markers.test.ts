// Unit tests of markers.ts: which events become which timeline markers (rage clicks by the shared
// definition), inactive stretches, the page at a moment, and thinning for drawing.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Markers, inactiveStretches, pageAt, thin } from './markers';
import type { Rec } from './store';

const T0 = 1_700_000_000_000;
let seq = 0;
const ev = (ms: number, type: number, data: unknown): Rec => ({ seq: ++seq, hub_time: T0, event: { type, timestamp: T0 + ms, data } as Rec['event'] });
const click = (ms: number, x = 10, y = 10) => ev(ms, 3, { source: 2, type: 2, id: 1, x, y });
const build = (recs: Rec[]) => {
  const m = new Markers();
  recs.forEach((r) => m.onEvent(r));
  return m;
};
const kinds = (m: Markers, recs: Rec[] = []) => m.read(recs).map((x) => `${x.kind}@${x.ts - T0}`);

describe('Markers', () => {
  it('marks page visits, errors, custom events and inputs, one per burst of typing into a field', () => {
    seq = 0;
    const m = build([
      ev(0, 4, { href: 'https://shop.example/', width: 800, height: 600 }),
      ev(100, 5, { tag: '$pageview', payload: { url: 'https://shop.example/cart', title: 'Cart' } }),
      ev(200, 6, { plugin: 'rrweb/console@1', payload: { level: 'error', payload: ['"boom"'], trace: [], source: 'uncaught' } }),
      ev(250, 6, { plugin: 'rrweb/console@1', payload: { level: 'warn', payload: ['"meh"'], trace: [], source: 'console' } }),
      ev(300, 5, { tag: 'checkout', payload: {} }),
      ev(310, 5, { tag: '$identify', payload: { user_id: 'u1' } }),
      ev(400, 3, { source: 5, id: 7, text: 'a' }),
      ev(500, 3, { source: 5, id: 7, text: 'ab' }),
      ev(2000, 3, { source: 5, id: 7, text: 'abc' }),
      ev(2100, 3, { source: 5, id: 8, text: 'x' }),
    ]);
    assert.deepEqual(kinds(m), ['page@0', 'page@100', 'error@200', 'custom@300', 'input@400', 'input@2000', 'input@2100']);
    assert.equal(m.userId, 'u1', 'from $identify');
    assert.deepEqual(m.list.map((x) => x.label).slice(0, 4), ['Page: https://shop.example/', 'Page: https://shop.example/cart', 'Error: "boom"', 'Event: checkout']);
  });

  it('turns ≥ 3 clicks 1 s apart within 30 px into one rage click, and counts a burst once', () => {
    seq = 0;
    const m = build([click(0), click(900, 30, 10), click(1800, 10, 35), click(2700), click(3600), click(10_000)]);
    assert.deepEqual(kinds(m), ['rage-click@0', 'click@10000']);
    assert.equal(m.list[0].label, 'Rage click (5 clicks)');
    seq = 0;
    assert.deepEqual(kinds(build([click(0), click(1000), click(2000)])), ['rage-click@0'], 'three clicks are enough, 1 s apart is within');
  });

  it('does not call clicks a rage click when one is too late or too far', () => {
    seq = 0;
    assert.deepEqual(kinds(build([click(0), click(900), click(1901)])), ['click@0', 'click@1901']);
    seq = 0;
    assert.deepEqual(kinds(build([click(0), click(500), click(1000, 41, 10)])), ['click@0', 'click@1000']);
  });

  it('rebuilds from the store when an older event arrives late', () => {
    seq = 0;
    const late = click(0);
    seq = 4;
    const a = ev(100, 5, { tag: 'a', payload: {} });
    const m = build([a, late]);
    assert.deepEqual(kinds(m, [late, a]), ['click@0', 'custom@100']);
  });
});

describe('inactiveStretches', () => {
  it('shades gaps of 5 s or more between inputs, and before the first and after the last', () => {
    assert.deepEqual(inactiveStretches([T0 + 6000, T0 + 7000, T0 + 20_000], T0, T0 + 22_000), [
      { from: T0, to: T0 + 6000 },
      { from: T0 + 7000, to: T0 + 20_000 },
    ]);
    assert.deepEqual(inactiveStretches([], T0, T0 + 4999), []);
  });
});

describe('pageAt', () => {
  it('finds the last page visit at or before a moment', () => {
    seq = 0;
    const m = build([ev(0, 4, { href: 'a' }), ev(1000, 4, { href: 'b' })]);
    assert.equal(pageAt(m.pages, T0 - 1), null);
    assert.equal(pageAt(m.pages, T0 + 999)?.label, 'Page: a');
    assert.equal(pageAt(m.pages, T0 + 1000)?.label, 'Page: b');
  });
});

describe('thin', () => {
  it('keeps the first marker of each kind per slice of the timeline', () => {
    const ms = [0, 1, 2, 500, 999].map((t, i) => ({ kind: 'click' as const, ts: t, seq: i, label: '' }));
    const err = { kind: 'error' as const, ts: 1, seq: 9, label: '' };
    assert.deepEqual(thin([...ms, err], 0, 1000, 10).map((m) => `${m.kind}@${m.ts}`), ['click@0', 'click@500', 'click@999', 'error@1']);
  });
});
