import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDays, parseOrigins, snippet } from './snippet';

test('the snippet names the hub and the key', () => {
  assert.equal(
    snippet('https://replay.example', 'pk_abc'),
    '<script src="https://replay.example/streamdom.js?key=pk_abc"></script>\n<script>StreamDOM.init()</script>',
  );
});

test('origins are split on spaces, commas and lines, without repeats', () => {
  assert.deepEqual(parseOrigins(' https://a.example, https://b.example\nhttps://a.example  '), ['https://a.example', 'https://b.example']);
  assert.deepEqual(parseOrigins('  '), []);
});

test('retention is a whole number of days from 1 to 36500', () => {
  assert.equal(parseDays('30'), 30);
  for (const bad of ['0', '-1', '1.5', 'x', '', '36501']) assert.equal(parseDays(bad), null, bad);
});
