// Unit tests of readahead.ts: when the page asks the hub for more of a recording.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AHEAD_MS, readOn } from './readahead';

const T = 1_700_000_000_000;
const at = (lastTs: number, playheadTs = T, more: { over?: boolean; seekLoading?: boolean } = {}) =>
  readOn({ over: more.over ?? true, seekLoading: more.seekLoading ?? false, lastTs, playheadTs });

describe('read-ahead', () => {
  it('reads a recording on up to AHEAD_MS past the moment shown, then waits', () => {
    assert.equal(at(T), true);
    assert.equal(at(T + AHEAD_MS - 1), true);
    assert.equal(at(T + AHEAD_MS), false);
    assert.equal(at(T + AHEAD_MS, T + 1), true, 'the moment moved on: read on');
  });

  it('holds a stream the page was sought far past, until the moment comes back near it', () => {
    assert.equal(at(T, T + 30 * 60_000), false);
    assert.equal(at(T, T + AHEAD_MS - 1), true);
  });

  it('lets a seek\'s load go first', () => {
    assert.equal(at(T, T, { seekLoading: true }), false);
  });

  it('always reads a live session (the hub cuts a viewer that falls behind)', () => {
    assert.equal(at(T + 99 * AHEAD_MS, T, { over: false, seekLoading: true }), true);
  });
});
