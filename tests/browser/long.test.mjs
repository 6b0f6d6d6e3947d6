// Long sessions (issue 16): the watch page loads from the full snapshot before the moment it
// shows, never the whole session first. A stored session with a full snapshot every 20 s (the
// recorder's periodic checkout, made short) and a line of text that changes every second is opened
// at a `?t=` link and sought around in; what the page asked the hub for, what it holds and what it
// shows are checked. Scripted sessions are sent through a real recorder socket from a page of the
// test site, starting from a real page's snapshot.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { findNode, openRawRecorder, recordedSnapshot, replayText, setup, waitFor } from './harness.mjs';

let env;
/** A real page's Meta + FullSnapshot, as the real recorder sent them. */
let snapshot;

before(async () => {
  env = await setup();
  snapshot = await recordedSnapshot(env);
});

after(async () => {
  await env?.teardown();
});

const LINE = 900_001;
const TEXT = 900_002;
const SECONDS = 60;
const CHECKOUT_S = 20;

/** The real snapshot with a line "moment N" added to its body, as a checkout at second N takes it. */
function checkout(rec, second) {
  const [meta, full] = rec.snapshot().map((e) => structuredClone(e));
  const body = findNode(full.data.node, 'body');
  body.childNodes.push({ type: 2, tagName: 'p', attributes: { class: 'moment' }, childNodes: [{ type: 3, textContent: `moment ${second}`, id: TEXT }], id: LINE });
  return [meta, full].map((e) => ({ ...e, timestamp: rec.at(second * 1000).timestamp }));
}

test('a seek into a long session starts at the snapshot before the moment, and shows that moment', async () => {
  const id = 'long-checkouts';
  const rec = await openRawRecorder(env, id, snapshot);
  let sent = 0;
  // Seqs of each checkout's Meta (the hub starts a stream there).
  const checkoutSeq = {};
  // Each checkout's stretch goes in a frame of its own, of more than 256 events (pointer moves
  // every 50 ms): the hub stores it as one chunk, which indexes its snapshot, as it does for a real
  // recording whose checkouts are minutes apart (src/writer/plan.rs merges only smaller writes).
  for (let from = 0; from < SECONDS; from += CHECKOUT_S) {
    const events = [];
    for (let s = from; s < from + CHECKOUT_S; s++) {
      if (s === from) {
        checkoutSeq[s] = sent + 1;
        events.push(...checkout(rec, s));
      } else events.push(rec.at(s * 1000, 3, { source: 0, texts: [{ id: TEXT, value: `moment ${s}` }], attributes: [], removes: [], adds: [] }));
      for (let ms = 50; ms < 1000; ms += 50) events.push(rec.at(s * 1000 + ms, 3, { source: 1, positions: [{ x: ms / 10, y: s, id: LINE, timeOffset: 0 }] }));
    }
    await rec.send(events);
    sent += events.length;
    await waitFor(() => rec.durable(), { message: 'the events stored' });
  }
  await rec.close();
  await waitFor(async () => !(await env.hub.json(`/api/sessions/${id}`)).active, { message: 'the session to end' });

  const watch = await env.browser.newPage();
  const sockets = [];
  watch.on('websocket', (ws) => sockets.push(new URL(ws.url()).searchParams.get('from')));
  const shown = async () => (await replayText(watch)).match(/moment \d+/)?.[0];
  const lowestSeq = () => watch.evaluate(() => window.__streamdom.events[0]?.seq);

  // A link to 0:45 streams from the checkout at 0:40, not from the session's start.
  await watch.goto(`${env.hub.url}/sessions/${id}?t=45700`);
  await waitFor(async () => (await shown()) === 'moment 45', { message: `moment 45 shown (is ${await shown()})` });
  assert.deepEqual(sockets, ['45700']);
  assert.equal(await lowestSeq(), checkoutSeq[40], 'the first event held is the Meta of the checkout at 0:40');
  assert.equal(await watch.evaluate(() => window.__streamdom.session.first_event_ts !== null), true);

  // A seek to 0:25 (not held) loads from the checkout at 0:20, up to what is held.
  const seek = (ms) => watch.evaluate((ms) => {
    const timeline = document.querySelector('[data-testid="timeline"]');
    timeline.value = String(ms);
    timeline.dispatchEvent(new Event('input'));
    timeline.dispatchEvent(new Event('change'));
  }, ms);
  await seek(25_700);
  await waitFor(async () => (await shown()) === 'moment 25', { message: `moment 25 shown (is ${await shown()})` });
  assert.deepEqual(sockets, ['45700', '25700']);
  assert.equal(await lowestSeq(), checkoutSeq[20], 'loaded from the checkout at 0:20');
  // Back to 0:05: the first checkout; then forward within what is held, with no new socket.
  await seek(5700);
  await waitFor(async () => (await shown()) === 'moment 5', { message: `moment 5 shown (is ${await shown()})` });
  assert.equal(await lowestSeq(), checkoutSeq[0]);
  await seek(33_700);
  await waitFor(async () => (await shown()) === 'moment 33', { message: `moment 33 shown (is ${await shown()})` });
  assert.deepEqual(sockets, ['45700', '25700', '5700'], 'no socket for a moment already held');
  assert.ok(!sockets.includes('start'), 'never the whole session from its start');
  assert.deepEqual(env.browser.errors.filter((e) => !/Failed to load resource|sandboxed/.test(e)), []);
  await watch.close();
});
