// The inline loader as the dashboard shows it: calls made before streamdom.js arrives are queued
// and replayed (the session is recorded under the id given to init), a hub that is down breaks
// nothing on the page, and the recorder leaves no uncaught error in the visitor's page across
// navigations and a hub restart.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KEY, envelopes, setup, sleep, startSite, waitFor } from './harness.mjs';

let env;
let site;
let snippet;

// Failed loads and sockets while the hub is down are logged by the browser itself, not thrown
// by any script; everything else counts.
const NETWORK = /favicon|status of 404|WebSocket connection to|ERR_CONNECTION_REFUSED|net::ERR_/;
const uncaught = () => env.browser.errors.filter((e) => !NETWORK.test(e));

before(async () => {
  env = await setup();
});

after(async () => {
  await site?.close();
  await env?.teardown();
});

// identify before init and track after it: the stub queues all three, the bundle replays them in order.
const INIT = "StreamDOM.identify('loader-user', { via: 'loader' }); StreamDOM.init({ sessionId: new URLSearchParams(location.search).get('sid') || undefined, maskAllInputs: false }); StreamDOM.track('after_init');";
const stored = async (id, text) => JSON.stringify(await envelopes(env.hub, id).catch(() => [])).includes(text);
const addText = (page, text) => page.evaluate((t) => {
  const p = document.createElement('p');
  p.textContent = t;
  document.getElementById('log').append(p);
}, text);

test('the empty sessions page shows the loader with this hub and key', async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.hub.url}/`);
  const shown = page.getByTestId('snippet');
  await waitFor(async () => (await shown.textContent()).includes('StreamDOM'), { message: 'the snippet' });
  snippet = await shown.textContent();
  assert.ok(snippet.includes(`"${env.hub.url}/streamdom.js?key=${KEY}"`), snippet);
  assert.ok(snippet.startsWith('<script>') && snippet.trimEnd().endsWith('</script>'), snippet);
  // A few hundred bytes, as the established tools' snippets.
  assert.ok(snippet.length < 600, `${snippet.length} bytes`);
  await page.close();
  site = await startSite(env.hub.url, { LOADER: snippet.replace('StreamDOM.init();', INIT) });
});

test('calls made before the bundle arrives are queued and replayed: the session is recorded under its id', async () => {
  const page = await env.browser.newPage();
  await page.goto(`${site.url}/loader1.html?sid=queued-1`);
  // The page's own script ran right after the snippet, while the stub held the three calls.
  assert.equal(await page.evaluate(() => window.__queued), 3);
  await waitFor(() => page.evaluate(() => typeof StreamDOM.init === 'function' && !('_q' in StreamDOM)), { message: 'the bundle to replace the stub' });
  await addText(page, 'recorded through the loader');
  await waitFor(() => stored('queued-1', 'recorded through the loader'), { message: 'the queued init to record the session' });
  const session = await env.hub.json('/api/sessions/queued-1');
  assert.equal(session.url, `${site.url}/loader1.html?sid=queued-1`);
  const custom = (await envelopes(env.hub, 'queued-1')).map((e) => e.event).filter((e) => e.type === 5).map((e) => [e.data.tag, e.data.payload]);
  assert.deepEqual(custom.slice(0, 2), [['$identify', { user_id: 'loader-user', traits: { via: 'loader' } }], ['after_init', {}]]);
  await page.close();
});

test('streamdom.js costs under 30 KB compressed on a first view and no body on a repeat view', async () => {
  const page = await env.browser.newPage();
  // Earlier tests loaded the script in this profile: start from an empty cache.
  await (await env.browser.context.newCDPSession(page)).send('Network.clearBrowserCache');
  const seen = [];
  page.on('requestfinished', async (req) => {
    if (!new URL(req.url()).pathname.startsWith('/streamdom')) return;
    const res = await req.response();
    seen.push({ status: res.status(), encoding: (await res.allHeaders())['content-encoding'], body: (await req.sizes()).responseBodySize });
  });
  await page.goto(`${site.url}/loader1.html?sid=bytes-1`);
  await waitFor(() => seen.length === 1, { message: 'the first load of streamdom.js' });
  await page.goto(`${site.url}/loader2.html?sid=bytes-1`);
  await waitFor(() => seen.length === 2, { message: 'the repeat load of streamdom.js' });
  const [first, repeat] = seen;
  console.log(`streamdom.js in Chromium: first view ${first.body} bytes ${first.encoding}, repeat view ${repeat.status} with ${repeat.body} body bytes`);
  assert.equal(first.status, 200);
  assert.equal(first.encoding, 'br');
  assert.ok(first.body > 0 && first.body <= 30 * 1024, `${first.body} bytes`);
  assert.equal(repeat.status, 304);
  assert.equal(repeat.body, 0);
  await page.close();
});

test('with the hub down the page runs on and nothing throws', async () => {
  await env.hub.stop();
  try {
    const page = await env.browser.newPage();
    await page.goto(`${site.url}/loader1.html?sid=hub-down`);
    assert.equal(await page.evaluate(() => window.__pageScriptRan), true);
    assert.equal(await page.evaluate(() => typeof StreamDOM.init), 'function');
    // Later calls queue too.
    await page.evaluate(() => StreamDOM.stop());
    await sleep(500);
    assert.deepEqual(uncaught(), []);
    await page.close();
  } finally {
    await env.hub.start();
  }
});

test('the recorder leaves no uncaught error across navigations and a hub restart', async () => {
  const page = await env.browser.newPage();
  const id = 'navigating-1';
  await page.goto(`${site.url}/loader1.html?sid=${id}`);
  await addText(page, 'first page');
  await waitFor(() => stored(id, 'first page'), { message: 'the first page stored' });
  await page.goto(`${site.url}/loader2.html?sid=${id}`);
  await addText(page, 'second page');
  await waitFor(() => stored(id, 'second page'), { message: 'the second page stored' });

  // The hub goes away while the visitor acts and moves on: the unload beacon and the socket
  // fail, and the next pages cannot load the script at all (only the loader's stub is there).
  await env.hub.stop();
  await addText(page, 'while the hub was down');
  // The tab goes to the background (headless Chromium never hides a page, so say it as the
  // browser would): the recorder hands its unacknowledged events to a keepalive POST that fails.
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await sleep(500);
  await page.goto(`${site.url}/loader1.html?sid=${id}`);
  assert.equal(await page.evaluate(() => window.__pageScriptRan), true);
  await page.goto(`${site.url}/loader2.html?sid=${id}`);
  await env.hub.start();
  // The next page records again, and sends what the page before the outage kept in storage.
  await page.goto(`${site.url}/loader1.html?sid=${id}`);
  await addText(page, 'after the restart');
  await waitFor(() => stored(id, 'after the restart'), { timeout: 15_000, message: 'the recorder back after the restart' });
  assert.ok(await stored(id, 'while the hub was down'), 'the change made as the hub went down is stored');
  // A restart under a page that is recording: its socket fails and reconnects.
  await env.hub.restart();
  await addText(page, 'after a second restart');
  await waitFor(() => stored(id, 'after a second restart'), { timeout: 15_000, message: 'the socket back after the second restart' });
  await page.goto(`${site.url}/loader2.html?sid=${id}`);
  await addText(page, 'last page');
  await waitFor(() => stored(id, 'last page'), { message: 'the last page stored' });
  await page.close();
  assert.deepEqual(uncaught(), []);
});

test('no page errors at all beyond the network failures of a stopped hub', () => {
  assert.deepEqual(uncaught(), []);
});
