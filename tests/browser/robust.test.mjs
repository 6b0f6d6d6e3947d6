// The player never crashes on a session it is given (issue 15). Anything that parses as an
// rrweb event (numeric `type` and `timestamp`, nesting ≤ 1,000 levels) is stored and handed to
// the watch page, so the page must survive what a broken or hostile recorder can send: documents
// as deep as the hub allows, unknown event kinds, mutations of nodes that never existed, broken
// snapshots, clocks going backwards, malformed console and network reports. For each scripted
// session the page must reach a defined state, show every event in its feed, take seeks and
// shortcuts, and raise no uncaught error.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openRawRecorder, recordedSnapshot, replayText, setup, waitFor } from './harness.mjs';

let env;
let snapshot;

before(async () => {
  env = await setup();
  snapshot = await recordedSnapshot(env);
});

after(async () => {
  await env?.teardown();
});

/** Records `events` (a list of frames) as a session of its own and waits until it ended. */
async function record(id, frames) {
  const rec = await openRawRecorder(env, id, snapshot);
  let count = 0;
  for (const frame of frames(rec)) {
    await rec.send(frame);
    count += frame.length;
  }
  await waitFor(() => rec.durable(), { message: `${id}: every event stored` });
  await rec.close();
  await waitFor(async () => !(await env.hub.json(`/api/sessions/${id}`)).active, { message: `${id}: ended` });
  return count;
}

/** Opens a session's watch page, drives it, and returns what went wrong in it. */
async function watchAndDrive(id, count, states) {
  const watch = await env.browser.newPage();
  const errors = [];
  watch.on('pageerror', (e) => errors.push(`pageerror: ${e.stack ?? e.message}`));
  watch.on('crash', () => errors.push('the page crashed'));
  watch.on('console', (m) => {
    // rrweb warns about nodes it cannot find (expected here); an error logged by the page is not.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console.error: ${m.text()}`);
  });
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  const state = () => watch.locator('[data-testid="player-state"]').getAttribute('data-state');
  await waitFor(async () => states.includes(await state()), { timeout: 20_000, message: `${id}: a state among ${states}` })
    .catch(async (e) => { throw new Error(`${e.message} (is ${await state()}; ${errors.join(' | ')})`); });
  const rows = async () => watch.evaluate(() => window.__streamdom.events.length);
  await waitFor(async () => (await rows()) === count, { message: `${id}: all ${count} events in the page` })
    .catch(async (e) => { throw new Error(`${e.message} (has ${await rows()})`); });
  await waitFor(async () => (await watch.locator('[data-testid="event-row"]').count()) > 0, { message: `${id}: rows in the feed (${errors.join(' | ')})` });

  // Every control a PM would use on it: play, seeks both ways, speeds, the end, a link to a moment.
  await watch.locator('[data-testid="player"]').click({ position: { x: 5, y: 5 } }).catch(() => {});
  for (const key of [' ', 'ArrowRight', 'ArrowLeft', '8', 'ArrowRight', 'ArrowRight', '1', ' ', 'l']) {
    await watch.keyboard.press(key);
    await watch.waitForTimeout(60);
  }
  // The feed is virtualized and follows the replay: take rows as they are at each click.
  const rowsEl = watch.locator('[data-testid="event-row"]');
  for (const row of [rowsEl.last(), rowsEl.first(), rowsEl.last()]) await row.click();
  await watch.goto(`${env.hub.url}/sessions/${id}?t=1500`);
  await waitFor(async () => states.includes(await state()), { timeout: 20_000, message: `${id}: a state after ?t=` });
  await watch.waitForTimeout(500);
  // Still alive and answering.
  assert.equal(await watch.evaluate(() => 1 + 1), 2);
  const text = await replayText(watch);
  await watch.close();
  return { errors, text };
}

test('a document as deep as the hub accepts, in the snapshot and in a mutation', async () => {
  const id = 'robust-deep';
  // Two JSON levels per DOM level (a node and its childNodes): 480 divs stay under the limit.
  const chain = (depth, from) => {
    let node = { type: 3, textContent: 'the bottom', id: from + depth };
    for (let i = depth - 1; i >= 0; i--) node = { type: 2, tagName: 'div', attributes: {}, childNodes: [node], id: from + i };
    return node;
  };
  const count = await record(id, (rec) => {
    const [meta, full] = rec.snapshot();
    const deep = structuredClone(full);
    const html = deep.data.node.childNodes.find((n) => n.tagName === 'html');
    const body = html.childNodes.find((n) => n.tagName === 'body');
    body.childNodes.push(chain(470, 100_000));
    return [
      [meta, deep],
      [rec.at(1000, 3, { source: 0, texts: [], attributes: [], removes: [], adds: [{ parentId: body.id, nextId: null, node: chain(470, 200_000) }] })],
      [rec.at(2000, 3, { source: 2, type: 2, id: 100_470 - 1, x: 10, y: 10 })],
    ];
  });
  const { errors, text } = await watchAndDrive(id, count, ['ended']);
  assert.deepEqual(errors, []);
  assert.match(text, /the bottom/, 'the deep document replayed');
});

test('garbage of every kind after a real snapshot', async () => {
  const id = 'robust-garbage';
  const huge = 'x'.repeat(200_000);
  const count = await record(id, (rec) => [
    rec.snapshot(),
    [
      rec.at(100, 99, { anything: true }),
      rec.at(200, 3, null),
      rec.at(300, 3, { source: 99 }),
      rec.at(400, 3, { source: 0, adds: [{ parentId: 999_999, nextId: 888_888, node: { type: 2, tagName: 'p', attributes: {}, childNodes: [], id: 777_777 } }], removes: [{ parentId: 1, id: 666_666 }], texts: [{ id: 555_555, value: 't' }], attributes: [{ id: 444_444, attributes: { class: 'x' } }] }),
      rec.at(500, 3, { source: 0 }),
      rec.at(600, 3, { source: 2, type: 2, id: 333_333, x: 1e308, y: -1e308 }),
      rec.at(700, 3, { source: 5, id: 222_222, text: huge, isChecked: 'maybe' }),
      rec.at(800, 3, { source: 3, id: 111_111, x: -5, y: 'down' }),
      rec.at(900, 3, { source: 4, width: 0, height: -5 }),
      rec.at(1000, 3, { source: 1, positions: 'nowhere' }),
      rec.at(1100, 3, { source: 1, positions: [{ x: null, y: {}, id: 12_345, timeOffset: 'soon' }] }),
    ],
    [
      rec.at(1200, 4, { href: 'javascript:alert(1)', width: 1e308, height: -1 }),
      rec.at(1300, 4, null),
      rec.at(1400, 5, null),
      rec.at(1500, 5, { tag: null, payload: null }),
      rec.at(1600, 5, { tag: '$pageview', payload: { url: 42 } }),
      rec.at(1700, 5, { tag: '$identify', payload: { user_id: { not: 'a string' }, traits: 'no' } }),
      rec.at(1800, 5, { tag: '$visibility', payload: null }),
      rec.at(1900, 6, { plugin: 'rrweb/console@1', payload: null }),
      rec.at(2000, 6, { plugin: 'rrweb/console@1', payload: { level: 'nope', payload: 'not an array', trace: 7 } }),
      rec.at(2100, 6, { plugin: 'streamdom/network@1', payload: { method: {}, url: null, status: 'x', duration: -1 } }),
      rec.at(2200, 6, null),
      // The visitor's clock going backwards, and a timestamp far in the future.
      rec.at(-60_000, 3, { source: 2, type: 2, id: 1, x: 1, y: 1 }),
      rec.at(3_000, 3, { source: 2, type: 2, id: 1, x: 1, y: 1 }),
    ],
    // A broken second snapshot (no node, then a node of an unknown type), then a good one again.
    [rec.at(3100, 2, {}), rec.at(3200, 2, { node: { type: 99, childNodes: 'none' }, initialOffset: null })],
    rec.snapshot().map((e, i) => ({ ...e, timestamp: e.timestamp + 3300 + i })),
  ]);
  const { errors, text } = await watchAndDrive(id, count, ['ended']);
  assert.deepEqual(errors, []);
  assert.ok(text.length > 0, 'the last good snapshot replayed');
});

test('no snapshot at all, only incremental and custom events', async () => {
  const id = 'robust-no-snapshot';
  const count = await record(id, (rec) => [[
    rec.at(0, 3, { source: 0, adds: [{ parentId: 5, nextId: null, node: { type: 3, textContent: 'orphan', id: 9 } }], removes: [], texts: [], attributes: [] }),
    rec.at(100, 3, { source: 2, type: 2, id: 9, x: 1, y: 1 }),
    rec.at(200, 5, { tag: 'checkout', payload: { total: 1 } }),
  ]]);
  const { errors } = await watchAndDrive(id, count, ['no-snapshot']);
  assert.deepEqual(errors, []);
});
