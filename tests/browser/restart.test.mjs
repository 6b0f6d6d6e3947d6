// The hub restarts while a visitor keeps acting: the recorder reconnects and resends, the stored
// session has neither gap nor duplicate, and a PM watching live sees the visitor again afterwards.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addText, envelopes, openVisitor, replayText, setup, waitFor } from './harness.mjs';

let env;

before(async () => {
  env = await setup();
});

after(async () => {
  await env?.teardown();
});

const stored = async (id, text) => JSON.stringify(await envelopes(env.hub, id)).includes(text);

test('a hub restart loses nothing and duplicates nothing', async () => {
  const { page: visitor, id } = await openVisitor(env.browser, env.site);
  await addText(visitor, 'before restart');
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  await waitFor(async () => (await replayText(watch)).includes('before restart'), { message: 'the live replay' });
  await waitFor(() => stored(id, 'before restart'), { message: 'the first note stored' });

  await env.hub.stop();
  // The visitor keeps going while the hub is down.
  await addText(visitor, 'while the hub was down');
  await visitor.locator('#search').pressSequentially('offline typing');
  await visitor.click('#go');
  await env.hub.start();

  await waitFor(() => stored(id, 'while the hub was down'), { timeout: 15_000, message: 'the offline change stored after the reconnect' });
  await addText(visitor, 'after restart');
  await waitFor(() => stored(id, 'after restart'), { message: 'the post-restart change stored' });

  const events = await envelopes(env.hub, id);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seqs are exactly 1..N');
  const json = events.map((e) => JSON.stringify(e.event));
  assert.equal(new Set(json).size, json.length, 'no event is stored twice');
  const order = ['before restart', 'while the hub was down', 'after restart'].map((t) => json.findIndex((j) => j.includes(t)));
  assert.ok(order[0] < order[1] && order[1] < order[2], `changes are stored in order (${order})`);
  const session = await env.hub.json(`/api/sessions/${id}`);
  assert.equal(session.active, true);
  assert.equal(session.event_count, events.length);

  // The PM's watch page reconnected on its own and follows the visitor again.
  await waitFor(async () => (await replayText(watch)).includes('after restart'), { timeout: 15_000, message: 'the watch page to show the post-restart change' });
  const text = await replayText(watch);
  assert.ok(text.includes('while the hub was down'));
  assert.equal(await watch.evaluate(() => window.__streamdom.state), 'live');
});

test('no page errors', () => {
  // The recorder's socket failing while the hub is down is expected.
  const errors = env.browser.errors.filter((e) => !/favicon|status of 404|WebSocket connection to|ERR_CONNECTION_REFUSED/.test(e));
  assert.deepEqual(errors, []);
});
