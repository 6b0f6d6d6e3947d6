// Heatmaps (issue 13): real clicks on a served page are recorded; the heatmap page replays the page's
// snapshot and draws the points on the elements clicked (found by their selector path in the
// replay's iframe), with the numbers beside it, the canvas letting every pointer event through.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { envelopes, openVisitor, setup, waitFor } from './harness.mjs';

let env;

before(async () => {
  env = await setup();
});

after(async () => {
  await env?.teardown();
});

const clicks = (list) => list.filter((e) => e.event.type === 5 && e.event.data?.tag === '$click');

test('clicks on a page land on the clicked elements of its heatmap', async () => {
  const { page, id } = await openVisitor(env.browser, env.site, '/heat.html');
  await waitFor(async () => (await envelopes(env.hub, id).catch(() => [])).some((e) => e.event.type === 2), { timeout: 20_000, message: 'the full snapshot stored' });
  await page.click('#buy', { position: { x: 10, y: 10 } });
  await page.click('#buy', { position: { x: 10, y: 10 } });
  await page.click('button:not([id]):not(.later)');
  const stored = await waitFor(async () => {
    const list = clicks(await envelopes(env.hub, id).catch(() => []));
    return list.length === 3 ? list : null;
  }, { timeout: 20_000, message: 'three $click events stored' });
  assert.equal(stored[0].event.data.payload.sel, 'button#buy');
  assert.equal(stored[2].event.data.payload.sel, 'html>body>main>div:nth-of-type(2)>button:nth-of-type(1)');

  const heat = await env.browser.newPage();
  await heat.goto(`${env.hub.url}/`);
  await heat.click('[data-testid="nav-heatmaps"]');
  await heat.waitForURL(/\/heatmaps/);
  await heat.fill('[data-testid="heatmap-url"]', '/heat.html');
  await heat.click('[data-testid="heatmap-form"] button[type="submit"]');
  await heat.waitForSelector('[data-testid="heatmap-player"][data-ready="true"]', { timeout: 20_000 });
  assert.equal(await heat.textContent('[data-testid="heatmap-total"]'), '3');
  const rows = await heat.$$eval('[data-testid="heatmap-element"]', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  assert.deepEqual(rows[0].slice(0, 2), ['button#buy', '2']);

  // Each point is on its element in the replayed page, and drawn there on the canvas.
  const check = await heat.evaluate(() => {
    const canvas = document.querySelector('[data-testid="heatmap-canvas"]');
    const doc = document.querySelector('[data-testid="heatmap-player"] iframe').contentDocument;
    const rect = (sel) => { const r = doc.querySelector(sel).getBoundingClientRect(); return { left: r.left, top: r.top, right: r.right, bottom: r.bottom }; };
    const ctx = canvas.getContext('2d');
    const alpha = (x, y) => ctx.getImageData(Math.round(x), Math.round(y), 1, 1).data[3];
    const placed = JSON.parse(canvas.dataset.placed);
    return {
      placed,
      buy: rect('#buy'),
      other: rect('main > div:nth-of-type(2) > button'),
      alphas: placed.map((p) => alpha(p.x, p.y)),
      far: alpha(canvas.width - 5, canvas.height - 5),
      pointerEvents: getComputedStyle(canvas).pointerEvents,
      scripts: document.querySelector('[data-testid="heatmap-player"] iframe').getAttribute('sandbox'),
    };
  });
  assert.equal(check.placed.length, 2, JSON.stringify(check));
  const inside = (p, r) => p.x >= r.left && p.x <= r.right && p.y >= r.top && p.y <= r.bottom;
  const buy = check.placed.find((p) => p.count === 2);
  assert.equal(buy.by, 'element');
  assert.ok(inside(buy, check.buy), `buy point ${JSON.stringify(buy)} in ${JSON.stringify(check.buy)}`);
  // Offsets are kept in 5 % steps of the element's size: within half a step of the click.
  const step = (check.buy.right - check.buy.left) * 0.05;
  const clicked = stored[0].event.data.payload;
  assert.ok(Math.abs(buy.x - clicked.px) <= step / 2 + 1, `at the offset clicked: ${JSON.stringify([buy, clicked])}`);
  const other = check.placed.find((p) => p.count === 1);
  assert.ok(inside(other, check.other), `other point ${JSON.stringify(other)} in ${JSON.stringify(check.other)}`);
  assert.ok(check.alphas.every((a) => a > 0), `drawn: ${check.alphas}`);
  assert.equal(check.far, 0, 'nothing drawn away from the points');
  assert.equal(check.pointerEvents, 'none');
  assert.ok(!String(check.scripts).includes('allow-scripts'), `sandbox: ${check.scripts}`);

  // A session's page links to the heatmap of the page it shows, in the visitor's viewport bucket.
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${encodeURIComponent(id)}`);
  await waitFor(async () => (await watch.getAttribute('[data-testid="page-heatmap"]', 'href'))?.includes('url=%2Fheat.html'), { timeout: 20_000, message: 'the heatmap link of the page shown' });
  assert.equal(await watch.getAttribute('[data-testid="page-heatmap"]', 'href'), '/heatmaps?url=%2Fheat.html&bucket=desktop');
  assert.deepEqual(env.browser.errors.filter((e) => !/favicon|status of 404/.test(e)), []);
});
