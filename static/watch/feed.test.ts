// Unit tests of feed.ts: what one animation frame of the live replay applies.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coalesce, frameBatch, fromLatestSnapshot, hoverChange, SOURCE } from './feed';
import type { Rec } from './store';

const T0 = 1_700_000_000_000;
let seq = 0;
const ev = (type: number, data: object, ts: number): Rec => ({ seq: ++seq, hub_time: ts, recv: ts, event: { type, timestamp: ts, data } as Rec['event'] });
const mutation = (ts: number) => ev(3, { source: 0, adds: [], removes: [], texts: [], attributes: [] }, ts);
const move = (ts: number, ...xs: number[]) => ev(3, { source: SOURCE.mouseMove, positions: xs.map((x, i) => ({ x, y: x, id: 5, timeOffset: -10 * (xs.length - 1 - i) })) }, ts);
const scroll = (ts: number, id: number, y: number) => ev(3, { source: SOURCE.scroll, id, x: 0, y }, ts);
const input = (ts: number, id: number, text: string) => ev(3, { source: SOURCE.input, id, text, isChecked: false }, ts);
const click = (ts: number) => ev(3, { source: SOURCE.mouseInteraction, type: 2, id: 5, x: 1, y: 1 }, ts);
const meta = (ts: number) => ev(4, { href: 'x', width: 800, height: 600 }, ts);
const full = (ts: number) => ev(2, { node: {}, initialOffset: { top: 0, left: 0 } }, ts);
const tss = (rs: Rec[]) => rs.map((r) => r.event.timestamp);

describe('coalesce', () => {
  it('keeps only the newest pointer position of a frame, at its place among the other events', () => {
    const out = coalesce([move(T0 + 1, 10, 20), mutation(T0 + 2), move(T0 + 3, 30, 40, 50), click(T0 + 4)]);
    assert.deepEqual(tss(out), [T0 + 2, T0 + 3, T0 + 4]);
    const data = out[1].event.data as unknown as { positions: { x: number }[] };
    assert.deepEqual(data.positions.map((p) => p.x), [50], 'only the last sampled position');
  });

  it('keeps the newest scroll offset and input value per element, every mutation and click', () => {
    const out = coalesce([scroll(T0 + 1, 1, 10), scroll(T0 + 2, 2, 5), input(T0 + 3, 7, 'a'), mutation(T0 + 4), scroll(T0 + 5, 1, 20), input(T0 + 6, 7, 'ab'), click(T0 + 7), mutation(T0 + 8)]);
    assert.deepEqual(tss(out), [T0 + 2, T0 + 4, T0 + 5, T0 + 6, T0 + 7, T0 + 8]);
  });

  it('leaves the held events as they were', () => {
    const m = move(T0, 1, 2, 3);
    coalesce([m, move(T0 + 1, 4)]);
    assert.equal((m.event.data as unknown as { positions: unknown[] }).positions.length, 3);
  });
});

describe('fromLatestSnapshot', () => {
  it('starts a batch at its newest Meta + FullSnapshot', () => {
    const b = [mutation(T0), meta(T0 + 1), full(T0 + 2), mutation(T0 + 3), meta(T0 + 4), full(T0 + 5), mutation(T0 + 6)];
    assert.deepEqual(tss(fromLatestSnapshot(b)), [T0 + 4, T0 + 5, T0 + 6]);
    const none = [mutation(T0), mutation(T0 + 1)];
    assert.equal(fromLatestSnapshot(none), none);
  });
});

describe('frameBatch', () => {
  it('applies what is due, in order, and holds the rest for a later frame', () => {
    const held = [mutation(T0 + 10), move(T0 + 20, 1), move(T0 + 30, 2), mutation(T0 + 40), mutation(T0 + 35)];
    const { apply, hold } = frameBatch(held, T0 + 35);
    assert.deepEqual(tss(apply), [T0 + 10, T0 + 30]);
    // An event is never applied before one received earlier, even when its own moment has come.
    assert.deepEqual(tss(hold), [T0 + 40, T0 + 35]);
  });

  it('catches up at once: everything due lands in one frame', () => {
    const held = Array.from({ length: 500 }, (_, i) => (i % 2 ? mutation(T0 + i) : move(T0 + i, i)));
    const { apply, hold } = frameBatch(held, T0 + 10_000);
    assert.equal(hold.length, 0);
    assert.equal(apply.length, 251, 'every mutation and one pointer position');
  });
});

describe('hoverChange', () => {
  it('changes nothing while the pointer stays on one element', () => {
    assert.deepEqual(hoverChange(['a', 'body', 'html'], ['a', 'body', 'html']), { remove: [], add: [] });
  });

  it('touches only the elements that enter or leave the chain', () => {
    assert.deepEqual(hoverChange(['a', 'p', 'body', 'html'], ['b', 'div', 'body', 'html']), { remove: ['a', 'p'], add: ['b', 'div'] });
    assert.deepEqual(hoverChange([], ['a', 'html']), { remove: [], add: ['a', 'html'] });
  });
});
