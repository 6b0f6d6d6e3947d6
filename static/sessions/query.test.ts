// Unit tests of query.ts: the sessions page's view in its URL and in the API query.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiPath, DEFAULT_VIEW, PAGE_SIZE, describeFilters, hasFilters, isoToLocal, localToIso, parseTime, parseView, viewSearch } from './query';
import type { View } from './query';

const full: View = {
  filters: {
    q: 'checkout', user: 'alice@example.com', url: '/pricing', event: 'signup', browser: 'Chrome', os: 'Linux', device: 'mobile',
    from: '2026-11-01T00:00:00.000Z', to: '1764000000000', min_duration_ms: 1000, max_duration_ms: 600000,
    min_active_ms: 0, max_active_ms: 5000, has_errors: true, status: 'ended',
  },
  sort: 'errors',
  order: 'asc',
  cursor: '1764000000000:default:abc',
  limit: 50,
};

describe('parseView and viewSearch', () => {
  it('round-trips every filter, the sort, the order and the cursor', () => {
    const search = viewSearch(full);
    assert.deepEqual(parseView(search), full);
    assert.equal(viewSearch(parseView(search)), search);
  });

  it('uses the API parameter names in the page URL', () => {
    const p = new URLSearchParams(viewSearch(full));
    assert.deepEqual([...p.keys()], ['q', 'user', 'url', 'event', 'browser', 'os', 'device', 'from', 'to', 'min_duration_ms', 'max_duration_ms', 'min_active_ms', 'max_active_ms', 'has_errors', 'status', 'sort', 'order', 'limit', 'cursor']);
    assert.equal(p.get('has_errors'), 'true');
    assert.equal(p.get('min_active_ms'), '0', 'a zero bound is a bound');
  });

  it('gives the default view an empty query string and reads one back', () => {
    assert.equal(viewSearch(DEFAULT_VIEW), '');
    assert.deepEqual(parseView(''), DEFAULT_VIEW);
    assert.equal(viewSearch({ ...DEFAULT_VIEW, order: 'asc' }), '?order=asc');
  });

  it('drops what is not valid instead of sending it', () => {
    const v = parseView('?sort=bogus&order=up&limit=0&cursor=&&status=paused&has_errors=1&min_duration_ms=-5&max_active_ms=1e3&from=yesterday&to=2026-13-45&device=fridge&user=%20%20&q=' + 'x'.repeat(201) + '&limit=1001');
    assert.deepEqual(v, DEFAULT_VIEW);
  });

  it('trims text and keeps unicode and reserved characters intact', () => {
    const v = parseView(`?user=${encodeURIComponent('  ünï & co=1 ')}&url=${encodeURIComponent('/a?b=c#d')}`);
    assert.equal(v.filters.user, 'ünï & co=1');
    assert.equal(v.filters.url, '/a?b=c#d');
    assert.deepEqual(parseView(viewSearch(v)), v);
  });
});

describe('apiPath', () => {
  it('sends the filters, sort and order, the limit and the cursor', () => {
    const p = new URL(apiPath(full), 'http://x');
    assert.equal(p.pathname, '/api/sessions');
    assert.equal(p.searchParams.get('user'), 'alice@example.com');
    assert.equal(p.searchParams.get('sort'), 'errors');
    assert.equal(p.searchParams.get('order'), 'asc');
    assert.equal(p.searchParams.get('limit'), '50');
    assert.equal(p.searchParams.get('cursor'), full.cursor);
    assert.equal(p.searchParams.get('all'), 'true', 'not limited to the last 24 h');
  });

  it('takes the next page cursor over the view cursor, and none at the top', () => {
    assert.equal(new URL(apiPath(full, 'next'), 'http://x').searchParams.get('cursor'), 'next');
    const top = new URL(apiPath(DEFAULT_VIEW), 'http://x').searchParams;
    assert.equal(top.has('cursor'), false);
    assert.equal(top.get('limit'), String(PAGE_SIZE));
  });
});

describe('times and descriptions', () => {
  it('reads epoch ms and RFC 3339 with an offset, not loose dates', () => {
    assert.equal(parseTime('1764000000000'), 1764000000000);
    assert.equal(parseTime('2026-11-01T01:00:00+01:00'), Date.UTC(2026, 10, 1));
    assert.equal(parseTime('2026-11-01'), null);
    assert.equal(parseTime('Nov 1 2026'), null);
  });

  it('converts between datetime-local and the URL time', () => {
    const iso = localToIso('2026-11-24T10:30');
    assert.ok(iso);
    assert.equal(isoToLocal(iso), '2026-11-24T10:30');
    assert.equal(localToIso(''), undefined);
    assert.equal(isoToLocal('garbage'), '');
  });

  it('names each active filter for the empty result', () => {
    assert.equal(describeFilters(full.filters).length, 15);
    assert.deepEqual(describeFilters({ has_errors: true, min_duration_ms: 1500 }), ['duration ≥ 1.5 s', 'has errors']);
    assert.equal(hasFilters({}), false);
    assert.equal(hasFilters({ status: 'live' }), true);
  });
});
