// The watch page's stage (issue 12), against the real hub: the page says "connecting" until the hub
// answers; the replay fits the player and is centred both ways, when the window changes and in
// fullscreen, with the visitor's viewport in the URL bar; a live session's timeline shows the live
// edge, and "N s behind live" once rewound; "no snapshot yet" turns live once the page is captured;
// a hub that freezes without closing its sockets is shown as unreachable.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openRawRecorder, openVisitor, recordedSnapshot, setup, sleep, stateOf, untilState, waitFor } from './harness.mjs';

let env;

before(async () => {
  env = await setup();
});

after(async () => {
  await env?.teardown();
});

test('connecting until the hub answers, then live', async () => {
  const { page: visitor, id } = await openVisitor(env.browser, env.site);
  const watch = await env.browser.newPage();
  // The viewer sockets reach the hub only once the test lets them: until then the hub is silent.
  let letThrough;
  const gate = new Promise((r) => { letThrough = r; });
  await watch.routeWebSocket(/\/ws\/watch\//, async (ws) => {
    await gate;
    ws.connectToServer();
  });
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  // Several refreshes of the page (every 100 ms) later, it still says what it is waiting for.
  await sleep(1000);
  assert.equal(await stateOf(watch).getAttribute('data-state'), 'connecting');
  assert.match(await stateOf(watch).innerText(), /Connecting to the hub…/);
  assert.doesNotMatch(await watch.locator('[data-testid="latency"]').innerText(), /\d/, 'no delay claimed before the hub answers');
  letThrough();
  await untilState(watch, 'live');
  await watch.close();
  await visitor.close();
});

/** The player's inside and the replayed page's box, in the watch page's pixels. */
function geometry(watch) {
  return watch.evaluate(() => {
    const player = document.querySelector('[data-testid="player"]');
    const p = player.getBoundingClientRect();
    const f = player.querySelector('iframe').getBoundingClientRect();
    return {
      inner: { left: p.left + player.clientLeft, top: p.top + player.clientTop, width: player.clientWidth, height: player.clientHeight },
      frame: { left: f.left, top: f.top, width: f.width, height: f.height },
    };
  });
}

/** The replay lies inside the player, fills it one way, and has equal margins either side both ways. */
function assertFitsCentred({ inner, frame }, what) {
  const left = frame.left - inner.left;
  const right = inner.left + inner.width - (frame.left + frame.width);
  const top = frame.top - inner.top;
  const bottom = inner.top + inner.height - (frame.top + frame.height);
  const msg = `${what}: margins left ${left.toFixed(1)} right ${right.toFixed(1)} top ${top.toFixed(1)} bottom ${bottom.toFixed(1)} in ${inner.width}×${inner.height}`;
  for (const m of [left, right, top, bottom]) assert.ok(m > -1, `inside the player (${msg})`);
  assert.ok(Math.min(left + right, top + bottom) < 2, `as large as fits (${msg})`);
  assert.ok(Math.abs(left - right) < 2, `centred across (${msg})`);
  assert.ok(Math.abs(top - bottom) < 2, `centred down (${msg})`);
}

test('the replay fits the player and is centred both ways, in any window and in fullscreen', async () => {
  const visitor = await env.browser.newPage();
  // A tall narrow window, then a wide one: the visitor's proportions are never the player's.
  await visitor.setViewportSize({ width: 600, height: 900 });
  const { id } = await openVisitor(env.browser, env.site, '/index.html', visitor);
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  await untilState(watch, 'live');
  await waitFor(() => watch.evaluate(() => !!document.querySelector('[data-testid="player"] iframe')), { message: 'the replay' });
  const vp = watch.locator('#vp-size');
  await waitFor(async () => (await vp.innerText()) === '600 × 900', { message: 'the visitor\'s viewport above the replay' });
  assertFitsCentred(await geometry(watch), 'a tall page');

  await visitor.setViewportSize({ width: 1400, height: 500 });
  await waitFor(async () => (await vp.innerText()) === '1400 × 500', { message: 'the new viewport' });
  await waitFor(async () => { assertFitsCentred(await geometry(watch), 'a wide page'); return true; }, { message: 'the replay refitted' });

  // The PM's window changes: the replay follows it.
  await watch.setViewportSize({ width: 1000, height: 1000 });
  await waitFor(async () => { assertFitsCentred(await geometry(watch), 'a square window'); return true; }, { message: 'the replay refitted to the window' });
  const windowed = (await geometry(watch)).frame.width;

  await watch.keyboard.press('f');
  await waitFor(() => watch.evaluate(() => !!document.fullscreenElement), { message: 'fullscreen' });
  await waitFor(async () => {
    const g = await geometry(watch);
    assertFitsCentred(g, 'fullscreen');
    return g.frame.width > windowed;
  }, { message: 'a larger replay in fullscreen' });
  await watch.close();
  await visitor.close();
});

test('a live session\'s timeline: the live edge, and "N s behind live" once rewound', async () => {
  const { page: visitor, id } = await openVisitor(env.browser, env.site);
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  await untilState(watch, 'live');
  const edge = watch.locator('#live-edge');
  await edge.waitFor({ state: 'visible' });
  const time = watch.locator('#time');
  assert.doesNotMatch(await time.innerText(), /behind/);
  await watch.locator('[data-testid="play-toggle"]').click();
  await untilState(watch, 'rewound');
  // Paused, the view falls further behind the visitor every second.
  const behind = async () => Number((/· (\d+) s behind live$/.exec(await time.innerText()) ?? [])[1]);
  const first = await waitFor(async () => { const n = await behind(); return n >= 1 && n; }, { message: 'the time label saying how far behind live' });
  await waitFor(async () => (await behind()) > first, { message: 'falling further behind while paused' });
  await watch.locator('[data-testid="state-go-live"]').click();
  await untilState(watch, 'live');
  await waitFor(async () => !/behind/.test(await time.innerText()), { message: 'live again: not behind' });
  // An ended session has no live edge.
  await visitor.close();
  await untilState(watch, 'ended', 30_000);
  await edge.waitFor({ state: 'hidden' });
  await watch.close();
});

test('no snapshot yet, then live as soon as the page is captured', async () => {
  const snapshot = await recordedSnapshot(env);
  const rec = await openRawRecorder(env, 'stage-late-snapshot', snapshot);
  await rec.send([rec.at(0, 5, { tag: 'hello', payload: {} })]);
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/stage-late-snapshot`);
  assert.match(await untilState(watch, 'no-snapshot'), /No snapshot yet/);
  await rec.send(rec.snapshot().map((e) => ({ ...e, timestamp: Date.now() })));
  await untilState(watch, 'live');
  await waitFor(() => watch.evaluate(() => !!document.querySelector('[data-testid="player"] iframe')), { message: 'the replay' });
  await rec.close();
  await watch.close();
});

test('a hub that freezes (its socket open but silent) shows reconnecting, and live again once it answers', async () => {
  const { page: visitor, id } = await openVisitor(env.browser, env.site);
  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  await untilState(watch, 'live');
  // A stopped process: its sockets stay open and nothing closes them, as when a network goes away.
  process.kill(env.hub.proc.pid, 'SIGSTOP');
  try {
    assert.match(await untilState(watch, 'reconnecting', 40_000), /unreachable/);
    assert.equal(await watch.locator('[data-testid="live-badge"]').innerText(), 'reconnecting');
    assert.doesNotMatch(await watch.locator('[data-testid="latency"]').innerText(), /\d/);
  } finally {
    process.kill(env.hub.proc.pid, 'SIGCONT');
  }
  await untilState(watch, 'live', 40_000);
  await watch.close();
  await visitor.close();
});

test('no page errors', () => {
  // The favicon's 404; sockets given up while the hub was frozen, or refused as it came back.
  const errors = env.browser.errors.filter((e) => !/favicon|status of 404|WebSocket connection to|ERR_CONNECTION_REFUSED/.test(e));
  assert.deepEqual(errors, [], errors.join('\n'));
});
