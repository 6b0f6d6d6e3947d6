// One visitor session, followed by a PM from the sessions list through live watching, rewinding,
// a page navigation, the end of the session and a replay from storage.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addText, envelopes, openVisitor, replayText, setup, waitFor } from './harness.mjs';

let env;
let list; // the sessions page, opened before the visitor arrives
let watch; // the watch page, live
let visitor;
let id;

before(async () => {
  env = await setup();
  list = await env.browser.newPage();
  await list.goto(`${env.hub.url}/`);
  await list.locator('#count').filter({ hasText: '0 sessions' }).waitFor();
});

after(async () => {
  await env?.teardown();
});

const liveBadge = () => list.locator(`[data-testid="session-row"][data-session-id="${id}"] [data-testid="live-badge"]`);
const replayState = (page) => page.evaluate(() => ({ state: window.__streamdom.state, t: window.__streamdom.currentTimeMs() }));
const untilReplayHas = (page, text, timeout = 10_000) =>
  waitFor(async () => (await replayText(page)).includes(text), { timeout, message: `"${text}" in the replay` });

test('a new session appears live on the already open sessions page', async () => {
  ({ page: visitor, id } = await openVisitor(env.browser, env.site));
  await visitor.locator('#search').pressSequentially('running shoes');
  await visitor.click('#go');
  await visitor.mouse.wheel(0, 600);
  await addText(visitor, 'first note');
  await waitFor(() => liveBadge().count(), { message: 'the live badge on the sessions page' });
  const row = list.locator(`[data-session-id="${id}"]`);
  // The page URL comes with the first Meta event, pushed at most once a second after the start.
  await waitFor(async () => /\/index\.html$/.test(await row.locator('.c-url').innerText()), { message: 'the page URL in the row' });
  assert.equal(await list.locator('#count').innerText(), '1 session');
});

test('the watch page shows what the visitor does while they do it', async () => {
  watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  await untilReplayHas(watch, 'first note');
  assert.equal((await replayState(watch)).state, 'live');
  await waitFor(() => watch.locator('[data-testid="live-badge"]').count(), { message: 'the live badge on the watch page' });
  const replayed = () => watch.evaluate(() => {
    const doc = document.querySelector('[data-testid="player"] iframe').contentDocument;
    return { search: doc.getElementById('search')?.value, cart: doc.getElementById('cart')?.textContent, scrollY: doc.defaultView.scrollY };
  });
  await waitFor(async () => {
    const r = await replayed();
    return r.search === 'running shoes' && r.cart === 'Cart: 1' && r.scrollY > 0;
  }, { message: 'typed text, click result and scroll in the replay' });

  // Changes made now, with the PM watching, show up without reloading anything.
  await addText(visitor, 'second note');
  await untilReplayHas(watch, 'second note');
  await visitor.locator('#search').fill('');
  await visitor.locator('#search').pressSequentially('boots');
  await waitFor(async () => (await replayed()).search === 'boots', { message: 'new typing in the replay' });
  await visitor.mouse.wheel(0, -600);
  await waitFor(async () => (await replayed()).scrollY === 0, { message: 'scrolling back up in the replay' });
});

test('the timeline rewinds the live view and "Go live" returns to live', async () => {
  await addText(visitor, 'newest note');
  await untilReplayHas(watch, 'newest note');
  const goLive = watch.locator('[data-testid="go-live"]');
  assert.equal(await goLive.isDisabled(), true, 'Go live is disabled while live');

  // Drag the thumb from the live edge to the start.
  const box = await watch.locator('[data-testid="timeline"]').boundingBox();
  const y = box.y + box.height / 2;
  await watch.mouse.move(box.x + box.width - 4, y);
  await watch.mouse.down();
  await watch.mouse.move(box.x + box.width / 2, y, { steps: 4 });
  await watch.mouse.move(box.x + 1, y, { steps: 4 });
  await watch.mouse.up();

  const earlier = await waitFor(async () => {
    const s = await watch.evaluate(() => ({
      state: window.__streamdom.state,
      t: window.__streamdom.currentTimeMs(),
      text: document.querySelector('[data-testid="player"] iframe')?.contentDocument?.body?.innerText ?? '',
    }));
    return s.state !== 'live' && s.text.includes('Test shop') ? s : null;
  }, { message: 'a replay of an earlier moment' });
  assert.ok(!earlier.text.includes('newest note'), `the rewound replay (at ${earlier.t} ms) must not show the newest text yet`);
  assert.ok(earlier.t < 1000, `rewound to the start, got ${earlier.t} ms`);
  assert.equal(await goLive.isEnabled(), true);

  await goLive.click();
  await waitFor(async () => (await replayState(watch)).state === 'live', { message: 'live state' });
  await untilReplayHas(watch, 'newest note');
  // And it keeps following the visitor.
  await addText(visitor, 'after going live');
  await untilReplayHas(watch, 'after going live');
});

test('navigating to another page of the site continues the same session', async () => {
  await Promise.all([visitor.waitForURL('**/page2.html'), visitor.click('#next')]);
  const id2 = await waitFor(() => visitor.evaluate(() => window.__rec?.sessionId), { message: 'the recorder on page 2' });
  assert.equal(id2, id);
  await addText(visitor, 'checkout note');
  // The live watch page follows the visitor to the new page.
  await untilReplayHas(watch, 'checkout note');
  assert.ok(!(await replayText(watch)).includes('newest note'), 'page 1 content is gone from the replay');

  const events = await waitFor(async () => {
    const evs = await envelopes(env.hub, id);
    return JSON.stringify(evs).includes('checkout note') ? evs : null;
  }, { message: 'page 2 events stored' });
  const metas = events.filter((e) => e.event.type === 4);
  assert.equal(metas.length, 2, 'one Meta event per page');
  assert.match(metas[0].event.data.href, /\/index\.html$/);
  assert.match(metas[1].event.data.href, /\/page2\.html$/);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seqs run 1..N across both pages');
  assert.ok(JSON.stringify(events).includes('first note'), 'page 1 events are in the same session');
  assert.equal(events.filter((e) => e.event.type === 2).length, 2, 'one full snapshot per page');
});

test('an ended session is shown as ended, replays from storage and opens at ?t=', async () => {
  await visitor.close();
  // The hub ends the session after its idle timeout (2 s in the harness).
  await waitFor(async () => (await env.hub.json(`/api/sessions/${id}`)).active === false, { timeout: 15_000, message: 'active:false' });
  await waitFor(async () => (await liveBadge().count()) === 0, { message: 'the live badge to disappear' });
  assert.equal(await list.locator(`[data-session-id="${id}"]`).count(), 1, 'the session is still listed');
  await waitFor(async () => (await watch.locator('[data-testid="live-badge"]').count()) === 0, { message: 'the watch page to drop its live badge' });
  assert.equal(await watch.locator('[data-testid="go-live"]').isDisabled(), true);

  // A fresh watch page plays the stored recording from the start to the end.
  const replay = await env.browser.newPage();
  await replay.goto(`${env.hub.url}/sessions/${id}`);
  await replay.locator('#speed').selectOption('8');
  const start = await waitFor(async () => {
    const s = await replayState(replay);
    return s.state === 'replay' ? s : null;
  }, { message: 'the replay to start' });
  assert.ok(start.t < 3000, `starts near the beginning, got ${start.t} ms`);
  await untilReplayHas(replay, 'first note', 15_000);
  await untilReplayHas(replay, 'checkout note', 20_000);
  await waitFor(async () => (await replayState(replay)).state === 'paused', { timeout: 10_000, message: 'the replay to finish' });
  await replay.close();

  // A link to the moment between the first and the second note.
  const events = await envelopes(env.hub, id);
  const session = await env.hub.json(`/api/sessions/${id}`);
  const when = (text) => events.find((e) => JSON.stringify(e.event).includes(text)).event.timestamp - session.first_event_ts;
  const [t1, t2] = [when('first note'), when('second note')];
  assert.ok(t2 - t1 > 100, `the notes are ${t2 - t1} ms apart`);
  const t = Math.round((t1 + t2) / 2);
  const linked = await env.browser.newPage();
  await linked.goto(`${env.hub.url}/sessions/${id}?t=${t}`);
  await untilReplayHas(linked, 'first note');
  const at = await replayState(linked);
  assert.equal(at.state, 'paused');
  assert.ok(Math.abs(at.t - t) < 50, `opened at ${at.t} ms, link said ${t} ms`);
  const text = await replayText(linked);
  assert.ok(!text.includes('second note'), 'the state at t is before the second note');
  assert.equal(await linked.locator('[data-testid="timeline"]').inputValue(), String(t));
  await linked.close();
});

test('no page errors', () => {
  const errors = env.browser.errors.filter((e) => !/favicon|status of 404/.test(e));
  assert.deepEqual(errors, []);
});
