// Unit tests of clicks.ts: selector paths name an element exactly (ids end the path, nth-of-type
// only where siblings share the tag).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectorOf } from './clicks';

interface Fake { localName: string; id: string; parentElement: Fake | null; children: Fake[] }

function el(localName: string, parent: Fake | null, id = ''): Fake {
  const e: Fake = { localName, id, parentElement: parent, children: [] };
  parent?.children.push(e);
  return e;
}

describe('selectorOf', () => {
  const html = el('html', null);
  const body = el('body', html);
  el('div', body);
  const second = el('div', body);
  const p = el('p', second);
  const main = el('main', body, 'shop');
  const button = el('button', main);

  it('names each level from the root, with nth-of-type where siblings share the tag', () => {
    assert.equal(selectorOf(p as unknown as Element), 'html>body>div:nth-of-type(2)>p');
  });

  it('starts at the nearest ancestor with an id', () => {
    assert.equal(selectorOf(button as unknown as Element), 'main#shop>button');
  });

  it('ignores ids a selector cannot spell', () => {
    const odd = el('span', body, '1 odd');
    assert.equal(selectorOf(odd as unknown as Element), 'html>body>span');
  });
});
