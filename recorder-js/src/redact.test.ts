// Unit tests of redact.ts: what must not be recorded of URLs, bodies and headers.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MASKED, Redactor } from './redact';

const r = new Redactor();

describe('Redactor.url', () => {
  it('masks secret-looking query and fragment parameters and keeps the rest byte for byte', () => {
    assert.equal(
      r.url('https://shop.example/cb?code=1&access_token=abc%20d&page=2&API_KEY=k#id_token=xyz&state=ok'),
      `https://shop.example/cb?code=1&access_token=${MASKED}&page=2&API_KEY=${MASKED}#id_token=${MASKED}&state=ok`,
    );
    assert.equal(r.url('/search?q=shoes&sort=asc'), '/search?q=shoes&sort=asc');
    assert.equal(r.url('/reset?Password=hunter2'), `/reset?Password=${MASKED}`);
  });

  it('drops user:password from the authority', () => {
    assert.equal(r.url('https://user:pw@api.example/x'), 'https://api.example/x');
  });

  it('takes a configured list instead of the default one', () => {
    const custom = new Redactor(['email']);
    assert.equal(custom.url('/u?email=a%40b.c&token=t'), `/u?email=${MASKED}&token=t`);
  });
});

describe('Redactor.body', () => {
  it('masks JSON fields with secret names at any depth, leaving objects and the rest alone', () => {
    const body = JSON.stringify({ user: 'mia', password: 'hunter2', nested: [{ apiKey: 'k-1', n: 2 }], auth: { a: 1 } });
    assert.deepEqual(JSON.parse(r.body(body)), { user: 'mia', password: MASKED, nested: [{ apiKey: MASKED, n: 2 }], auth: { a: 1 } });
  });

  it('masks form fields', () => {
    assert.equal(r.body('user=mia&passwd=hunter2&remember=1'), `user=mia&passwd=${MASKED}&remember=1`);
  });

  it('leaves other text as it is', () => {
    assert.equal(r.body('hello token world'), 'hello token world');
  });
});

describe('Redactor.headers', () => {
  it('never records cookies or credentials, and leaves secret-named headers out', () => {
    const h = r.headers([['Authorization', 'Bearer s3cr3t'], ['Cookie', 'sid=1'], ['set-cookie', 'sid=2'], ['X-Api-Key', 'k'], ['Content-Type', 'application/json']]);
    assert.deepEqual(h, { 'content-type': 'application/json' });
  });
});

describe('Redactor.values', () => {
  it('replaces the page\'s masked input values wherever they appear, raw, URL-encoded or JSON-escaped', () => {
    const secrets = ['s3cret value', 'a"b'];
    const v = new Redactor(undefined, () => secrets);
    assert.equal(v.values('typed s3cret value here'), `typed ${'*'.repeat(12)} here`);
    assert.equal(v.url('/find?q=s3cret%20value'), `/find?q=${'*'.repeat(12)}`);
    assert.equal(v.body(JSON.stringify({ note: 'x a"b y' })), JSON.stringify({ note: 'x *** y' }));
  });

  it('ignores values too short to mean anything, and a failing lookup', () => {
    assert.equal(new Redactor(undefined, () => ['ab']).values('abc'), 'abc');
    assert.equal(new Redactor(undefined, () => { throw new Error('no document'); }).values('abc'), 'abc');
  });
});
