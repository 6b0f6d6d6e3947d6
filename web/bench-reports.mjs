// What the recorder's console and network capture cost the page, in headless Chromium: the same
// loops of console.log, fetch and XMLHttpRequest on a page without the recorder and on pages with
// it (default options; and with bodies and headers recorded for every URL), alternating, median
// of the rounds. Needs a built hub (`cargo build`; STREAMDOM_BIN picks another) and Chromium.
// Usage: node web/bench-reports.mjs [--rounds 5]
import { createServer } from 'node:http';
import { Hub, KEY, launchBrowser, waitFor } from '../tests/browser/harness.mjs';

const arg = (name, d) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const ROUNDS = arg('rounds', 5);

const body = JSON.stringify({ ok: true, items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}` })) });
const page = (hub, init) => `<!doctype html><html><head><meta charset="utf-8"><title>bench</title></head><body>
<input id="q" type="text" value="typed value"><div id="log"></div>
${init === null ? '' : `<script src="${hub}/streamdom.js?key=${KEY}"></script><script>window.__rec = StreamDOM.init(${init});</script>`}
</body></html>`;

const hub = await Hub.start();
const variants = {
  'no recorder': null,
  'recorder, defaults': '{}',
  'recorder, bodies and headers of every URL': "{ network: { bodies: ['/'], headers: ['/'] } }",
};
const server = createServer((req, res) => {
  if (req.url.startsWith('/api/')) {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    return;
  }
  const name = Object.keys(variants)[Number(new URL(req.url, 'http://x').searchParams.get('v'))];
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page(hub.url, variants[name]));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const site = `http://127.0.0.1:${server.address().port}`;
const browser = await launchBrowser();

/** One round on a fresh page: µs per call of each loop. */
async function round(v) {
  const p = await browser.context.newPage();
  await p.goto(`${site}/?v=${v}`);
  if (Object.values(variants)[v] !== null) {
    await waitFor(() => p.evaluate(() => window.__rec?.sessionId), { message: 'the recorder' });
  }
  // Past the first snapshot (after load, at most 300 ms idle) so that it is not in the figures.
  await new Promise((r) => setTimeout(r, 1500));
  const r = await p.evaluate(async () => {
    const per = (t0, n) => ((performance.now() - t0) * 1000) / n;
    let t0 = performance.now();
    // Recorded: within the recorder's burst of 100 messages.
    for (let i = 0; i < 100; i++) console.log('message', i, { a: i, list: [1, 2, 3], nested: { deep: 'text' } });
    const logRecorded = per(t0, 100);
    t0 = performance.now();
    // Past the burst: a page logging in a loop.
    for (let i = 0; i < 5000; i++) console.log('message', i);
    const logLoop = per(t0, 5000);
    t0 = performance.now();
    for (let i = 0; i < 200; i++) await (await fetch(`/api/items?i=${i}`)).json();
    const fetchOne = per(t0, 200);
    t0 = performance.now();
    for (let i = 0; i < 200; i++) {
      await new Promise((resolve) => {
        const x = new XMLHttpRequest();
        x.onloadend = resolve;
        x.open('GET', `/api/items?x=${i}`);
        x.send();
      });
    }
    const xhrOne = per(t0, 200);
    return { logRecorded, logLoop, fetchOne, xhrOne };
  });
  await p.close();
  return r;
}

const results = Object.keys(variants).map(() => []);
for (let i = 0; i < ROUNDS; i++) {
  for (let v = 0; v < results.length; v++) results[v].push(await round(v));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`median of ${ROUNDS} rounds, µs per call (console.log: 100 recorded, then 5,000 in a loop; fetch and XHR: 200 sequential, JSON of ${body.length} B)`);
console.log('| page | console.log, recorded | console.log, in a loop | fetch + json() | XHR |');
console.log('|---|---|---|---|---|');
Object.keys(variants).forEach((name, v) => {
  const m = (k) => median(results[v].map((r) => r[k])).toFixed(0);
  console.log(`| ${name} | ${m('logRecorded')} | ${m('logLoop')} | ${m('fetchOne')} | ${m('xhrOne')} |`);
});
await browser.close();
server.closeAllConnections();
server.close();
await hub.dispose();
