// Unit tests of pages.ts: SPA navigations to a new URL are one `$pageview` each (URL masked), and
// visibility changes are reported once each, `unload` last.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PageTracker } from './pages';
import { MASKED, Redactor } from './redact';

/** A window with a location that history changes, as in a browser. */
function fakeWindow(href = 'https://shop.example/') {
  const win = new EventTarget() as EventTarget & { location: { href: string }; history: Record<string, unknown>; document: EventTarget & { title: string; visibilityState: string } };
  win.location = { href };
  const moved: unknown[] = [];
  win.history = {
    pushState(this: unknown, _s: unknown, _t: string, url?: string) { moved.push(this); if (url) win.location.href = new URL(url, win.location.href).href; return 'pushed'; },
    replaceState(_s: unknown, _t: string, url?: string) { if (url) win.location.href = new URL(url, win.location.href).href; },
  };
  win.document = Object.assign(new EventTarget(), { title: 'Home', visibilityState: 'visible' });
  return { win, moved };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function setup(win: ReturnType<typeof fakeWindow>['win']) {
  const got: [string, unknown][] = [];
  const t = new PageTracker((tag, payload) => got.push([tag, payload]), (u) => new Redactor().url(u), win as unknown as Window);
  t.install();
  return { got, t };
}

describe('PageTracker', () => {
  it('reports a pushState to a new URL once, with its title and secrets masked, and leaves history working', async () => {
    const { win, moved } = fakeWindow();
    const { got } = setup(win);
    const history = win.history as unknown as History;
    assert.equal((history.pushState as unknown as (...a: unknown[]) => unknown).call(history, {}, '', '/cart?token=t1'), 'pushed');
    assert.equal(moved[0], history, 'called on history itself');
    win.document.title = 'Cart';
    // The same task replaces the URL again: one visit, the final URL.
    history.replaceState({}, '', '/cart?token=t1&step=2');
    await tick();
    history.replaceState({ scroll: 1 }, '', '/cart?token=t1&step=2');
    await tick();
    assert.deepEqual(got, [['$pageview', { url: `https://shop.example/cart?token=${MASKED}&step=2`, title: 'Cart' }]]);
  });

  it('reports back/forward and hash changes to a new URL', async () => {
    const { win } = fakeWindow();
    const { got } = setup(win);
    win.location.href = 'https://shop.example/#reviews';
    win.dispatchEvent(new Event('hashchange'));
    await tick();
    win.location.href = 'https://shop.example/';
    win.dispatchEvent(new Event('popstate'));
    await tick();
    win.dispatchEvent(new Event('popstate'));
    await tick();
    assert.deepEqual(got.map(([, p]) => (p as { url: string }).url), ['https://shop.example/#reviews', 'https://shop.example/']);
  });

  it('reports hidden, visible and unload once each, and nothing after unload', () => {
    const { win } = fakeWindow();
    const { got } = setup(win);
    const visibility = (state: string) => { win.document.visibilityState = state; win.document.dispatchEvent(new Event('visibilitychange')); };
    const pagehide = (persisted: boolean) => win.dispatchEvent(Object.assign(new Event('pagehide'), { persisted }));
    visibility('hidden');
    pagehide(true); // into the bfcache: already hidden
    win.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    visibility('visible');
    pagehide(false);
    visibility('hidden');
    assert.deepEqual(got.map(([tag, p]) => [tag, (p as { state: string }).state]), [
      ['$visibility', 'hidden'], ['$visibility', 'visible'], ['$visibility', 'unload'],
    ]);
  });

  it('says hidden at once for a page that starts hidden, and stops on uninstall', async () => {
    const { win } = fakeWindow();
    win.document.visibilityState = 'hidden';
    const { got, t } = setup(win);
    assert.deepEqual(got, [['$visibility', { state: 'hidden' }]]);
    const wrapped = win.history.pushState;
    t.uninstall();
    assert.notEqual(win.history.pushState, wrapped);
    (win.history.pushState as (...a: unknown[]) => unknown)({}, '', '/after');
    await tick();
    assert.equal(got.length, 1);
  });
});
