// Unit tests of silence.ts: a quiet connection is pinged, a silent one given up, and a page that was
// not running itself (long task, background tab) does not blame the hub.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LATE_CHECK_MS, QUIET_MS, SILENT_MS, Silence } from './silence';

/** Checks once a second from `from` to `to` (ms), returning the verdicts that were not null. */
function run(s: Silence, from: number, to: number): [number, string][] {
  const out: [number, string][] = [];
  for (let t = from; t <= to; t += 1000) {
    const v = s.check(t);
    if (v) out.push([t, v]);
  }
  return out;
}

describe('Silence', () => {
  it('watches nothing before a connection opens', () => {
    assert.deepEqual(run(new Silence(), 0, 60_000), []);
  });

  it('pings a quiet connection, then gives it up when nothing at all comes back', () => {
    const s = new Silence();
    s.open(0);
    assert.deepEqual(run(s, 1000, 60_000), [[QUIET_MS, 'ping'], [2 * QUIET_MS, 'ping'], [SILENT_MS, 'drop']]);
  });

  it('lets a connection that answers live on', () => {
    const s = new Silence();
    s.open(0);
    const verdicts: string[] = [];
    for (let t = 1000; t <= 120_000; t += 1000) {
      const v = s.check(t);
      if (v) verdicts.push(v);
      // The hub answers each ping at once.
      if (v === 'ping') s.heard(t + 5);
    }
    assert.ok(verdicts.length > 0 && verdicts.every((v) => v === 'ping'), verdicts.join());
  });

  it('starts over after a check that came late: the page was busy or hidden, not the hub gone', () => {
    const s = new Silence();
    s.open(0);
    assert.equal(s.check(1000), null);
    // A 40 s long task (or a throttled tab): messages may be waiting behind it.
    assert.equal(s.check(41_000 + LATE_CHECK_MS), null);
    assert.deepEqual(run(s, 42_000 + LATE_CHECK_MS, 41_000 + LATE_CHECK_MS + SILENT_MS), [[41_000 + LATE_CHECK_MS + QUIET_MS, 'ping'], [41_000 + LATE_CHECK_MS + 2 * QUIET_MS, 'ping'], [41_000 + LATE_CHECK_MS + SILENT_MS, 'drop']]);
  });

  it('watches nothing after a close until the next connection opens', () => {
    const s = new Silence();
    s.open(0);
    s.closed();
    assert.deepEqual(run(s, 1000, 60_000), []);
    s.open(100_000);
    assert.deepEqual(run(s, 101_000, 100_000 + SILENT_MS).slice(-1)[0], [100_000 + SILENT_MS, 'drop']);
  });
});
