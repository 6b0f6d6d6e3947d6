// The live delay read-out on the watch page: present, plausible and honest, also when the
// visitor's clock is minutes off; and the recorder does not hold mouse moves back.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addText, envelopes, openVisitor, replayText, setup, sleep, waitFor } from './harness.mjs';

let env;

before(async () => {
  env = await setup();
});

after(async () => {
  await env?.teardown();
});

/** Watches `id` live, makes changes, and returns the latency the page reports once it settles. */
async function measuredLatency(visitor, id, label) {
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  await waitFor(async () => (await replayText(watch)).includes(`${label} 0`), { message: 'the live replay' });
  const readout = watch.locator('[data-testid="latency"]');
  for (let i = 1; i <= 10; i++) {
    await addText(visitor, `${label} ${i}`);
    await waitFor(async () => (await replayText(watch)).includes(`${label} ${i}`), { message: `change ${i} in the replay` });
  }
  const l = await waitFor(() => watch.evaluate(() => window.__streamdom.latency), { message: 'a latency measurement' });
  // The read-out is redrawn on the next frame (or the 100 ms refresh) after the measurement.
  const text = await waitFor(async () => { const t = await readout.innerText(); return /s behind/.test(t) && t; }, { message: 'the read-out' });
  // The breakdown is in the read-out's tooltip.
  const tip = await readout.getAttribute('title');
  await watch.close();
  return { l, text, tip };
}

function assertPlausible({ l, text, tip }) {
  if (process.env.STREAMDOM_TEST_VERBOSE) console.log(text, tip, l);
  assert.equal(l.synced, true);
  assert.ok(l.total > 0 && l.total < 1000, `latency ${l.total} ms`);
  assert.ok(l.uncertainty >= 0 && l.uncertainty < 100, `uncertainty ${l.uncertainty} ms`);
  // The parts add up to the whole, and none is absurd.
  assert.ok(Math.abs(l.visitorToHub + l.hubToPm + l.buffer - l.total) < 1);
  for (const part of [l.visitorToHub, l.hubToPm]) assert.ok(Math.abs(part) < 500, `part ${part} ms`);
  assert.ok(l.buffer >= 0 && l.buffer <= 400, `buffer ${l.buffer} ms`);
  assert.match(text, /^Live · \d+\.\d\d s behind/);
  assert.match(tip, /^\d+ ms behind ±\d+ ms · visitor→hub -?\d+ · hub→PM -?\d+ · buffer \d+/);
}

test('the watch page shows a plausible live delay', async () => {
  const { page, id } = await openVisitor(env.browser, env.site);
  await addText(page, 'normal 0');
  const m = await measuredLatency(page, id, 'normal');
  assertPlausible(m);
  await page.close();
});

test('a visitor clock 5 minutes ahead neither stalls the live view nor breaks the read-out', async () => {
  const page = await env.browser.newPage();
  // Only this visitor's page: every timestamp rrweb and the recorder take is 5 minutes ahead.
  await page.addInitScript(() => {
    const shift = 5 * 60 * 1000;
    const realNow = Date.now.bind(Date);
    Date.now = () => realNow() + shift;
  });
  const { id } = await openVisitor(env.browser, env.site, '/index.html', page);
  const skew = await page.evaluate(() => Date.now() - new Date().getTime());
  assert.ok(skew > 299_000, 'the visitor page runs 5 minutes ahead');
  await addText(page, 'skewed 0');
  const m = await measuredLatency(page, id, 'skewed');
  assertPlausible(m);
  const events = await envelopes(env.hub, id);
  const last = events[events.length - 1];
  assert.ok(last.event.timestamp - last.hub_time > 290_000, 'the stored timestamps are on the visitor clock');
  await page.close();
});

test('mouse moves are not held back by the recorder', async () => {
  const { page, id } = await openVisitor(env.browser, env.site);
  for (let i = 0; i < 30; i++) await page.mouse.move(100 + i * 10, 200 + i * 3);
  await addText(page, 'moved');
  const moves = await waitFor(async () => {
    const evs = await envelopes(env.hub, id);
    const m = evs.filter((e) => e.event.type === 3 && e.event.data.source === 1);
    return JSON.stringify(evs).includes('moved') && m.length ? m : null;
  }, { message: 'mouse-move events stored' });
  // Each batch of positions is sent as soon as it is taken: none is older than one sample interval.
  const oldest = Math.min(...moves.flatMap((e) => e.event.data.positions.map((p) => p.timeOffset)));
  assert.ok(oldest > -100, `a position was held ${-oldest} ms before being sent`);
  await page.close();
});

/** The replayed pointer's position in the watch page (rrweb's cursor element), or null before one. */
const cursorAt = (watch) => watch.evaluate(() => {
  const m = document.querySelector('[data-testid="player"] .replayer-mouse');
  return m && m.style.left ? `${m.style.left},${m.style.top}` : null;
});

test('after "Go live" the read-out is the live delay, and the pointer is where the visitor left it after every rebuild', async () => {
  const { page, id } = await openVisitor(env.browser, env.site);
  await addText(page, 'golive 0');
  // A PM joining now sees the pointer at once, without waiting for the visitor's next move. The
  // recorder's observers start once the page is idle after load: a move made before that is not
  // recorded, so the pointer is moved (ending at 400,300) until a move is stored.
  await waitFor(async () => {
    // Away and back, past rrweb's 50 ms move throttle, so that the last move kept is 400,300.
    await page.mouse.move(10, 10);
    await sleep(150);
    await page.mouse.move(400, 300);
    const moves = (await envelopes(env.hub, id)).filter((e) => e.event.type === 3 && e.event.data.source === 1);
    const last = moves.at(-1)?.event.data.positions.at(-1);
    return last?.x === 400 && last?.y === 300;
  }, { interval: 500, message: 'the move stored' });
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  await waitFor(async () => (await replayText(watch)).includes('golive 0'), { message: 'the live replay' });
  assert.equal(await waitFor(() => cursorAt(watch), { message: 'the pointer drawn' }), '400px,300px');
  await waitFor(() => watch.evaluate(() => window.__streamdom.timing.synced), { message: 'clock sync' });

  // Rewind while the visitor changes the page; the changes reach the watch page, and 3.5 s later
  // the PM goes live again.
  await watch.locator('[data-testid="play-toggle"]').click();
  await waitFor(() => watch.evaluate(() => window.__streamdom.state === 'paused'), { message: 'paused' });
  for (let i = 1; i <= 3; i++) await addText(page, `golive ${i}`);
  await waitFor(() => watch.evaluate(() => window.__streamdom.events.some((r) => JSON.stringify(r.event).includes('golive 3'))), { message: 'the changes received while rewound' });
  await sleep(3500);
  await watch.locator('[data-testid="go-live"]').click();
  await waitFor(async () => (await replayText(watch)).includes('golive 3'), { message: 'live again' });
  // The new live replayer was rebuilt from the snapshot: the pointer is drawn where it was.
  assert.equal(await cursorAt(watch), '400px,300px');
  // What it applied from history is not a live delay (it would read 3.5 s and more): nothing, or
  // a small one, is read out. "Small" leaves room for a machine under load.
  for (let i = 0; i < 5; i++) {
    const l = await watch.evaluate(() => window.__streamdom.latency);
    assert.ok(!l || l.total < 2500, `read-out right after "Go live": ${l?.total} ms`);
    await sleep(100);
  }
  await addText(page, 'golive 4');
  await waitFor(async () => (await replayText(watch)).includes('golive 4'), { message: 'a live change after "Go live"' });
  const l = await waitFor(() => watch.evaluate(() => window.__streamdom.latency), { message: 'a live measurement' });
  assert.ok(l.total >= 0 && l.total < 2500, `read-out ${l.total} ms`);
  // The read-out is redrawn on the next frame (or the 100 ms refresh).
  await waitFor(async () => /^Live · \d+\.\d\d s behind/.test(await watch.locator('[data-testid="latency"]').innerText()), { message: 'the read-out' });
  await watch.close();
  await page.close();
});

test('no page errors', () => {
  const errors = env.browser.errors.filter((e) => !/favicon|status of 404/.test(e));
  assert.deepEqual(errors, []);
});
