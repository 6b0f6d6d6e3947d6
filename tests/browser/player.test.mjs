// The watch page's context and states (issue 12): every state of `player-state` reached against
// the real hub (unknown and invalid ids, no snapshot, live, rewound, visitor left, reconnecting
// while the hub restarts, ended, ?t past the end); timeline markers that seek; the current URL
// following navigation; the session details. Scripted sessions are sent through a real recorder
// socket from a page of the test site, starting from a real page's snapshot.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Hub, addText, findNode, freePort, launchBrowser, openRawRecorder, openVisitor, recordedSnapshot, replayText, setup, signIn, sleep, startSite, stateOf, untilState, waitFor } from './harness.mjs';

let env;
/** A real page's Meta + FullSnapshot, as the real recorder sent them. */
let snapshot;
/** Node ids in that snapshot: scripted clicks and inputs must name real nodes. */
let bodyId;
let inputId;

before(async () => {
  env = await setup();
  snapshot = await recordedSnapshot(env);
  bodyId = findNode(snapshot[snapshot.length - 1].data.node, 'body').id;
  inputId = findNode(snapshot[snapshot.length - 1].data.node, 'input').id;
});

after(async () => {
  await env?.teardown();
});

/** A recorder socket from the test site, starting from the real page's snapshot. */
const rawRecorder = (id) => openRawRecorder(env, id, snapshot);

const custom = (tag, payload) => ({ tag, payload });
const ended = async (id) => !(await env.hub.json(`/api/sessions/${id}`)).active;

test('an unknown session id and an invalid one say "not found" and stop trying', async () => {
  const watch = await env.browser.newPage();
  let sockets = 0;
  watch.on('websocket', () => sockets++);
  await watch.goto(`${env.hub.url}/sessions/nobody-here`);
  assert.match(await untilState(watch, 'not-found'), /Session not found/);
  assert.equal(await watch.locator('[data-testid="state-sessions"]').getAttribute('href'), '/');
  const seen = sockets;
  await sleep(1500);
  assert.equal(sockets, seen, 'no more viewer sockets once the page knows');
  await watch.goto(`${env.hub.url}/sessions/${encodeURIComponent('not a valid id!')}`);
  await untilState(watch, 'not-found');
  await watch.close();
});

test('a session without a snapshot says so, live and after it ended', async () => {
  const id = 'player-no-snapshot';
  const rec = await rawRecorder(id);
  await rec.send([rec.at(0, 5, custom('hello', {}))]);
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  assert.match(await untilState(watch, 'no-snapshot'), /No snapshot yet/);
  await rec.close();
  await waitFor(() => ended(id), { message: 'the session to end' });
  await waitFor(async () => /nothing to replay/.test(await stateOf(watch).innerText()), { message: 'the ended message' });
  assert.equal(await stateOf(watch).getAttribute('data-state'), 'no-snapshot');
  await watch.close();
});

test('markers for a scripted session: each kind, hover says what, a click seeks there', async () => {
  const id = 'player-markers';
  const rec = await rawRecorder(id);
  const click = (ms, x = 100, y = 100) => rec.at(ms, 3, { source: 2, type: 2, id: bodyId, x, y });
  await rec.send([
    ...rec.snapshot(),
    click(1000, 400, 300),
    click(3000), click(3300, 110, 105), click(3600),
    rec.at(5000, 3, { source: 5, id: inputId, text: 'hello', isChecked: false }),
    rec.at(7000, 6, { plugin: 'rrweb/console@1', payload: { level: 'error', payload: ['"boom <b>not bold</b>"'], trace: ['at x (y.js:1:1)'], source: 'uncaught' } }),
    rec.at(9000, 5, custom('checkout', { total: 42 })),
    rec.at(11_000, 5, custom('$pageview', { url: 'https://shop.example/cart', title: 'Cart' })),
    rec.at(12_000, 5, custom('$identify', { user_id: 'user-42', traits: {} })),
    rec.at(13_000, 3, { source: 1, positions: [{ x: 1, y: 1, id: bodyId, timeOffset: 0 }] }),
  ]);
  await waitFor(() => rec.durable(), { message: 'the events stored' });
  await rec.close();
  await waitFor(() => ended(id), { message: 'the session to end' });

  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  await untilState(watch, 'ended');
  const markers = watch.locator('[data-testid="timeline-marker"]');
  await waitFor(async () => (await markers.count()) >= 7, { message: 'the markers' });
  const kinds = await markers.evaluateAll((els) => els.map((e) => e.dataset.kind));
  for (const k of ['page', 'click', 'rage-click', 'input', 'error', 'custom']) assert.ok(kinds.includes(k), `a ${k} marker in ${kinds}`);
  assert.equal(kinds.filter((k) => k === 'rage-click').length, 1, 'a burst counts once');
  assert.equal(kinds.filter((k) => k === 'click').length, 1, 'the lone click; the burst\'s clicks are the rage click');

  const error = watch.locator('[data-testid="timeline-marker"][data-kind="error"]');
  const label = await error.getAttribute('data-label');
  assert.match(label, /^Error: "boom <b>not bold<\/b>" · 0:07$/);
  // Hover shows what (the marker's ::after box, from the label as text).
  const onHover = () => error.evaluate((e) => { const s = getComputedStyle(e, '::after'); return s.display !== 'none' && s.content; });
  assert.ok(['none', 'normal', false].includes(await onHover()), 'nothing shown before the hover');
  await error.hover();
  assert.equal(await onHover(), JSON.stringify(label));
  await error.click();
  const t = await waitFor(async () => {
    const t = await watch.evaluate(() => window.__streamdom.currentTimeMs());
    return Math.abs(t - 7000) < 300 && t;
  }, { message: 'the replay at the error' }).catch(async (e) => {
    throw new Error(`${e.message}: at ${await watch.evaluate(() => [window.__streamdom.currentTimeMs(), window.__streamdom.state])}`);
  });
  assert.ok(t > 0);

  // No input between 0:05 and 0:13: a shaded stretch, and a click on it skips to its end.
  const stretch = watch.locator('.inactive[title^="Inactive 0:05 – 0:13"]');
  const box = await stretch.boundingBox();
  // At 0:06, where no marker lies over it.
  await stretch.click({ position: { x: box.width * 0.12, y: box.height / 2 } });
  await waitFor(async () => Math.abs((await watch.evaluate(() => window.__streamdom.currentTimeMs())) - 13_000) < 300, { message: 'the inactive stretch skipped' });

  // The $pageview's marker: the URL bar shows the page there.
  await watch.locator('[data-testid="timeline-marker"][data-kind="page"]').last().click();
  await waitFor(async () => (await watch.locator('[data-testid="current-url"]').innerText()) === 'https://shop.example/cart', { message: 'the URL after the $pageview' });
  await watch.locator('[data-testid="timeline-marker"][data-kind="page"]').first().click();
  await waitFor(async () => /\/index\.html$/.test(await watch.locator('[data-testid="current-url"]').innerText()), { message: 'the URL of the first page' });

  const details = watch.locator('[data-testid="session-details"]');
  const field = (name) => details.locator(`[data-field="${name}"]`).innerText();
  assert.equal(await field('user'), 'user-42');
  assert.equal(await field('pages'), '2');
  assert.equal(await field('browser'), 'Chrome');
  assert.equal(await field('os'), 'Linux');
  assert.equal(await field('device'), 'Desktop');
  assert.match(await field('start'), /\d\d:\d\d:\d\d/);
  assert.equal(await field('duration'), '0:13');

  // A link past the end opens at the end, not at 27:46:39.
  await watch.goto(`${env.hub.url}/sessions/${id}?t=99999999`);
  await untilState(watch, 'ended');
  const at = await waitFor(async () => {
    const t = await watch.evaluate(() => window.__streamdom.currentTimeMs());
    return t > 0 && t;
  }, { message: 'the replay opened' });
  assert.ok(at <= 13_000 + 50, `clamped to the end: ${at} ms`);
  assert.equal(await watch.locator('#time').innerText(), '0:13 / 0:13');
  await watch.close();
});

test('live, rewound, visitor left (hidden, back, unload) and ended, as they happen', async () => {
  const id = 'player-visitor';
  const rec = await rawRecorder(id);
  await rec.send(rec.snapshot());
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  assert.match(await untilState(watch, 'live'), /Live/);
  const vis = (state) => rec.send([{ type: 5, timestamp: Date.now(), data: custom('$visibility', { state }) }]);

  await vis('hidden');
  assert.match(await untilState(watch, 'visitor-left'), /visitor left/);
  await vis('visible');
  await untilState(watch, 'live');

  await watch.locator('[data-testid="play-toggle"]').click();
  await untilState(watch, 'rewound');
  await waitFor(async () => /^behind live by \d+ s$/.test(await watch.locator('[data-testid="latency"]').innerText()), { message: 'the rewound read-out' });
  await watch.locator('[data-testid="state-go-live"]').click();
  await untilState(watch, 'live');

  await vis('unload');
  await untilState(watch, 'visitor-left');
  await rec.close();
  assert.match(await untilState(watch, 'ended'), /ended/);
  await watch.close();
});

test('the hub stopping shows reconnecting without a delay figure, and live again once it is back', async () => {
  const { page: visitor, id } = await openVisitor(env.browser, env.site);
  await addText(visitor, 'before the outage');
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  await waitFor(async () => (await replayText(watch)).includes('before the outage'), { message: 'the live replay' });
  await untilState(watch, 'live');
  // The URL bar follows the visitor's navigation (it is drawn on the page's next render tick).
  await waitFor(async () => /\/index\.html$/.test(await watch.locator('[data-testid="current-url"]').innerText()), { message: 'the URL of the first page' });

  await env.hub.stop();
  assert.match(await untilState(watch, 'reconnecting'), /unreachable/);
  assert.equal(await watch.locator('[data-testid="live-badge"]').innerText(), 'reconnecting');
  assert.doesNotMatch(await watch.locator('[data-testid="latency"]').innerText(), /\d/);
  await env.hub.start();
  await untilState(watch, 'live', 30_000);
  assert.equal(await watch.locator('[data-testid="live-badge"]').innerText(), 'LIVE');

  await visitor.click('#next');
  await waitFor(async () => /\/page2\.html$/.test(await watch.locator('[data-testid="current-url"]').innerText()), { timeout: 15_000, message: 'the URL after navigating' });
  await waitFor(async () => (await watch.locator('[data-testid="session-details"] [data-field="pages"]').innerText()) === '2', { message: 'two pages in the details' });
  await watch.close();
  await visitor.close();
});

test('the event feed follows a live session, pauses and resumes with nothing missing, filters, searches and seeks', async () => {
  const id = 'player-feed';
  const rec = await rawRecorder(id);
  await rec.send(rec.snapshot());
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  await untilState(watch, 'live');
  const feed = watch.locator('[data-testid="event-feed"]');
  const rows = feed.locator('[data-testid="event-row"]');
  const held = () => watch.evaluate(() => window.__streamdom.events.length);
  const lastSeq = () => watch.evaluate(() => window.__streamdom.events.at(-1).seq);
  const rowSeqs = () => rows.evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
  const tick = (i) => ({ type: 5, timestamp: Date.now(), data: custom(`tick-${i}`, { n: i }) });

  for (let i = 0; i < 5; i++) await rec.send(Array.from({ length: 40 }, (_, k) => tick(i * 40 + k)));
  // Following: the newest event is the bottom row, and every event is a row of the list.
  await waitFor(async () => (await held()) === snapshot.length + 200 && (await rowSeqs()).includes(await lastSeq()), { message: 'the feed at the newest event' });
  assert.equal(Number(await feed.getAttribute('data-count')), await held());
  assert.ok((await rows.count()) < 60, `only the rows in view exist (${await rows.count()})`);

  const pause = watch.locator('[data-testid="event-feed-pause"]');
  await pause.click();
  const scrollTop = () => watch.locator('#feed-scroll').evaluate((e) => e.scrollTop);
  const before = await scrollTop();
  await rec.send(Array.from({ length: 20 }, (_, k) => tick(1000 + k)));
  await waitFor(async () => (await pause.innerText()) === 'Resume (20 new)', { message: 'the count of what arrived while paused' });
  assert.equal(await scrollTop(), before, 'a paused feed stays where it is');
  await pause.click();
  await waitFor(async () => (await rowSeqs()).includes(await lastSeq()), { message: 'the feed back at the newest' });
  assert.equal(Number(await feed.getAttribute('data-count')), snapshot.length + 220, 'nothing missing');

  await watch.locator('[data-testid="event-search"]').fill('tick-1007');
  await waitFor(async () => (await rows.count()) === 1, { message: 'one row for the search' });
  assert.match(await rows.first().innerText(), /tick-1007/);
  await watch.locator('[data-testid="event-search"]').fill('');
  await rec.send([{ type: 6, timestamp: Date.now(), data: { plugin: 'rrweb/console@1', payload: { level: 'error', payload: ['"<img src=x onerror=alert(1)>"'], trace: [], source: 'console' } } }]);
  await watch.locator('#feed-kind').selectOption('error');
  await waitFor(async () => (await rows.count()) === 1, { message: 'one error row' });

  // A click seeks to the event and shows its JSON, as text.
  await rows.first().click();
  await untilState(watch, 'rewound');
  const json = watch.locator('[data-testid="event-json"]');
  assert.match(await json.innerText(), /"plugin": "rrweb\/console@1"/);
  assert.equal(await json.locator('img').count(), 0);
  await rec.close();
  await watch.close();
});

test('a console error and a failed fetch show in their panels at their moment, filter, and seek', async () => {
  const id = 'player-panels';
  const rec = await rawRecorder(id);
  const consoleEv = (ms, level, text) => rec.at(ms, 6, { plugin: 'rrweb/console@1', payload: { level, payload: [JSON.stringify(text)], trace: ['at pay (shop.js:10:5)'], source: 'console' } });
  const request = (ms, status, url, error = null) => ({ initiator: 'fetch', method: 'POST', url, status, start: rec.at(ms).timestamp, duration: 30, request_size: 2, response_size: status ? 10 : null, error });
  await rec.send([
    ...rec.snapshot(),
    consoleEv(2000, 'log', 'cart loaded'),
    consoleEv(4000, 'error', 'payment <script>failed</script>'),
    rec.at(6030, 6, { plugin: 'streamdom/network@1', payload: { requests: [request(6000, 0, 'https://api.example/pay', 'Failed to fetch')] } }),
    rec.at(8030, 6, { plugin: 'streamdom/network@1', payload: { requests: [request(8000, 200, 'https://api.example/cart')] } }),
    rec.at(10_000, 3, { source: 1, positions: [{ x: 1, y: 1, id: bodyId, timeOffset: 0 }] }),
  ]);
  await waitFor(() => rec.durable(), { message: 'the events stored' });
  await rec.close();
  await waitFor(() => ended(id), { message: 'the session to end' });

  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}?t=5000`);
  await untilState(watch, 'ended');
  const consoleRows = watch.locator('[data-testid="console-panel"] [data-testid="console-row"]');
  const networkRows = watch.locator('[data-testid="network-panel"] [data-testid="network-row"]');
  await waitFor(async () => (await consoleRows.count()) === 2 && (await networkRows.count()) === 2, { message: 'the panels filled' });
  // At 0:05 the error (0:04) is the console's current row, and no request has started yet.
  await waitFor(async () => (await watch.locator('[data-testid="console-row"].current').innerText()).includes('payment'), { message: 'the error highlighted at 0:05' });
  assert.equal(await watch.locator('[data-testid="network-row"].current').count(), 0);
  assert.equal(await consoleRows.nth(1).locator('script').count(), 0, 'recorded text stays text');
  assert.match(await consoleRows.nth(1).innerText(), /0:04\s+"payment <script>failed<\/script>"/);

  await watch.locator('[data-testid="network-panel"] select').selectOption('failed');
  await waitFor(async () => (await networkRows.count()) === 1, { message: 'only the failed request' });
  assert.match(await networkRows.first().innerText(), /POST https:\/\/api\.example\/pay failed \(Failed to fetch\) 30 ms/);
  await networkRows.first().click();
  await waitFor(async () => Math.abs((await watch.evaluate(() => window.__streamdom.currentTimeMs())) - 6000) < 300, { message: 'the replay at the failed request' });
  await waitFor(async () => (await watch.locator('[data-testid="network-row"].current').count()) === 1, { message: 'the request highlighted' });

  await watch.locator('[data-testid="console-panel"] select').selectOption('error');
  await waitFor(async () => (await consoleRows.count()) === 1, { message: 'only the error' });
  await watch.close();
});

test('keyboard: space, ←/→ 5 s, speed, help, fullscreen; L goes live', async () => {
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/player-markers?t=2000`);
  await untilState(watch, 'ended');
  const at = () => watch.evaluate(() => window.__streamdom.currentTimeMs());
  await waitFor(async () => Math.abs((await at()) - 2000) < 100, { message: 'held at 0:02' });
  await watch.keyboard.press('ArrowRight');
  await waitFor(async () => Math.abs((await at()) - 7000) < 100, { message: '→ to 0:07' });
  await watch.keyboard.press('ArrowLeft');
  await watch.keyboard.press('ArrowLeft');
  await waitFor(async () => (await at()) < 100, { message: '← twice to the start' });
  for (const speed of [2, 8, 1, 4]) {
    await watch.keyboard.press(String(speed));
    assert.equal(await watch.evaluate(() => window.__streamdom.speed), speed);
    assert.equal(await watch.evaluate(() => window.__streamdom.replayer.config.speed), speed, 'the replay plays at that speed');
  }
  await watch.keyboard.press(' ');
  await waitFor(() => watch.evaluate(() => window.__streamdom.state === 'replay'), { message: 'space plays' });
  await watch.keyboard.press(' ');
  await waitFor(() => watch.evaluate(() => window.__streamdom.state === 'paused'), { message: 'space pauses' });
  const help = watch.locator('[data-testid="help-overlay"]');
  await watch.keyboard.press('?');
  await help.waitFor({ state: 'visible' });
  assert.match(await help.innerText(), /Go live/);
  await watch.keyboard.press('Escape');
  await help.waitFor({ state: 'hidden' });
  await watch.keyboard.press('f');
  await waitFor(() => watch.evaluate(() => document.fullscreenElement?.classList.contains('stage')), { message: 'fullscreen' });
  // Typing in the search box is typing, not shortcuts.
  await watch.locator('[data-testid="event-search"]').pressSequentially('l 4');
  assert.equal(await watch.evaluate(() => window.__streamdom.speed), 4);
  await watch.close();

  const { page: visitor, id } = await openVisitor(env.browser, env.site);
  const live = await env.browser.newPage();
  await live.goto(`${env.hub.url}/sessions/${id}`);
  await untilState(live, 'live');
  await live.keyboard.press(' ');
  await untilState(live, 'rewound');
  await live.keyboard.press('l');
  await untilState(live, 'live');
  await live.close();
  await visitor.close();
});

test('a link to this moment carries the selected event and the filters, and opens there', async () => {
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/player-panels`);
  await untilState(watch, 'ended');
  await watch.locator('#feed-kind').selectOption('console');
  const row = watch.locator('[data-testid="event-row"]').last();
  await row.waitFor();
  const seq = Number(await row.getAttribute('data-seq'));
  await row.click();
  await watch.locator('[data-testid="network-panel"] select').selectOption('failed');
  await watch.locator('[data-testid="copy-link"]').click();
  const link = await waitFor(() => watch.locator('[data-testid="copy-link"]').getAttribute('data-link'), { message: 'the link' });
  assert.match(link, new RegExp(`[?&]event=${seq}(&|$)`));
  assert.match(link, /[?&]kind=console(&|$)/);
  assert.match(link, /[?&]network=failed(&|$)/);

  const opened = await env.browser.newPage();
  await opened.goto(link.replace(/t=\d+&/, ''));
  await untilState(opened, 'ended');
  await waitFor(async () => (await opened.locator('[data-testid="event-row"].selected').getAttribute('data-seq')) === String(seq), { message: 'the linked row selected' });
  // The console kind's row is the log (the error is of kind error).
  assert.match(await opened.locator('[data-testid="event-json"]').innerText(), /cart loaded/);
  await waitFor(async () => Math.abs((await opened.evaluate(() => window.__streamdom.currentTimeMs())) - 2000) < 300, { message: 'the replay at the linked event' });
  assert.equal(await opened.locator('#feed-kind').inputValue(), 'console');
  assert.equal(await opened.locator('[data-testid="network-panel"] select').inputValue(), 'failed');
  await opened.close();
  await watch.close();
});

test('with the real recorder: a console error and a failed fetch in their panels, SPA navigation in the URL bar, the tab closed', async () => {
  const visitor = await env.browser.newPage();
  await visitor.goto(`${env.site.url}/reports.html?sid=player-real`);
  await waitFor(() => visitor.evaluate(() => window.__rec?.sessionId), { message: 'the recorder to start' });
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/player-real`);
  await untilState(watch, 'live');
  // (The $identify before the snapshot is not in a live view's stream: the hub's session fields carry it.)
  assert.equal(await watch.locator('[data-testid="session-details"] [data-field="browser"]').innerText(), 'Chrome');

  // A port nothing listens on: the request fails.
  const closed = await freePort();
  await visitor.evaluate((closed) => {
    console.error('checkout exploded');
    fetch(`http://127.0.0.1:${closed}/api/pay`, { method: 'POST' }).catch(() => {});
    history.pushState({}, '', '/cart?step=2');
  }, closed);
  const consoleRow = watch.locator('[data-testid="console-row"]').filter({ hasText: 'checkout exploded' });
  await consoleRow.waitFor({ timeout: 15_000 });
  assert.equal(await consoleRow.getAttribute('data-group'), 'error');
  const failed = watch.locator('[data-testid="network-row"][data-group="failed"]');
  await failed.waitFor({ timeout: 15_000 });
  assert.match(await failed.innerText(), new RegExp(`POST http://127\\.0\\.0\\.1:${closed}/api/pay failed`));
  await waitFor(async () => /\/cart\?step=2$/.test(await watch.locator('[data-testid="current-url"]').innerText()), { timeout: 15_000, message: 'the URL after pushState' });
  assert.ok(await watch.locator('[data-testid="timeline-marker"][data-kind="error"]').count() >= 1, 'an error marker');

  await visitor.close();
  await untilState(watch, 'visitor-left', 10_000);
  await untilState(watch, 'ended', 30_000);
  await watch.close();
});

test('following for long keeps the newest 10,000 rows, and scrolling up fetches the older ones', async () => {
  // A hub of its own without ingest limits: 12,000 events at once are over the default rates.
  const hub = await Hub.start(['--connection-events-per-sec', '0', '--connection-bytes-per-sec', '0']);
  const site = await startSite(hub.url);
  const browser = await launchBrowser();
  try {
    await signIn(browser, hub);
    const page = await browser.newPage();
    await page.goto(`${site.url}/raw.html`);
    const total = await page.evaluate(async () => {
      const ws = new WebSocket(`${window.HUB.replace(/^http/, 'ws')}/ws/record/player-long?key=${window.KEY}`);
      await new Promise((ok) => { ws.onopen = ok; });
      let seq = 1;
      for (let i = 0; i < 12; i++) {
        const events = Array.from({ length: 1000 }, (_, k) => ({ type: 5, timestamp: Date.now(), data: { tag: `long-${i * 1000 + k}`, payload: {} } }));
        ws.send(JSON.stringify({ type: 'events', seq, events }));
        seq += events.length;
      }
      window.ws = ws;
      return seq - 1;
    });
    const watch = await browser.newPage();
    await watch.goto(`${hub.url}/sessions/player-long`);
    const feed = watch.locator('[data-testid="event-feed"]');
    const firstSeq = () => watch.evaluate(() => Math.min(...[...document.querySelectorAll('[data-testid="event-row"]')].map((r) => Number(r.dataset.seq))));
    await waitFor(() => watch.evaluate((n) => [...document.querySelectorAll('[data-testid="event-row"]')].some((r) => Number(r.dataset.seq) === n), total), { timeout: 30_000, message: 'the newest event in the feed' });
    const held = Number(await feed.getAttribute('data-count'));
    assert.ok(held >= 10_000 && held <= 11_000 && held < total, `${held} of ${total} rows kept while following`);
    // Scrolling up pauses following; at the top, the rows before are fetched from the API.
    await watch.locator('#feed-scroll').evaluate((e) => { e.scrollTop = 0; });
    await waitFor(async () => Number(await feed.getAttribute('data-count')) > held, { message: 'older rows fetched' });
    assert.equal(await watch.locator('[data-testid="event-feed-pause"]').innerText().then((t) => t.startsWith('Resume')), true, 'scrolling up paused the feed');
    // Page by page (500 rows a fetch) back to the first event.
    await waitFor(async () => {
      await watch.locator('#feed-scroll').evaluate((e) => { e.scrollTop = 0; });
      return (await firstSeq()) === 1;
    }, { timeout: 30_000, interval: 300, message: 'back to the first event' });
    assert.equal(Number(await feed.getAttribute('data-count')), total, 'every event, once');
  } finally {
    await browser.close();
    await site.close();
    await hub.dispose();
  }
});

test('no page errors', () => {
  // The refused sockets and the API's 404/400 for unknown ids, and the hub being down, are expected.
  // So is the visitor's own console.error in the real-recorder test.
  const errors = env.browser.errors.filter((e) => !/favicon|status of 40[04]|WebSocket connection to|ERR_CONNECTION_REFUSED|\] checkout exploded$/.test(e));
  assert.deepEqual(errors, [], errors.join('\n'));
});
