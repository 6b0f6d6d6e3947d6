// Unit tests of list.ts: the loaded pages of one view, and where pushed sessions go.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionRows } from './list';
import { session, T0 } from './fixture';
import type { View } from './query';

const at = (id: string, minutes: number, over = {}) => session({ id, started_at: new Date(T0 + minutes * 60_000).toISOString(), ...over });
const ids = (l: SessionRows) => l.rows.map((s) => s.id).join(',');
const newest: View = { filters: {}, sort: 'started', order: 'desc' };

describe('SessionRows', () => {
  it('appends pages and knows when there is no further one', () => {
    const l = new SessionRows(newest);
    l.addPage([at('c', 3), at('b', 2)], 'cur');
    assert.equal(l.complete, false);
    l.addPage([at('a', 1)], null);
    assert.equal(ids(l), 'c,b,a');
    assert.equal(l.complete, true);
  });

  it('leaves out of a page what surely does not match (a filter a hub ignores)', () => {
    const l = new SessionRows({ ...newest, filters: { min_active_ms: 10_000 } });
    l.addPage([at('b', 2, { active_ms: 5_000 }), at('a', 1, { active_ms: 50_000 })], null);
    assert.equal(ids(l), 'a');
  });

  it('puts a new matching session where it sorts, at the top for the newest', () => {
    const l = new SessionRows(newest);
    l.addPage([at('b', 2), at('a', 1)], null);
    assert.equal(l.push(at('c', 3)), 'added');
    assert.equal(ids(l), 'c,b,a');
  });

  it('leaves out a pushed session that does not match, and drops a listed one that stops matching', () => {
    const l = new SessionRows({ ...newest, filters: { status: 'live' } });
    l.addPage([at('b', 2, { active: true })], null);
    assert.equal(l.push(at('c', 3, { active: false })), 'ignored');
    assert.equal(l.push(at('b', 2, { active: false, event_count: 11 })), 'removed');
    assert.equal(l.size, 0);
  });

  it('updates a listed session in place and moves it when its sort key changes', () => {
    const l = new SessionRows({ ...newest, sort: 'duration' });
    l.addPage([at('x', 1, { duration_ms: 9 }), at('y', 2, { duration_ms: 5 })], null);
    assert.equal(l.push(at('y', 2, { duration_ms: 20, event_count: 20 })), 'updated');
    assert.equal(ids(l), 'y,x');
    assert.equal(l.rows[0].duration_ms, 20);
  });

  it('ignores an older copy of a listed session', () => {
    const l = new SessionRows(newest);
    l.addPage([at('a', 1, { event_count: 50 })], null);
    assert.equal(l.push(at('a', 1, { event_count: 40 })), 'ignored');
    assert.equal(l.rows[0].event_count, 50);
    assert.equal(l.push(at('a', 1, { event_count: 50, active: true })), 'ignored', 'an ended session does not reopen without growing');
  });

  it('does not add past the loaded pages: the session comes with a later page', () => {
    const l = new SessionRows({ ...newest, sort: 'errors' });
    l.addPage([at('a', 1, { error_count: 9 }), at('b', 2, { error_count: 5 })], 'more');
    assert.equal(l.push(at('c', 3, { error_count: 1 })), 'ignored');
    assert.equal(l.push(at('d', 4, { error_count: 7 })), 'added');
    assert.equal(ids(l), 'a,d,b');
  });

  it('on a deep page, leaves out what sorts before its first row', () => {
    const l = new SessionRows({ ...newest, cursor: 'somewhere' });
    l.addPage([at('b', 2), at('a', 1)], null);
    assert.equal(l.push(at('new', 9)), 'ignored', 'a new session belongs on the first page');
    assert.equal(l.push(at('b', 2, { event_count: 99 })), 'updated', 'the first row itself stays');
    assert.equal(ids(l), 'b,a');
  });

  it('asks for a refetch when only the hub can tell, and keeps a listed session it cannot judge', () => {
    const l = new SessionRows({ ...newest, filters: { event: 'signup' } });
    l.addPage([at('a', 1)], null);
    assert.equal(l.push(at('b', 2)), 'refetch');
    assert.equal(l.size, 1);
    assert.equal(l.push(at('a', 1, { event_count: 12 })), 'updated');
    l.merge([at('b', 2), at('a', 1, { event_count: 12 })]);
    assert.equal(ids(l), 'b,a');
  });

  it('keeps keys apart per project', () => {
    const l = new SessionRows(newest);
    l.addPage([at('same', 2, { project: 'p1' })], null);
    assert.equal(l.push(at('same', 1, { project: 'p2' })), 'added');
    assert.equal(l.size, 2);
  });
});
