// Unit tests of custom.ts: identify and track take what the shared event format allows and refuse
// the rest; calls made before a recording are kept in order, within a bound.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { identifyEvent, MAX_PAYLOAD_BYTES, MAX_QUEUED, PendingEvents, trackEvent, type ReportedEvent } from './custom';

describe('identifyEvent', () => {
  it('makes a $identify Custom event with a copy of the traits', () => {
    const traits = { plan: 'pro', seats: 3 };
    const e = identifyEvent('user-42', traits) as ReportedEvent;
    traits.plan = 'changed later';
    assert.equal(e.type, 5);
    assert.equal(typeof e.timestamp, 'number');
    assert.deepEqual(e.data, { tag: '$identify', payload: { user_id: 'user-42', traits: { plan: 'pro', seats: 3 } } });
    assert.deepEqual((identifyEvent(7) as ReportedEvent).data, { tag: '$identify', payload: { user_id: '7', traits: {} } });
  });

  it('refuses a missing, empty or over-long user id', () => {
    for (const id of [undefined, '', 'x'.repeat(257), {}, NaN]) assert.equal(typeof identifyEvent(id), 'string', String(id));
    assert.equal(typeof identifyEvent('x'.repeat(256)), 'object');
  });

  it('refuses traits that are not a JSON object, are cyclic, or are too large', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.me = cyclic;
    assert.match(identifyEvent('u', cyclic) as string, /JSON-serializable/);
    assert.match(identifyEvent('u', { n: BigInt(1) }) as string, /JSON-serializable/);
    assert.match(identifyEvent('u', ['a']) as string, /object/);
    assert.match(identifyEvent('u', { big: 'x'.repeat(MAX_PAYLOAD_BYTES) }) as string, /over 8192 bytes/);
  });
});

describe('trackEvent', () => {
  it('makes a Custom event named after the event with its properties', () => {
    assert.deepEqual((trackEvent('checkout', { total: 12.5 }) as ReportedEvent).data, { tag: 'checkout', payload: { total: 12.5 } });
    assert.deepEqual((trackEvent('opened') as ReportedEvent).data, { tag: 'opened', payload: {} });
  });

  it('refuses names reserved for StreamDOM and bad names', () => {
    assert.match(trackEvent('$pageview') as string, /StreamDOM's/);
    for (const name of ['', 3, 'n'.repeat(257)]) assert.equal(typeof trackEvent(name), 'string');
    assert.match(trackEvent('ok', 'not an object') as string, /object/);
  });
});

describe('PendingEvents', () => {
  it('hands over what it kept in order, then holds nothing', () => {
    const p = new PendingEvents();
    p.push(identifyEvent('a') as ReportedEvent);
    p.push(trackEvent('one') as ReportedEvent);
    p.push(trackEvent('two') as ReportedEvent);
    const got: unknown[] = [];
    p.drain((e) => got.push((e.data as { tag: string }).tag));
    assert.deepEqual(got, ['$identify', 'one', 'two']);
    const again: unknown[] = [];
    p.drain((e) => again.push(e));
    assert.equal(again.length, 0);
  });

  it('keeps the first MAX_QUEUED and counts what it dropped', () => {
    const p = new PendingEvents();
    for (let i = 0; i < MAX_QUEUED + 5; i++) p.push(trackEvent(`e${i}`) as ReportedEvent);
    const got: string[] = [];
    p.drain((e) => got.push((e.data as { tag: string }).tag));
    assert.equal(got.length, MAX_QUEUED);
    assert.equal(got[0], 'e0');
    assert.equal(p.dropped, 5);
  });
});
