import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { apiPath, dayHref, parseRange, rangeSearch, sessionsHref } from './links';

describe('numbers links', () => {
  it('reads and writes the page URL, dropping bad values', () => {
    const r = parseRange('?project=shop&from=2026-11-01&to=nope');
    assert.deepEqual(r, { project: 'shop', from: '2026-11-01' });
    assert.equal(rangeSearch(r), '?project=shop&from=2026-11-01');
    assert.deepEqual(parseRange('?project=a%20b'), {});
  });

  it('asks the API for whole UTC days', () => {
    assert.equal(apiPath('shop', { from: '2026-11-01', to: '2026-11-02' }),
      '/api/numbers?project=shop&from=2026-11-01T00%3A00%3A00Z&to=2026-11-02T23%3A59%3A59.999Z');
  });

  it('links to the sessions list with its own filter names', () => {
    const day = Date.UTC(2026, 10, 25);
    const href = dayHref('shop', day);
    const p = new URLSearchParams(href.slice(2));
    assert.equal(p.get('project'), 'shop');
    assert.equal(p.get('from'), '2026-11-25T00:00:00.000Z');
    assert.equal(p.get('to'), '2026-11-25T23:59:59.999Z');
    const q = new URLSearchParams(sessionsHref('shop', day, day + 1, { url: '/a b' }).slice(2));
    assert.equal(q.get('url'), '/a b');
  });
});
