// Unit tests of replayable.ts: what the replayer is spared, and what it still gets.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replayable } from './replayable';

const node = (childNodes?: unknown) => ({ type: 2, tagName: 'div', attributes: {}, childNodes, id: 1 });

describe('replayable', () => {
  it('takes well-formed events of every kind, and kinds it does not know', () => {
    for (const e of [
      { type: 4, data: { href: 'https://x/', width: 1, height: 1 } },
      { type: 2, data: { node: { type: 0, childNodes: [node([]), { type: 3, textContent: 'x', id: 2 }] }, initialOffset: { top: 0, left: 0 } } },
      { type: 3, data: { source: 0, adds: [{ parentId: 1, nextId: null, node: node() }], removes: [], texts: [], attributes: [] } },
      { type: 3, data: { source: 1, positions: [{ x: 1, y: 1, id: 1, timeOffset: 0 }] } },
      { type: 3, data: { source: 2, type: 2, id: 1, x: 1, y: 1 } },
      { type: 3, data: { source: 99 } },
      { type: 5, data: { tag: 'x', payload: null } },
      { type: 99, data: {} },
    ]) assert.equal(replayable(e), true, JSON.stringify(e));
  });

  it('spares it events whose data it would dereference blindly', () => {
    for (const e of [
      { type: 3, data: null },
      { type: 4 },
      { type: 5, data: [] },
      { type: 3, data: { source: 'mutation' } },
      { type: 3, data: { source: 0 } },
      { type: 3, data: { source: 0, adds: [null], removes: [], texts: [], attributes: [] } },
      { type: 3, data: { source: 0, adds: [{ parentId: 1, node: { type: 2, childNodes: 'none' } }], removes: [], texts: [], attributes: [] } },
      { type: 3, data: { source: 1, positions: 'nowhere' } },
      { type: 2, data: {} },
      { type: 2, data: { node: { type: 99, childNodes: 'none' } } },
      { type: 2, data: { node: { type: 0, childNodes: [node([null])] } } },
    ]) assert.equal(replayable(e), false, JSON.stringify(e));
  });

  it('walks trees deeper than the call stack', () => {
    let deep: Record<string, unknown> = { type: 3, textContent: 'bottom', id: 0 };
    for (let i = 0; i < 100_000; i++) deep = node([deep]);
    assert.equal(replayable({ type: 2, data: { node: { type: 0, childNodes: [deep] } } }), true);
  });
});
