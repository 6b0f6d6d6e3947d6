// A visitor's page sends faster than its connection may (`--connection-events-per-sec`): the hub
// closes the recorder's socket with 4429 `rate_limited`, and the recorder waits (a second or
// more, longer each time it is refused again) before reconnecting and resending. In the end
// every event is stored once, in order.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { envelopes, Hub, launchBrowser, openVisitor, signIn, startSite, waitFor } from './harness.mjs';

let hub, site, browser;

before(async () => {
  // 20 events/s in bursts of 200.
  hub = await Hub.start(['--connection-events-per-sec', '20']);
  site = await startSite(hub.url);
  browser = await launchBrowser();
  await signIn(browser, hub);
});

after(async () => {
  await browser?.close();
  await site?.close();
  await hub?.dispose();
});

const NOTES = 300;

test('a recorder over its rate backs off, resends, and nothing is lost or doubled', async (t) => {
  const page = await browser.newPage();
  // Every recorder socket of the page: when it opened and closed, and whether the hub said
  // `rate_limited` on it.
  const sockets = [];
  page.on('websocket', (ws) => {
    if (!ws.url().includes('/ws/record/')) return;
    const s = { opened: Date.now(), closed: null, limited: false };
    sockets.push(s);
    ws.on('framereceived', (f) => { if (String(f.payload).includes('"rate_limited"')) s.limited = true; });
    ws.on('close', () => { s.closed = Date.now(); });
  });
  const { id } = await openVisitor(browser, site, '/index.html', page);
  // The first full snapshot is taken once the page has loaded and the browser is idle: notes
  // added before it would be part of it rather than one event each.
  await waitFor(async () => (await envelopes(hub, id)).some((e) => e.event.type === 2), { message: 'the full snapshot stored' });

  // One DOM change per task: one event each, well past the burst of 200.
  await page.evaluate(async (n) => {
    for (let i = 0; i < n; i++) {
      const p = document.createElement('p');
      p.textContent = `note ${i}`;
      document.getElementById('log').append(p);
      await new Promise((r) => setTimeout(r, 0));
    }
  }, NOTES);

  const last = `note ${NOTES - 1}`;
  await waitFor(async () => JSON.stringify(await envelopes(hub, id)).includes(last), { timeout: 45_000, interval: 250, message: 'the last note stored' });

  const events = await envelopes(hub, id);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seqs are exactly 1..N');
  const json = events.map((e) => JSON.stringify(e.event));
  assert.equal(new Set(json).size, json.length, 'no event is stored twice');
  const at = (i) => json.findIndex((j) => j.includes(`"note ${i}"`));
  for (let i = 0; i < NOTES; i++) assert.ok(at(i) >= 0 && (i === 0 || at(i) > at(i - 1)), `note ${i} stored, in order`);

  const limited = sockets.filter((s) => s.limited);
  const waits = limited.map((s) => sockets.find((n) => n.opened >= s.closed)?.opened - s.closed);
  t.diagnostic(`${events.length} events stored; ${sockets.length} recorder sockets, ${limited.length} closed rate_limited; waits before reconnecting: ${waits.join(', ')} ms`);
  assert.ok(limited.length >= 1, 'the hub refused the flood at least once');
  // After each refusal the recorder waited before the next connection instead of hammering.
  for (const s of limited) {
    const next = sockets.find((t) => t.opened >= s.closed);
    assert.ok(next, 'the recorder reconnected');
    assert.ok(next.opened - s.closed >= 900, `waited ${next.opened - s.closed} ms after a rate_limited close`);
  }
  assert.ok(sockets.length <= limited.length + 2, `${sockets.length} sockets for ${limited.length} refusals`);
  const metrics = await (await fetch(`${hub.url}/metrics`)).text();
  assert.match(metrics, /streamdom_limited_total\{limit="connection_events"\} [1-9]/);
});

test('no page errors', () => {
  const errors = browser.errors.filter((e) => !/favicon|status of 404/.test(e));
  assert.deepEqual(errors, []);
});
