// The numbers page (issue 13): it shows a project's numbers from /api/numbers, a session recorded
// by a real visitor page shows within a second without a reload (pushed over /ws/sessions), and
// a number's link opens the sessions list filtered to the sessions behind it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KEY, openVisitor, setup, waitFor } from './harness.mjs';

let env;
let page;

/** One session posted as a recorder's unload beacon would. */
async function seed(id, { pages, errors = 0, event }) {
  const t0 = Date.now() - 2000;
  const events = [
    { type: 4, timestamp: t0, data: { href: pages[0], width: 1280, height: 800 } },
    { type: 2, timestamp: t0 + 1, data: { node: { type: 0, childNodes: [], id: 1 }, initialOffset: { top: 0, left: 0 } } },
  ];
  pages.slice(1).forEach((url, i) => events.push({ type: 5, timestamp: t0 + 3 + i, data: { tag: '$pageview', payload: { url } } }));
  for (let i = 0; i < errors; i++) {
    events.push({ type: 6, timestamp: t0 + 10 + i, data: { plugin: 'rrweb/console@1', payload: { level: 'error', payload: ['boom'], trace: [], source: 'console' } } });
  }
  if (event) events.push({ type: 5, timestamp: t0 + 20, data: { tag: event, payload: {} } });
  events.push({ type: 3, timestamp: t0 + 2000, data: { source: 2, type: 2, id: 1, x: 10, y: 10 } });
  const res = await fetch(`${env.hub.url}/api/sessions/${encodeURIComponent(id)}/events?key=${KEY}`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' },
    body: JSON.stringify({ type: 'events', seq: 1, events }),
  });
  assert.equal(res.status, 200, `seeding ${id}: ${await res.text()}`);
}

const card = (testid) => page.locator(`[data-testid="${testid}"] .value`).textContent();

before(async () => {
  env = await setup();
  await seed('n-pricing', { pages: ['https://shop.example/', 'https://shop.example/pricing'], errors: 1, event: 'signup' });
  await seed('n-home', { pages: ['https://shop.example/'] });
  await waitFor(async () => (await env.hub.json('/api/numbers?project=default')).sessions === 2, { message: 'two sessions counted' });
  page = await env.browser.newPage();
});

after(async () => {
  await env?.teardown();
});

test('the page shows the project\'s numbers, each a link', async () => {
  await page.goto(`${env.hub.url}/numbers`);
  await waitFor(async () => (await card('numbers-sessions')) === '2', { message: 'two sessions shown' });
  assert.equal(await card('numbers-error-rate'), '50 % (1)');
  const top = await page.locator('[data-testid="numbers-top-pages"] li').allTextContents();
  assert.deepEqual(top, ['https://shop.example/2 sessions', 'https://shop.example/pricing1 session']);
  const events = await page.locator('[data-testid="numbers-events"] li').allTextContents();
  assert.deepEqual(events, ['signup1 session']);
  // Today's bar holds both sessions.
  const bars = page.locator('[data-testid="numbers-day"]');
  assert.equal(await bars.count(), 30);
  assert.equal(await bars.last().locator('.day-count').textContent(), '2');
  // The main nav leads here.
  await page.goto(`${env.hub.url}/`);
  await page.click('[data-testid="nav-numbers"]');
  await page.waitForURL(`${env.hub.url}/numbers`);
  await waitFor(async () => (await card('numbers-sessions')) === '2', { message: 'the page opened from the nav' });
});

test('a new recorded session shows within a second, without a reload', async () => {
  await page.evaluate(() => { window.__sameDocument = true; });
  const visitor = await openVisitor(env.browser, env.site);
  // When the hub first counts the session, and when the page first shows it, both polled.
  let hubAt = 0;
  let pageAt = 0;
  await waitFor(async () => {
    const [n, shown] = await Promise.all([env.hub.json('/api/numbers?project=default'), card('numbers-sessions')]);
    const now = Date.now();
    if (!hubAt && n.sessions === 3) hubAt = now;
    if (!pageAt && shown === '3') pageAt = now;
    return hubAt && pageAt;
  }, { interval: 20, message: 'the new session counted by the hub and shown by the page' });
  const lag = pageAt - hubAt;
  console.log(`numbers page: the new session shown ${lag} ms after the hub counted it`);
  assert.ok(lag <= 1000, `shown ${lag} ms after the hub counted it`);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
  assert.equal(await card('numbers-active-now'), await page.evaluate(() => String(window.numbersShown().active_now)));
  await visitor.page.close();
});

test('a number\'s link opens the sessions behind it', async () => {
  await page.locator('[data-testid="numbers-events"] a').first().click();
  await page.waitForURL((u) => u.pathname === '/' && u.searchParams.get('event') === 'signup');
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('project'), 'default');
  await waitFor(async () => {
    const ids = await page.locator('[data-testid="session-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.sessionId));
    return JSON.stringify(ids) === JSON.stringify(['n-pricing']);
  }, { message: 'the sessions list filtered to the signup session' });
  await page.goBack();
  await waitFor(async () => (await card('numbers-sessions')) === '3', { message: 'back on the numbers' });
  await page.locator('[data-testid="numbers-error-rate"]').click();
  await page.waitForURL((u) => u.searchParams.get('has_errors') === 'true');
  await waitFor(async () => {
    const ids = await page.locator('[data-testid="session-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.sessionId));
    return JSON.stringify(ids) === JSON.stringify(['n-pricing']);
  }, { message: 'the sessions list filtered to the session with errors' });
});
