// Browser latency benchmark (not a test): how long a DOM change in a visitor's page takes to show in
// a PM's live replay, end to end, through the real recorder, hub and watch page in headless Chromium.
//
//   node bench/browser-latency.mjs [--hub http://127.0.0.1:8080] [--n 100]
//
// Without --hub it starts the built hub (STREAMDOM_BIN, default target/release/streamdom if built,
// else target/debug/streamdom) on a free port with a temporary database. Both pages live in one
// Chromium, so they share one clock: the visitor page stamps each change with Date.now() as it makes
// it, a MutationObserver in the watch page stamps it when the replayed node appears, and the
// difference is the true delay. The watch page's own estimate (from clock sync) is printed beside it.

import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { Hub, KEY, launchBrowser, replayText, signIn, waitFor } from '../tests/browser/harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('n', 100));

function page(hub, title, body) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:14px sans-serif;margin:16px} td{border:1px solid #ddd;padding:2px 4px}</style></head>
<body><h1>${title}</h1><div id="log"></div>${body}
<script src="${hub}/streamdom.js?key=${KEY}"></script><script>window.__rec = StreamDOM.init({ maskAllInputs: false });</script>
</body></html>`;
}

function largeBody() {
  // About 1 MB of ordinary markup: a long product table.
  const rows = [];
  for (let i = 0; rows.join('').length < 1_000_000; i++) {
    rows.push(`<tr><td>SKU-${i}</td><td>Product number ${i} with a fairly long descriptive name</td><td class="p">${(i * 7.31).toFixed(2)}</td><td><a href="#p${i}">details</a></td></tr>`);
  }
  return `<table>${rows.join('\n')}</table>`;
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), max: s[s.length - 1] };
}

async function run(browser, siteUrl, hubUrl, path) {
  const visitor = await browser.newPage();
  await visitor.goto(`${siteUrl}${path}`);
  const id = await waitFor(() => visitor.evaluate(() => window.__rec?.sessionId), { message: 'the recorder' });
  await visitor.evaluate(() => { const p = document.createElement('p'); p.textContent = 'ready'; document.getElementById('log').append(p); });
  const watch = await browser.newPage();
  await watch.goto(`${hubUrl}/sessions/${id}`);
  await waitFor(async () => (await replayText(watch)).includes('ready'), { timeout: 60_000, message: 'the live replay' });
  // Let the clock sync settle (burst of pings) before measuring.
  await waitFor(() => watch.evaluate(() => window.__streamdom.timing.synced), { timeout: 10_000, message: 'clock sync' });

  await watch.evaluate(() => {
    const seen = (window.__seen = new Map());
    const doc = document.querySelector('[data-testid="player"] iframe').contentDocument;
    new MutationObserver((records) => {
      const now = Date.now();
      for (const r of records) for (const n of r.addedNodes) {
        const m = /mark-(\d+)/.exec(n.textContent ?? '');
        if (m && !seen.has(+m[1])) seen.set(+m[1], now);
      }
    }).observe(doc, { childList: true, subtree: true });
  });

  const truth = [];
  const reported = [];
  for (let i = 1; i <= N; i++) {
    const t0 = await visitor.evaluate((k) => {
      const t = Date.now();
      const p = document.createElement('p');
      p.textContent = `mark-${k}`;
      document.getElementById('log').append(p);
      return t;
    }, i);
    const t1 = await waitFor(() => watch.evaluate((k) => window.__seen.get(k), i), { interval: 2, timeout: 10_000, message: `mark-${i}` });
    truth.push(t1 - t0);
    const l = await watch.evaluate(() => window.__streamdom.latency);
    if (l) reported.push(l.total);
    // Irregular spacing, so that changes do not fall into step with animation frames.
    await new Promise((r) => setTimeout(r, 40 + Math.random() * 80));
  }
  await watch.close();
  await visitor.close();
  return { truth: stats(truth), reported: stats(reported) };
}

const fmt = (s) => `p50 ${s.p50} ms · p95 ${s.p95} ms · p99 ${s.p99} ms · max ${s.max} ms (n=${s.n})`;

let hub;
let hubUrl = arg('hub');
if (!hubUrl) {
  const release = resolve('target/release/streamdom');
  process.env.STREAMDOM_BIN ??= existsSync(release) ? release : 'target/debug/streamdom';
  hub = await Hub.start();
  hubUrl = hub.url;
  console.log(`hub: ${process.env.STREAMDOM_BIN} on ${hubUrl}`);
}
const large = largeBody();
const site = createServer((req, res) => {
  const html = req.url.startsWith('/large') ? page(hubUrl, 'Large page', large) : page(hubUrl, 'Small page', '<p>A small page.</p>');
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
});
await new Promise((r) => site.listen(0, '127.0.0.1', r));
const siteUrl = `http://127.0.0.1:${site.address().port}`;
const browser = await launchBrowser();
// Signs in to a hub this script started; for one given with --hub, set STREAMDOM_ADMIN_PASSWORD to its password.
await signIn(browser, hub ?? { url: hubUrl });
try {
  for (const [name, path] of [['small page', '/small'], [`large page (${(large.length / 1e6).toFixed(2)} MB of HTML)`, '/large']]) {
    const r = await run(browser, siteUrl, hubUrl, path);
    console.log(`${name}, ${N} changes:`);
    console.log(`  measured (one clock): ${fmt(r.truth)}`);
    console.log(`  watch page's estimate: ${fmt(r.reported)}`);
  }
} finally {
  await browser.close();
  site.close();
  await hub?.dispose();
}
