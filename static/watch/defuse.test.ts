// Unit tests of defuse.ts: resource hints leave recorded events, wherever they hide.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defuse } from './defuse';

const link = (attributes: Record<string, unknown>) => ({ type: 2, tagName: 'link', attributes, childNodes: [] });

describe('defuse', () => {
  it('takes prefetch, prerender, dns-prefetch and preconnect out of a full snapshot', () => {
    const e = { type: 2, data: { node: { type: 0, childNodes: [link({ rel: 'PreFetch', href: 'http://x/' }), { type: 2, childNodes: [link({ REL: 'stylesheet prerender', href: 'y' })] }] } } };
    defuse(e);
    const [a, b] = e.data.node.childNodes as { attributes?: Record<string, unknown>; childNodes: { attributes: Record<string, unknown> }[] }[];
    assert.equal(a.attributes?.rel, '');
    assert.equal(b.childNodes[0].attributes.REL, 'stylesheet');
  });

  it('and out of added nodes and attribute changes', () => {
    const e = { type: 3, data: { source: 0, adds: [{ parentId: 1, node: link({ rel: 'dns-prefetch' }) }], attributes: [{ id: 3, attributes: { rel: 'preconnect icon' } }] } };
    defuse(e);
    assert.equal(e.data.adds[0].node.attributes.rel, '');
    assert.equal(e.data.attributes[0].attributes.rel, 'icon');
  });

  it('survives malformed events and very deep trees', () => {
    for (const data of [undefined, null, {}, { node: null }, { source: 0, adds: 'x', attributes: [null] }]) {
      defuse({ type: 2, data });
      defuse({ type: 3, data });
    }
    let deep: { type: number; childNodes: unknown[]; attributes?: Record<string, unknown> } = link({ rel: 'prefetch' });
    const bottom = deep;
    for (let i = 0; i < 100_000; i++) deep = { type: 2, childNodes: [deep] };
    defuse({ type: 2, data: { node: deep } });
    assert.equal(bottom.attributes?.rel, '');
  });
});
