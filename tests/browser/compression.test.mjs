// Compressed frames end to end: the real recorder in Chromium sends its large frames deflated
// (binary frames the hub counts in /metrics), the session is stored intact, and the watch page,
// which asks for compressed frames, receives its join snapshot deflated and shows the page.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { envelopes, openVisitor, replayText, setup, waitFor } from './harness.mjs';

let env;

before(async () => {
  env = await setup();
});

after(async () => {
  await env?.teardown();
});

/** A counter from the hub's /metrics. */
async function metric(name) {
  const text = await (await fetch(`${env.hub.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

test('the recorder sends large frames compressed and the session is stored intact', async () => {
  const framesBefore = await metric('streamdom_compressed_frames_in_total');
  const { page, id } = await openVisitor(env.browser, env.site);
  // One DOM change of ~60 KB (one frame, well over the 4 KiB threshold), with text outside ASCII.
  const marker = 'Große Änderung — ';
  await page.evaluate((m) => {
    const box = document.createElement('div');
    box.id = 'big';
    for (let i = 0; i < 1500; i++) {
      const p = document.createElement('p');
      p.textContent = `${m}${i}`;
      box.append(p);
    }
    document.getElementById('log').append(box);
  }, marker);
  // Then small changes, which go as text frames after it, in order.
  for (let i = 0; i < 5; i++) await page.evaluate((i) => { document.getElementById('cart').textContent = `Cart: ${i}`; }, i);

  const stored = await waitFor(async () => {
    const ev = await envelopes(env.hub, id);
    return ev.some((e) => JSON.stringify(e.event).includes('Cart: 4')) && ev;
  }, { message: 'the last small change to be stored' });
  assert.ok((await metric('streamdom_compressed_frames_in_total')) > framesBefore, 'the hub received binary frames');
  // Intact: seqs from 1 without a gap, every paragraph of the big change with its exact text.
  assert.deepEqual(stored.map((e) => e.seq), stored.map((_, i) => i + 1));
  const all = JSON.stringify(stored.map((e) => e.event));
  for (const i of [0, 749, 1499]) assert.ok(all.includes(JSON.stringify(`${marker}${i}`)), `paragraph ${i}`);

  // The PM joins: the join snapshot (over 16 KiB) comes compressed and the replay shows the page.
  const outBefore = await metric('streamdom_compressed_frames_out_total');
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  await waitFor(async () => (await replayText(watch)).includes(`${marker}1499`), { message: 'the big change in the replay' });
  assert.ok((await metric('streamdom_compressed_frames_out_total')) > outBefore, 'the watch page got compressed frames');
  // Live changes after the join still arrive (small frames, plain text).
  await page.evaluate(() => { document.getElementById('cart').textContent = 'Cart: after join'; });
  await waitFor(async () => (await replayText(watch)).includes('Cart: after join'), { message: 'a live change after the join' });
  assert.deepEqual(env.browser.errors.filter((e) => !/favicon|status of 404/.test(e)), []);
});
