// Unit tests of serialize.ts: whatever a page logs becomes bounded text, with cycles, DOM nodes,
// errors and hostile objects handled, and no more work than the caps allow.

import assert from 'node:assert/strict';
import { describe as suite, it } from 'node:test';
import { ARG_MAX_CHARS, describe, describeAll, MESSAGE_MAX_CHARS } from './serialize';

suite('describe', () => {
  it('writes strings as they are at the top and quoted inside objects', () => {
    assert.equal(describe('plain text'), 'plain text');
    assert.equal(describe({ a: 'x', b: [1, true, null, undefined] }), '{"a":"x","b":[1,true,null,undefined]}');
    assert.equal(describe(BigInt(12)), '12n');
    assert.equal(describe(function named() {}), '[Function named]');
  });

  it('cuts one argument at its cap, with an ellipsis', () => {
    const s = describe('x'.repeat(ARG_MAX_CHARS * 3));
    assert.equal(s.length, ARG_MAX_CHARS + 1);
    assert.ok(s.endsWith('…'));
    const o = describe({ list: Array.from({ length: 10_000 }, (_, i) => `item-${i}`) });
    assert.ok(o.length <= ARG_MAX_CHARS + 1, `${o.length}`);
  });

  it('marks cycles instead of recursing', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    a.list = [a];
    assert.equal(describe(a), '{"name":"a","self":[Circular],"list":[[Circular]]}');
  });

  it('summarises deep and wide structures', () => {
    const deep = { l1: { l2: { l3: { l4: { l5: 'deep' } } } } };
    assert.equal(describe(deep), '{"l1":{"l2":{"l3":{"l4":[Object]}}}}');
    const wide = describe(Array.from({ length: 60 }, (_, i) => i));
    assert.ok(wide.endsWith(',…10 more]'), wide);
  });

  it('shows a DOM node as its tag, id and classes, never its content', () => {
    const el = { nodeType: 1, nodeName: 'DIV', id: 'card', className: 'a b', textContent: 'private words' };
    assert.equal(describe(el), '<div#card.a.b>');
    assert.equal(describe({ target: el }), '{"target":<div#card.a.b>}');
    assert.equal(describe({ nodeType: 3, nodeName: '#text', data: 'private words' }), '#text');
  });

  it('shows an error with its stack at the top, and its message inside objects', () => {
    const e = new TypeError('bad thing');
    const top = describe(e);
    assert.ok(top.startsWith('TypeError: bad thing'), top);
    assert.match(top, /serialize\.test/);
    assert.equal(describe({ cause: e }), '{"cause":"TypeError: bad thing"}');
  });

  it('survives throwing getters and proxies', () => {
    const hostile = { ok: 1, get boom() { throw new Error('no'); } };
    assert.equal(describe(hostile), '{"ok":1,"boom":"[Thrown]"}');
    const proxy = new Proxy({}, { ownKeys() { throw new Error('no keys'); } });
    assert.equal(describe(proxy), '[Unserializable]');
  });

  it('uses toJSON (dates)', () => {
    assert.equal(describe({ at: new Date(0) }), '{"at":"1970-01-01T00:00:00.000Z"}');
  });
});

suite('describeAll', () => {
  it('keeps all of a message within its cap and says how many arguments were left out', () => {
    const args = Array.from({ length: 10 }, () => 'y'.repeat(ARG_MAX_CHARS));
    const out = describeAll(args);
    const total = out.reduce((n, s) => n + s.length, 0);
    assert.ok(total <= MESSAGE_MAX_CHARS + 20, `${total}`);
    assert.equal(out[out.length - 1], `…${10 - Math.ceil(MESSAGE_MAX_CHARS / ARG_MAX_CHARS)} more`);
  });
});
