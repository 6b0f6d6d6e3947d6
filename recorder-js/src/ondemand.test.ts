import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucket, pathMatches, recordsNow } from './ondemand';

test('a visitor lands in the same bucket every time, and buckets spread over 0–99', () => {
  assert.equal(bucket('visitor-1'), bucket('visitor-1'));
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) seen.add(bucket(crypto.randomUUID()));
  assert.ok(seen.size > 90, `${seen.size} buckets used`);
  for (const b of seen) assert.ok(b >= 0 && b < 100);
});

test('path patterns match whole paths with * as a wildcard', () => {
  assert.ok(pathMatches('/checkout/*', '/checkout/pay'));
  assert.ok(pathMatches('/cart', '/cart'));
  assert.ok(!pathMatches('/cart', '/cart/x'));
  assert.ok(!pathMatches('/a.b', '/aXb'), 'dots are literal');
});

test('all records, standby never, sample by share or by page', () => {
  assert.ok(recordsNow(undefined, 'v', '/'));
  assert.ok(!recordsNow({ record_mode: 'standby', sample_percent: 100, sample_urls: ['/*'] }, 'v', '/'), 'standby ignores the sample');
  const none = { record_mode: 'sample' as const, sample_percent: 0, sample_urls: ['/checkout/*'] };
  assert.ok(!recordsNow(none, 'v', '/'));
  assert.ok(recordsNow(none, 'v', '/checkout/pay'));
  assert.ok(recordsNow({ ...none, sample_percent: 100 }, 'v', '/'));
});
