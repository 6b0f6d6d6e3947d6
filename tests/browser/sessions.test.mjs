// The sessions page (issue 16): filters and sort through the UI into the URL, reload and
// back/forward restore the same rows, paging with the cursor, clearing filters on an empty
// result, details one click away, hostile recorded strings shown as text, and live updates with
// the filters applied. Sessions are seeded through the recorder's real POST endpoint.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KEY, openVisitor, setup, waitFor } from './harness.mjs';

let env;
let page;

const UA = {
  chromeLinux: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  firefoxWin: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
};

/** One recorded session, posted as a recorder's unload beacon would (rrweb events in one frame). */
async function seed(id, { user, traits, pages = ['https://shop.example/'], errors = 0, event, spanMs = 1000, ua = UA.chromeLinux }) {
  const t0 = Date.now() - spanMs;
  const events = [
    { type: 4, timestamp: t0, data: { href: pages[0], width: 1280, height: 800 } },
    { type: 2, timestamp: t0 + 1, data: { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { top: 0, left: 0 } } },
  ];
  if (user) events.push({ type: 5, timestamp: t0 + 2, data: { tag: '$identify', payload: { user_id: user, traits: traits ?? {} } } });
  pages.slice(1).forEach((url, i) => events.push({ type: 5, timestamp: t0 + 3 + i, data: { tag: '$pageview', payload: { url, title: 'page' } } }));
  for (let i = 0; i < errors; i++) {
    events.push({ type: 6, timestamp: t0 + 10 + i, data: { plugin: 'rrweb/console@1', payload: { level: 'error', payload: [`boom ${i}`], trace: [], source: 'console' } } });
  }
  if (event) events.push({ type: 5, timestamp: t0 + 20, data: { tag: event, payload: {} } });
  events.push({ type: 3, timestamp: t0 + spanMs, data: { source: 2, type: 2, id: 1, x: 10, y: 10 } });
  const res = await fetch(`${env.hub.url}/api/sessions/${encodeURIComponent(id)}/events?key=${KEY}`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain', 'User-Agent': ua },
    body: JSON.stringify({ type: 'events', seq: 1, events }),
  });
  assert.equal(res.status, 200, `seeding ${id}: ${await res.text()}`);
}

const SEEDED = ['s-alice', 's-bob', 's-anon', 's-carol', 's-hostile'];

before(async () => {
  env = await setup();
  await seed('s-alice', { user: 'alice', traits: { plan: 'pro' }, pages: ['https://shop.example/', 'https://shop.example/pricing'], errors: 2, spanMs: 120_000 });
  await seed('s-bob', { user: 'bob', traits: { plan: 'free' }, pages: ['https://shop.example/checkout'], spanMs: 30_000, ua: UA.firefoxWin });
  await seed('s-anon', { spanMs: 5_000, ua: UA.safariIphone });
  await seed('s-carol', { user: 'carol', event: 'signup', spanMs: 60_000 });
  await seed('s-hostile', { user: '<img src=x onerror="window.__pwned=1">', pages: ['javascript:window.__pwned=2'], traits: { note: '<b onclick="window.__pwned=3">x</b>' } });
  // Ended (2 s idle timeout in the harness): the list has no live session to wait for.
  await waitFor(async () => {
    const { sessions } = await env.hub.json('/api/sessions?all=true&limit=100');
    return sessions.length === SEEDED.length && sessions.every((s) => !s.active);
  }, { timeout: 20_000, message: 'the seeded sessions stored and ended' });
  page = await env.browser.newPage();
});

after(async () => {
  await env?.teardown();
});

/** The ids of the rows shown, in order (the list is virtual: all fit on the test's screen). */
const shownIds = () => page.locator('[data-testid="session-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.sessionId));
const search = () => new URL(page.url()).search;
/** What the hub answers for the page URL's view: the rows the page must show. */
async function hubIds(pageSearch) {
  const p = new URLSearchParams(pageSearch);
  p.delete('cursor');
  if (!p.has('limit')) p.set('limit', '100');
  p.set('all', 'true');
  const cursor = new URLSearchParams(pageSearch).get('cursor');
  if (cursor) p.set('cursor', cursor);
  return (await env.hub.json(`/api/sessions?${p}`)).sessions.map((s) => s.id);
}
async function rowsSettle(expected, message) {
  return waitFor(async () => {
    const ids = await shownIds();
    return JSON.stringify(ids) === JSON.stringify(expected) ? ids : null;
  }, { message: `${message}: rows ${JSON.stringify(expected)} (shown: ${JSON.stringify(await shownIds())})` });
}

test('the page lists every seeded session, newest first, with its details one click away', async () => {
  await page.goto(`${env.hub.url}/`);
  await rowsSettle([...SEEDED].reverse(), 'newest first');
  assert.equal(await page.locator('#count').innerText(), '5 sessions');
  const cell = (id, testid) => page.locator(`[data-testid="session-row"][data-session-id="${id}"] [data-testid="${testid}"]`).innerText();
  assert.equal(await cell('s-alice', 'session-user'), 'alice');
  assert.equal(await cell('s-anon', 'anonymous'), 'anonymous');
  assert.equal(await cell('s-alice', 'pages'), '2');
  assert.equal(await cell('s-alice', 'errors'), '2');
  assert.equal(await cell('s-bob', 'errors'), '0');
  assert.equal(await cell('s-alice', 'duration'), '2:00', 'first to last event');
  assert.equal(await page.locator('[data-session-id="s-bob"] [data-testid="device"]').getAttribute('title'), 'desktop · Firefox · Windows 10');
  assert.match(await page.locator('[data-session-id="s-anon"] [data-testid="device"]').getAttribute('title'), /^mobile · /);
  const bob = page.locator('[data-testid="session-row"][data-session-id="s-bob"]');
  await bob.locator('[data-testid="session-details-toggle"]').click();
  const details = page.locator('[data-testid="session-details"]');
  await details.waitFor({ state: 'visible' });
  assert.equal(await details.locator('[data-testid="details-ua"]').innerText(), UA.firefoxWin);
  assert.equal(await details.locator('[data-testid="details-id"]').innerText(), 's-bob (default)');
  assert.equal(await details.locator('[data-testid="details-watch"]').getAttribute('href'), '/sessions/s-bob?project=default');
  await details.locator('[data-testid="details-close"]').click();
  await details.waitFor({ state: 'hidden' });
  // Every page visited, from GET /api/sessions/{id}.
  await page.locator('[data-session-id="s-alice"] [data-testid="session-details-toggle"]').click();
  await waitFor(async () => (await details.locator('[data-testid="details-pages"] a').allInnerTexts()).join(' ') === 'https://shop.example/ https://shop.example/pricing', { message: 'alice\'s pages in her details' });
  assert.equal(await details.locator('[data-testid="details-user"]').innerText(), 'alice');
  await details.locator('[data-testid="details-close"]').click();
});

test('recorded strings are shown as text and a non-http URL is never a link', async () => {
  const row = page.locator('[data-testid="session-row"][data-session-id="s-hostile"]');
  await row.locator('[data-testid="session-details-toggle"]').click();
  const details = page.locator('[data-testid="session-details"]');
  await details.waitFor({ state: 'visible' });
  assert.equal(await details.locator('[data-testid="details-url"]').innerText(), 'javascript:window.__pwned=2');
  assert.equal(await details.locator('[data-testid="details-url"] a').count(), 0, 'no link for javascript:');
  assert.equal(await page.locator('img[src="x"], b[onclick]').count(), 0, 'no recorded markup became elements');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await details.locator('[data-testid="details-close"]').click();
});

test('filters and sort set through the UI live in the URL; reload and back/forward restore the same rows', async () => {
  await page.goto(`${env.hub.url}/`);
  await rowsSettle([...SEEDED].reverse(), 'the default view');
  await page.selectOption('[data-testid="sort"]', 'duration');
  await waitFor(async () => search() === '?sort=duration', { message: 'sort in the URL' });
  await rowsSettle(['s-alice', 's-carol', 's-bob', 's-anon', 's-hostile'], 'longest first');
  await page.selectOption('[data-testid="order"]', 'asc');
  await waitFor(async () => search() === '?sort=duration&order=asc', { message: 'order in the URL' });
  await page.selectOption('[data-testid="filter-status"]', 'ended');
  await page.fill('[data-testid="filter-min-duration"]', '20');
  await page.press('[data-testid="filter-min-duration"]', 'Enter');
  const filtered = '?min_duration_ms=20000&status=ended&sort=duration&order=asc';
  await waitFor(async () => search() === filtered, { message: `the URL ${filtered} (is ${search()})` });
  const rows = await rowsSettle(['s-bob', 's-carol', 's-alice'], 'ended, 20 s or longer, shortest first');
  assert.deepEqual(await hubIds(filtered), rows, 'what the hub answers for the same query');

  await page.reload();
  await rowsSettle(rows, 'the same rows after a reload');
  assert.equal(await page.inputValue('[data-testid="filter-min-duration"]'), '20');
  assert.equal(await page.inputValue('[data-testid="filter-status"]'), 'ended');
  assert.equal(await page.inputValue('[data-testid="sort"]'), 'duration');
  assert.equal(await page.inputValue('[data-testid="order"]'), 'asc');

  // Back: status=ended alone (the duration was the last filter set), then the sort alone.
  await page.goBack();
  await waitFor(async () => search() === '?status=ended&sort=duration&order=asc', { message: `one filter back (is ${search()})` });
  await rowsSettle(['s-hostile', 's-anon', 's-bob', 's-carol', 's-alice'], 'every ended session, shortest first');
  assert.equal(await page.inputValue('[data-testid="filter-min-duration"]'), '', 'the form follows the URL');
  await page.goBack();
  await waitFor(async () => search() === '?sort=duration&order=asc', { message: 'back to the sort alone' });
  assert.equal(await page.inputValue('[data-testid="filter-status"]'), '');
  await page.goForward();
  await page.goForward();
  await waitFor(async () => search() === filtered, { message: 'forward to the filtered view' });
  await rowsSettle(rows, 'the filtered rows again');
});

test('the search box, text filters and checkbox round-trip through the URL', async () => {
  await page.goto(`${env.hub.url}/`);
  await page.fill('[data-testid="filter-user"]', 'alice');
  await page.check('[data-testid="filter-has-errors"]');
  await page.fill('[data-testid="filter-q"]', 'pricing');
  await waitFor(async () => search() === '?q=pricing&user=alice&has_errors=true', { message: `q, user and has_errors in the URL (is ${search()})` });
  const rows = await rowsSettle(['s-alice'], 'alice\'s session with errors on /pricing');
  await page.reload();
  await rowsSettle(rows, 'the same rows after a reload');
  assert.equal(await page.inputValue('[data-testid="filter-user"]'), 'alice');
  assert.equal(await page.inputValue('[data-testid="filter-q"]'), 'pricing');
  assert.equal(await page.isChecked('[data-testid="filter-has-errors"]'), true);
});

test('an empty result says which filters and clears them', async () => {
  await page.goto(`${env.hub.url}/?user=nobody-at-all&has_errors=true`);
  assert.deepEqual(await hubIds('?user=nobody-at-all&has_errors=true'), []);
  const why = page.locator('[data-testid="empty-filtered"]');
  await why.waitFor({ state: 'visible' });
  assert.equal(await page.locator('[data-testid="empty-why"]').innerText(), 'user is “nobody-at-all”, has errors');
  assert.equal(await page.locator('[data-testid="snippet"]').isVisible(), false);
  await page.click('[data-testid="clear-filters"]');
  await waitFor(async () => search() === '', { message: 'the filters gone from the URL' });
  await rowsSettle([...SEEDED].reverse(), 'every session again');
  await page.goBack();
  await why.waitFor({ state: 'visible' });

  // A date range from the form: nothing started after the next year began.
  await page.goto(`${env.hub.url}/`);
  await rowsSettle([...SEEDED].reverse(), 'every session');
  const year = new Date().getFullYear() + 1;
  await page.fill('[data-testid="filter-from"]', `${year}-01-01T00:00`);
  await page.press('[data-testid="filter-from"]', 'Enter');
  const from = new Date(year, 0, 1).toISOString();
  await waitFor(async () => new URLSearchParams(search()).get('from') === from, { message: `from=${from} in the URL (is ${search()})` });
  await why.waitFor({ state: 'visible' });
  assert.equal(await page.locator('[data-testid="empty-why"]').innerText(), `started from ${from}`);
  await page.reload();
  assert.equal(await page.inputValue('[data-testid="filter-from"]'), `${year}-01-01T00:00`);
  await why.waitFor({ state: 'visible' });
});

test('pages come on demand with the cursor, which the URL keeps as the position', async () => {
  await page.goto(`${env.hub.url}/?limit=2`);
  const all = [...SEEDED].reverse();
  await rowsSettle(all.slice(0, 2), 'the first page');
  assert.equal(await page.locator('#count').innerText(), '2+ sessions');
  await page.click('[data-testid="load-more"]');
  await rowsSettle(all.slice(0, 4), 'two pages');
  const cursor = new URLSearchParams(search()).get('cursor');
  assert.ok(cursor, `the URL has the cursor of the page loaded last (${search()})`);
  await page.reload();
  await rowsSettle(all.slice(2, 4), 'the position: the page loaded last');
  await page.locator('[data-testid="deep-page"]').waitFor({ state: 'visible' });
  await page.click('[data-testid="load-more"]');
  await rowsSettle(all.slice(2), 'the rest');
  assert.equal(await page.locator('[data-testid="load-more"]').isHidden(), true, 'no further page');
  await page.click('[data-testid="to-newest"]');
  await rowsSettle(all.slice(0, 2), 'the first page again');
  assert.equal(search(), '?limit=2');
});

test('the list stays live with its filters: a live session joins a status=live view and leaves when it ends', async () => {
  await page.goto(`${env.hub.url}/?status=live`);
  await waitFor(async () => (await page.locator('#count').innerText()).endsWith('sessions'), { message: 'the first page' });
  const before = await shownIds();
  const { page: visitor, id } = await openVisitor(env.browser, env.site);
  const row = page.locator(`[data-testid="session-row"][data-session-id="${id}"]`);
  await row.locator('[data-testid="live-badge"]').waitFor();
  assert.deepEqual((await shownIds()).filter((x) => x !== id), before.filter((x) => x !== id));
  await visitor.close();
  await waitFor(async () => (await row.count()) === 0, { timeout: 20_000, message: 'the ended session to leave the live view' });
  // In a view of ended sessions it joins when it ends.
  await page.goto(`${env.hub.url}/?status=ended&sort=started`);
  await waitFor(async () => (await shownIds()).includes(id), { message: 'the ended session listed' });
});

test('no page errors', () => {
  const errors = env.browser.errors.filter((e) => !/favicon|status of 404/.test(e));
  assert.deepEqual(errors, []);
});
