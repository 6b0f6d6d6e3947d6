// Unit tests of keys.ts and share.ts: shortcuts, and links to a moment with their filters.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTyping, keyAction } from './keys';
import { linkQuery, parseLink } from './share';

const free = { typing: false, mods: false };

describe('keyAction', () => {
  it('maps the documented keys', () => {
    assert.deepEqual([' ', 'ArrowLeft', 'ArrowRight', 'l', 'F', '4', '?', 'Escape'].map((k) => keyAction(k, free)), [
      { kind: 'toggle-play' }, { kind: 'seek-by', ms: -5000 }, { kind: 'seek-by', ms: 5000 }, { kind: 'go-live' },
      { kind: 'fullscreen' }, { kind: 'speed', speed: 4 }, { kind: 'help' }, { kind: 'close' },
    ]);
    assert.equal(keyAction('3', free), null);
  });
  it('leaves typing and the browser\'s own shortcuts alone', () => {
    assert.equal(keyAction(' ', { typing: true, mods: false }), null);
    assert.equal(keyAction('l', { typing: false, mods: true }), null);
    assert.deepEqual(keyAction('Escape', { typing: true, mods: false }), { kind: 'close' });
    assert.deepEqual([{ tagName: 'INPUT' }, { tagName: 'select' }, { tagName: 'DIV', isContentEditable: true }, { tagName: 'BUTTON' }, null].map(isTyping), [true, true, true, false, false]);
  });
});

describe('links', () => {
  it('carry the moment, the event and the filters, and read back the same', () => {
    const s = { project: 'shop', t: 1234.6, event: 42, kind: 'error', q: 'pay now', console: 'all', network: 'failed' };
    const q = linkQuery(s);
    assert.equal(q, 'project=shop&t=1235&event=42&kind=error&q=pay+now&network=failed');
    assert.deepEqual(parseLink(q), { ...s, t: 1235, console: null });
  });
  it('ignore what is not a number and clamp negative times', () => {
    assert.deepEqual([parseLink('t=abc').t, parseLink('t=-5').t, parseLink('t=').t, parseLink('event=7x').event], [null, 0, null, null]);
  });
});
