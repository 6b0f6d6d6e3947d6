// What the recorder reports beside the DOM (issue 16): a page identifies its visitor and tracks an
// event before init, logs, throws, rejects, makes fetch and XHR requests (one that succeeds, one
// that 404s, one that cannot connect) and navigates with pushState; the events the hub stored,
// read back through its API, hold all of it in order, in the shared shapes, with secrets masked,
// and the recorder left nothing uncaught in the page. init's switches turn each kind off.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { envelopes, freePort, setup, waitFor } from './harness.mjs';

let env;
let closedPort;

const json = (res, status, body, headers = {}) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers }).end(text);
};

before(async () => {
  closedPort = await freePort();
  env = await setup({
    site: () => ({
      routes: {
        '/api/ok': (req, res) => json(res, 200, { ok: true, session_token: 'resp-token-secret' }, { 'Set-Cookie': 'sid=cookie-secret', 'X-Trace': 'trace-1' }),
        '/api/echo': (req, res) => {
          const chunks = [];
          req.on('data', (c) => chunks.push(c));
          req.on('end', () => json(res, 201, JSON.parse(Buffer.concat(chunks).toString() || '{}')));
        },
      },
    }),
  });
});

after(async () => {
  await env?.teardown();
});

/** The session's stored events, once one of them satisfies `done`. */
async function storedUntil(id, done, what) {
  return waitFor(async () => {
    const list = await envelopes(env.hub, id).catch(() => []);
    return list.some((e) => done(e.event)) ? list : null;
  }, { timeout: 20_000, message: what });
}

const isTag = (tag) => (e) => e.type === 5 && e.data?.tag === tag;
const plugin = (name) => (e) => e.type === 6 && e.data?.plugin === name;

test('identify, track, console, errors, network and page visits arrive in order, in their shapes, masked', async () => {
  const page = await env.browser.newPage();
  const hubPosts = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().includes('/api/sessions/')) hubPosts.push(r.url()); });
  await page.goto(`${env.site.url}/reports.html?sid=reports-1&token=page-secret`);
  await waitFor(() => page.evaluate(() => window.__rec?.sessionId), { message: 'the recorder to start' });
  assert.deepEqual(await page.evaluate(() => window.__early), [true, true]);
  // Wait for the first snapshot, so that the typed value below is a masked input's.
  await storedUntil('reports-1', (e) => e.type === 2, 'the first full snapshot');
  await page.locator('#search').pressSequentially('typed-secret-123');

  await page.evaluate(async ([closedPort]) => {
    const typed = document.getElementById('search').value;
    console.log('hello', { n: 1, nested: { deep: [1, 2] } });
    console.info('searching for', typed);
    console.warn('careful');
    console.debug('details');
    const cyclic = { name: 'loop' };
    cyclic.self = cyclic;
    console.error('failed:', new TypeError('logged-error'), cyclic, document.getElementById('log'));
    setTimeout(() => { throw new Error('uncaught-boom'); }, 0);
    Promise.reject(new Error('rejected-boom'));
    await new Promise((r) => setTimeout(r, 50));
    window.__bad = [StreamDOM.track('$pageview'), StreamDOM.identify('')];
    await (await fetch('/api/ok?access_token=tok-secret&page=1')).json();
    await fetch('/api/missing');
    await fetch(`http://127.0.0.1:${closedPort}/unreachable`).catch(() => 'the page handles its own failure');
    await new Promise((resolve) => {
      const x = new XMLHttpRequest();
      x.onloadend = resolve;
      x.open('GET', '/api/ok?via=xhr');
      x.send();
    });
    await (await fetch('/api/echo', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer hdr-secret', 'X-Request': 'req-1' },
      body: JSON.stringify({ user: 'mia', password: 'hunter2', query: typed }),
    })).json();
  }, [closedPort]);
  assert.deepEqual(await page.evaluate(() => window.__bad), [false, false], 'reserved names and empty user ids are refused');

  // The tab goes to the background: the recorder posts what is unacknowledged (its own request,
  // which must not be recorded), then comes back.
  await page.evaluate(() => {
    console.log('before hiding');
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
    delete document.visibilityState;
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await page.evaluate(() => {
    history.pushState({}, '', '/reports.html?step=2&auth=auth-secret');
    document.title = 'Step 2';
  });
  await page.evaluate(() => StreamDOM.track('done', { ok: true }));
  await storedUntil('reports-1', plugin('streamdom/network@1'), 'the network batch');
  await storedUntil('reports-1', isTag('done'), 'the last track');
  await page.close();
  const all = await storedUntil('reports-1', (e) => isTag('$visibility')(e) && e.data.payload.state === 'unload', 'the unload, posted as the page closed');

  // Stored in the order emitted.
  assert.deepEqual(all.map((e) => e.seq), all.map((_, i) => all[0].seq + i));
  const ours = all.map((e) => e.event).filter((e) => e.type === 5 || e.type === 6);
  for (let i = 1; i < ours.length; i++) assert.ok(ours[i].timestamp >= ours[i - 1].timestamp, `timestamps of our events in order at ${i}`);
  const label = (e) => {
    if (e.type === 5) return e.data.tag === '$visibility' ? `$visibility:${e.data.payload.state}` : e.data.tag;
    return e.data.plugin === 'rrweb/console@1' ? `${e.data.payload.source}:${e.data.payload.level}` : 'network';
  };
  const labels = ours.map(label);
  assert.deepEqual(labels.slice(0, 2), ['$identify', 'cart_viewed'], 'identify and track made before init come first');
  assert.deepEqual(all[0].event.data.tag, '$identify', 'before even the first snapshot');
  const order = ['console:log', 'console:info', 'console:warn', 'console:debug', 'console:error', 'uncaught:error', 'unhandledrejection:error',
    'network', '$visibility:hidden', '$visibility:visible', '$pageview', 'done', '$visibility:unload'];
  const at = order.map((l) => labels.indexOf(l));
  assert.ok(at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1])), `in order: ${labels.join(', ')}`);

  // Shapes.
  const events = all.map((e) => e.event);
  assert.deepEqual(events.find(isTag('$identify')).data.payload, { user_id: 'user-42', traits: { plan: 'pro', seats: 3 } });
  assert.deepEqual(events.find(isTag('cart_viewed')).data.payload, { items: 2 });
  assert.deepEqual(events.find(isTag('done')).data.payload, { ok: true });
  assert.equal(events.filter(isTag('$identify')).length, 1, 'the refused identify is not recorded');
  assert.equal(events.filter(isTag('$pageview')).length, 1, 'the refused track is not recorded');
  const consoleOf = (level, source = 'console') => events.find((e) => plugin('rrweb/console@1')(e) && e.data.payload.level === level && e.data.payload.source === source)?.data.payload;
  assert.deepEqual(consoleOf('log').payload, ['hello', '{"n":1,"nested":{"deep":[1,2]}}']);
  assert.ok(consoleOf('log').trace.length > 0 && consoleOf('log').trace.every((l) => typeof l === 'string'));
  assert.deepEqual(consoleOf('info').payload, ['searching for', '****************'], 'the masked input value is not in the console text');
  const logged = consoleOf('error').payload;
  assert.equal(logged[0], 'failed:');
  assert.match(logged[1], /^TypeError: logged-error/);
  assert.equal(logged[2], '{"name":"loop","self":[Circular]}');
  assert.equal(logged[3], '<div#log>');
  const uncaught = consoleOf('error', 'uncaught');
  assert.deepEqual(uncaught.payload, ['Error: uncaught-boom']);
  assert.ok(uncaught.trace.length > 0, 'with its stack');
  assert.deepEqual(consoleOf('error', 'unhandledrejection').payload, ['Error: rejected-boom']);
  assert.ok(consoleOf('error', 'unhandledrejection').trace.length > 0);

  const requests = events.filter(plugin('streamdom/network@1')).flatMap((e) => e.data.payload.requests);
  const site = env.site.url;
  assert.deepEqual(requests.map((r) => [r.initiator, r.method, r.url.replace(site, ''), r.status]), [
    ['fetch', 'GET', '/api/ok?access_token=***&page=1', 200],
    ['fetch', 'GET', '/api/missing', 404],
    ['fetch', 'GET', `http://127.0.0.1:${closedPort}/unreachable`, 0],
    ['xhr', 'GET', '/api/ok?via=xhr', 200],
    ['fetch', 'POST', '/api/echo', 201],
  ]);
  const [ok, missing, failed, xhr, echo] = requests;
  for (const r of requests) {
    assert.equal(typeof r.start, 'number');
    assert.ok(r.duration >= 0);
  }
  assert.equal(ok.response_size, Buffer.byteLength(JSON.stringify({ ok: true, session_token: 'resp-token-secret' })));
  assert.equal(ok.response_body, JSON.stringify({ ok: true, session_token: '***' }));
  assert.equal(ok.response_headers['x-trace'], 'trace-1');
  assert.ok(!('set-cookie' in ok.response_headers));
  assert.equal(missing.error, null);
  assert.equal(missing.response_body, 'not found');
  assert.equal(failed.error, 'Failed to fetch');
  assert.equal(failed.response_size, null);
  assert.equal(xhr.response_size, ok.response_size);
  assert.deepEqual(JSON.parse(echo.request_body), { user: 'mia', password: '***', query: '****************' });
  assert.equal(echo.request_headers['x-request'], 'req-1');
  assert.ok(!('authorization' in echo.request_headers));
  assert.ok(hubPosts.length > 0, 'the recorder posted to the hub while hidden');
  assert.ok(!requests.some((r) => r.url.includes('/api/sessions/')), 'and did not record its own request');

  const visits = events.filter(isTag('$pageview')).map((e) => e.data.payload);
  assert.deepEqual(visits, [{ url: `${site}/reports.html?step=2&auth=***`, title: 'Step 2' }], 'the title the page set in the same task');
  assert.equal(events.find((e) => e.type === 4).data.href, `${site}/reports.html?sid=reports-1&token=***`);
  assert.deepEqual(events.filter(isTag('$visibility')).map((e) => e.data.payload.state), ['hidden', 'visible', 'unload']);

  const text = JSON.stringify(all);
  for (const secret of ['page-secret', 'tok-secret', 'auth-secret', 'resp-token-secret', 'cookie-secret', 'hdr-secret', 'hunter2', 'typed-secret-123']) {
    assert.ok(!text.includes(secret), `${secret} must not be stored`);
  }

  // Nothing uncaught in the page but what the page itself threw and logged.
  const own = /uncaught-boom|rejected-boom|logged-error|failed:|status of 404|ERR_CONNECTION_REFUSED|favicon/;
  assert.deepEqual(env.browser.errors.filter((e) => !own.test(e)), []);
});

test('init({ console: false, network: false, pages: false }) records none of them, identify and track still', async () => {
  const page = await env.browser.newPage();
  await page.goto(`${env.site.url}/reports.html?sid=reports-off&off=1`);
  await waitFor(() => page.evaluate(() => window.__rec?.sessionId), { message: 'the recorder to start' });
  await page.evaluate(async () => {
    console.log('not recorded');
    await fetch('/api/ok');
    history.pushState({}, '', '/reports.html?off=1&elsewhere=1');
    await new Promise((r) => setTimeout(r, 1200));
    StreamDOM.track('done');
  });
  const all = (await storedUntil('reports-off', isTag('done'), 'the last track')).map((e) => e.event);
  await page.close();
  assert.deepEqual(all.filter((e) => e.type === 5 || e.type === 6).map((e) => e.data.tag ?? e.data.plugin), ['$identify', 'cart_viewed', 'done']);
});
