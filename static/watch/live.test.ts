// Unit tests of live.ts: the playback buffer's bounds and the read-out's wording.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClockSync } from '@streamdom/recorder/clock';
import { BUFFER_MAX_MS, fmtDelay, fmtLatency, LAGGING_MS, LiveTiming, type Latency } from './live';

const latency = (total: number, at = Date.now()): Latency => ({ total, uncertainty: 2, visitorToHub: 5, hubToPm: total - 15, buffer: 10, at });

describe('LiveTiming', () => {
  it('never holds live events longer than the buffer cap, however late they arrive', () => {
    const clock = new ClockSync(() => {});
    clock.addSample(0, 2);
    const t = new LiveTiming(clock);
    t.onClock(0, 2);
    const now = Date.now();
    for (let i = 0; i < 100; i++) t.onArrival(now - 400, now);
    assert.equal(t.bufferMs, BUFFER_MAX_MS);
    assert.ok(BUFFER_MAX_MS <= 50, 'a smooth picture costs at most 50 ms of delay');
  });
});

describe('fmtLatency', () => {
  it('reads out the delay and its parts', () => {
    assert.equal(fmtLatency(latency(40), true), '40 ms behind ±2 ms · visitor→hub 5 · hub→PM 25 · buffer 10');
  });

  it('says when the replay is catching up', () => {
    assert.match(fmtLatency(latency(LAGGING_MS + 500), true), / · catching up$/);
    assert.ok(!fmtLatency(latency(LAGGING_MS - 1), true).includes('catching up'));
  });
});

describe('fmtDelay', () => {
  it('says it short, in seconds, and what it does not know yet', () => {
    assert.equal(fmtDelay(latency(40), true), 'Live · 0.04 s behind');
    assert.equal(fmtDelay(latency(-3), true), 'Live · 0.00 s behind');
    assert.equal(fmtDelay(latency(1234), true), 'Live · 1.23 s behind · catching up');
    assert.equal(fmtDelay(null, true), 'Live · measuring…');
    assert.equal(fmtDelay(latency(40), false), 'Live · delay unknown yet');
  });
});
