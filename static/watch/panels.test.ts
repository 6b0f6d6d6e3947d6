// Unit tests of panels.ts: console and network rows from the shared event formats, their filters
// and the row at a moment.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consoleRows, filterRows, networkRows, rowAt, statusGroup } from './panels';
import type { Rec } from './store';

const T0 = 1_700_000_000_000;
const ev = (seq: number, data: unknown): Rec => ({ seq, hub_time: T0, event: { type: 6, timestamp: T0 + seq * 100, data } as Rec['event'] });

describe('console rows', () => {
  it('one per message, with its level, source and stack', () => {
    const rows = consoleRows(ev(1, { plugin: 'rrweb/console@1', payload: { level: 'error', payload: ['"TypeError: x is undefined"'], trace: ['at a (app.js:1:2)', 'at b (app.js:3:4)'], source: 'uncaught' } }));
    assert.deepEqual(rows, [{ seq: 1, ts: T0 + 100, group: 'error', text: 'uncaught: "TypeError: x is undefined"', detail: 'at a (app.js:1:2)\nat b (app.js:3:4)' }]);
    assert.deepEqual(consoleRows(ev(2, { plugin: 'streamdom/network@1', payload: { requests: [] } })), []);
  });
});

describe('network rows', () => {
  it('one per request, grouped by status, placed at its start', () => {
    const rows = networkRows(ev(3, { plugin: 'streamdom/network@1', payload: { requests: [
      { initiator: 'fetch', method: 'GET', url: '/api/cart', status: 200, start: T0 + 50, duration: 20.4, request_size: null, response_size: 120, error: null },
      { initiator: 'xhr', method: 'POST', url: '/api/pay', status: 0, start: T0 + 60, duration: 3, request_size: 10, response_size: null, error: 'Failed to fetch' },
    ] } }));
    assert.deepEqual(rows.map((r) => [r.ts - T0, r.group, r.text]), [[50, 'ok', 'GET /api/cart 200 20 ms'], [60, 'failed', 'POST /api/pay failed (Failed to fetch) 3 ms']]);
    assert.deepEqual([0, 200, 304, 404, 503].map(statusGroup), ['failed', 'ok', 'redirect', 'client-error', 'server-error']);
  });
});

describe('filters and the current row', () => {
  it('filters by group and finds the last row at or before a moment', () => {
    const rows = [1, 2, 3].map((n) => ({ seq: n, ts: T0 + n * 100, group: n === 2 ? 'error' : 'log', text: '', detail: '' }));
    assert.deepEqual(filterRows(rows, 'error').map((r) => r.seq), [2]);
    assert.equal(filterRows(rows, 'all').length, 3);
    assert.deepEqual([T0, T0 + 100, T0 + 250, T0 + 999].map((t) => rowAt(rows, t)), [-1, 0, 1, 2]);
  });
});
