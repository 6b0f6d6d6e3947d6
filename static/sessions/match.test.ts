// Unit tests of match.ts: the API's filters and sort applied to sessions the feed pushes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compare, matches } from './match';
import { session, T0 } from './fixture';
import type { Session } from './types';

describe('matches', () => {
  it('says yes with no filter', () => assert.equal(matches(session(), {}), 'yes'));

  it('judges status, user, browser, OS and device from the session', () => {
    assert.equal(matches(session({ active: true }), { status: 'live' }), 'yes');
    assert.equal(matches(session({ active: true }), { status: 'ended' }), 'no');
    assert.equal(matches(session(), { user: 'alice' }), 'yes');
    assert.equal(matches(session(), { user: 'alic' }), 'no', 'user is exact');
    assert.equal(matches(session({ user_id: null }), { user: 'alice' }), 'no', 'anonymous');
    assert.equal(matches(session(), { browser: 'Chrome', os: 'Linux', device: 'desktop' }), 'yes');
    assert.equal(matches(session(), { browser: 'chrome' }), 'no', 'names are exact, as the hub compares them');
    assert.equal(matches(session(), { browser: 'Firefox' }), 'no');
    assert.equal(matches(session(), { device: 'mobile' }), 'no');
  });

  it('bounds the start time, duration and active time inclusively', () => {
    assert.equal(matches(session(), { from: String(T0), to: new Date(T0).toISOString() }), 'yes');
    assert.equal(matches(session(), { from: String(T0 + 1) }), 'no');
    assert.equal(matches(session(), { to: String(T0 - 1) }), 'no');
    assert.equal(matches(session(), { min_duration_ms: 60_000, max_duration_ms: 60_000 }), 'yes');
    assert.equal(matches(session(), { min_duration_ms: 60_001 }), 'no');
    assert.equal(matches(session(), { max_duration_ms: 59_999 }), 'no');
    assert.equal(matches(session(), { min_active_ms: 20_000, max_active_ms: 20_000 }), 'yes');
    assert.equal(matches(session(), { min_active_ms: 20_001 }), 'no');
    assert.equal(matches(session(), { max_active_ms: 19_999 }), 'no');
  });

  it('has_errors needs one error or more', () => {
    assert.equal(matches(session(), { has_errors: true }), 'yes');
    assert.equal(matches(session({ error_count: 0 }), { has_errors: true }), 'no');
  });

  it('finds q in the user id, a trait or the URL, and cannot rule it out from the feed', () => {
    assert.equal(matches(session(), { q: 'alice@' }), 'yes');
    assert.equal(matches(session(), { q: 'pro' }), 'yes');
    assert.equal(matches(session(), { q: 'plan' }), 'yes', 'trait names too: the hub searches the traits\' JSON');
    assert.equal(matches(session(), { q: 'ALICE' }), 'yes', 'the hub ignores ASCII case on both backends');
    assert.equal(matches(session({ user_id: 'Émile' }), { q: 'émile' }), 'unknown', 'other letters: only PostgreSQL folds them, the hub decides');
    assert.equal(matches(session(), { q: 'pricing' }), 'yes');
    assert.equal(matches(session(), { q: 'checkout' }), 'unknown', 'a later page may be /checkout');
  });

  it('finds url in the first page, cannot rule it out, and never judges event', () => {
    assert.equal(matches(session(), { url: '/pricing' }), 'yes');
    assert.equal(matches(session(), { url: '/PRICING' }), 'yes');
    assert.equal(matches(session(), { url: '/checkout' }), 'unknown');
    assert.equal(matches(session(), { event: 'signup' }), 'unknown');
  });

  it('a known mismatch wins over an unknown', () => {
    assert.equal(matches(session(), { event: 'signup', user: 'bob' }), 'no');
    assert.equal(matches(session(), { event: 'signup', user: 'alice' }), 'unknown');
  });

  it('derived fields a hub does not send are unknown, not a mismatch', () => {
    const old: Partial<Session> = session();
    delete old.error_count;
    delete old.user_id;
    assert.equal(matches(old as Session, { has_errors: true }), 'unknown');
    assert.equal(matches(old as Session, { user: 'alice' }), 'unknown');
  });
});

describe('compare', () => {
  const a = session({ id: 'a', duration_ms: 5, active_ms: 9, error_count: 0, started_at: new Date(T0).toISOString() });
  const b = session({ id: 'b', duration_ms: 7, active_ms: 1, error_count: 3, started_at: new Date(T0 + 1).toISOString() });
  const sorted = (sort: Parameters<typeof compare>[2], order: Parameters<typeof compare>[3]) => [b, a].sort((x, y) => compare(x, y, sort, order)).map((s) => s.id).join('');

  it('sorts by each key in both directions', () => {
    assert.equal(sorted('started', 'desc'), 'ba');
    assert.equal(sorted('started', 'asc'), 'ab');
    assert.equal(sorted('duration', 'desc'), 'ba');
    assert.equal(sorted('active', 'desc'), 'ab');
    assert.equal(sorted('active', 'asc'), 'ba');
    assert.equal(sorted('errors', 'desc'), 'ba');
  });

  it('breaks ties by project and id, as the hub\'s cursor does', () => {
    const c = session({ id: 'c', error_count: 0, started_at: b.started_at });
    assert.ok(compare(c, a, 'errors', 'desc') < 0, 'same errors: c before a when descending');
    assert.ok(compare(c, a, 'errors', 'asc') > 0);
    assert.ok(compare(session({ project: 'p2', id: 'a' }), session({ project: 'p1', id: 'z' }), 'started', 'asc') > 0);
    assert.equal(compare(a, a, 'duration', 'asc'), 0);
  });
});
