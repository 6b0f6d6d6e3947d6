// Unit tests of spans.ts: the stretches of seqs held without a hole, merged as streams meet.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Spans } from './spans';

describe('Spans', () => {
  it('grows a stream\'s span as its events come, and keeps apart streams that do not meet', () => {
    const s = new Spans();
    s.cover(10, 10);
    s.cover(10, 12);
    s.cover(40, 41);
    assert.deepEqual(s.list, [{ lo: 10, hi: 12 }, { lo: 40, hi: 41 }]);
    assert.deepEqual(s.of(11), { lo: 10, hi: 12 });
    assert.equal(s.of(13), null);
    assert.equal(s.of(9), null);
    assert.deepEqual(s.of(41), { lo: 40, hi: 41 });
  });

  it('joins spans that touch or overlap, however many a stream bridges', () => {
    const s = new Spans();
    s.cover(1, 3);
    s.cover(10, 12);
    s.cover(20, 22);
    s.cover(4, 9);
    assert.deepEqual(s.list, [{ lo: 1, hi: 12 }, { lo: 20, hi: 22 }]);
    s.cover(0, 25);
    assert.deepEqual(s.list, [{ lo: 0, hi: 25 }]);
  });

  it('puts a span that starts before the others first', () => {
    const s = new Spans();
    s.cover(50, 60);
    s.cover(5, 7);
    s.cover(30, 31);
    assert.deepEqual(s.list, [{ lo: 5, hi: 7 }, { lo: 30, hi: 31 }, { lo: 50, hi: 60 }]);
  });
});
