// Heatmap benchmark (not a test): a heatmap over --sessions sessions of one page, timed at the API
// and in the page (headless Chromium, navigation to the points drawn). See docs/PERFORMANCE.md
// ("Heatmaps").
//
//   node bench/heatmap-page.mjs [--sessions 10000] [--runs 15] [--concurrency 32]
//
// It starts the built hub (STREAMDOM_BIN, default target/debug/streamdom) on a free port with a
// temporary SQLite database, and records --sessions sessions through the real ingest path: each is
// one POST /api/sessions/{id}/events (the recorder's fallback, answered once durable) holding a Meta,
// a full snapshot of a page of 40 buttons, 8 `$click`s on random buttons at random offsets, 1.2 s
// apart (a mutation 50 ms after every other one: the others are dead clicks), 20 mouse moves and 2 scrolls; 70 % desktop, 20 % phone and 10 %
// tablet viewports, every URL /product/1 with its own query. The hub aggregates them as it would
// any recording. Then it times GET /api/heatmaps (click, move, scroll) and the heatmap page.

import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { Hub, KEY, launchBrowser, signIn } from '../tests/browser/harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? '' : dflt;
};
const SESSIONS = Number(arg('sessions', 10_000));
const RUNS = Number(arg('runs', 15));
const CONCURRENCY = Number(arg('concurrency', 32));
const BUTTONS = 40;
process.env.STREAMDOM_BIN ??= resolve('target/debug/streamdom');

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

/** rrweb's serialized page: html > head, body > main#shop > 40 buttons (ids from 1). */
function snapshot() {
  let id = 1;
  const el = (tagName, attributes, childNodes = []) => ({ type: 2, tagName, attributes, childNodes, id: id++ });
  const doc = { type: 0, childNodes: [], id: id++ };
  const html = el('html', {});
  const head = el('head', {}, [el('style', {}, [{ type: 3, textContent: 'button{display:inline-block;width:280px;height:48px;margin:8px}', isStyle: true, id: 1000 }])]);
  const buttons = Array.from({ length: BUTTONS }, (_, i) => el('button', { type: 'button' }, [{ type: 3, textContent: `Item ${i}`, id: 2000 + i }]));
  const body = el('body', {}, [el('main', { id: 'shop' }, buttons)]);
  html.childNodes = [head, body];
  doc.childNodes = [html];
  return { node: doc, initialOffset: { left: 0, top: 0 } };
}
const SNAPSHOT = snapshot();

function session(i) {
  const r = rand();
  const width = r < 0.7 ? 1280 : r < 0.9 ? 390 : 800;
  const t0 = Date.now();
  const events = [
    { type: 4, timestamp: t0, data: { href: `https://shop.example/product/1?visit=${i}`, width, height: 800 } },
    { type: 2, timestamp: t0 + 1, data: SNAPSHOT },
  ];
  let t = t0 + 100;
  for (let c = 0; c < 8; c++) {
    const b = Math.floor(rand() * BUTTONS);
    const sel = `main#shop>button:nth-of-type(${b + 1})`;
    events.push({ type: 5, timestamp: (t += 1200), data: { tag: '$click', payload: { sel, ox: rand(), oy: rand(), px: 100 + (b % 4) * 296, py: 30 + Math.floor(b / 4) * 64 } } });
    if (c % 2) events.push({ type: 3, timestamp: t + 50, data: { source: 0, texts: [], attributes: [], removes: [], adds: [] } });
  }
  for (let m = 0; m < 20; m++) {
    events.push({ type: 3, timestamp: (t += 100), data: { source: 1, positions: [{ x: Math.floor(rand() * width), y: Math.floor(rand() * 800), id: 5, timeOffset: 0 }] } });
  }
  events.push({ type: 3, timestamp: (t += 500), data: { source: 3, id: 1, x: 0, y: Math.floor(rand() * 900) } });
  events.push({ type: 3, timestamp: (t += 500), data: { source: 3, id: 1, x: 0, y: 0 } });
  return JSON.stringify({ type: 'events', seq: 1, events });
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]; };
const fmt = (xs) => `median ${pct(xs, 50).toFixed(0)} ms, p95 ${pct(xs, 95).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;

const hub = await Hub.start(['--new-sessions-per-sec', '1000000', '--connections-per-address', '0', '--recorders-per-key', '0', '--project-events-per-sec', '0', '--project-bytes-per-sec', '0']);
let browser;
try {
  let started = Date.now();
  let next = 0;
  let failed = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < SESSIONS) {
      const i = next++;
      const res = await fetch(`${hub.url}/api/sessions/heat-${i}/events?key=${KEY}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: session(i) });
      if (!res.ok) { failed++; if (failed < 5) console.error(`session ${i}: ${res.status} ${await res.text()}`); }
    }
  }));
  const seedMs = Date.now() - started;
  console.log(`recorded ${SESSIONS - failed} sessions (${failed} refused) through POST …/events in ${(seedMs / 1000).toFixed(1)} s (${((SESSIONS * 1000) / seedMs).toFixed(0)} sessions/s)`);

  for (const kind of ['click', 'move', 'scroll']) {
    const path = `/api/heatmaps?url=/product/1&kind=${kind}`;
    const times = [];
    let body;
    for (let r = 0; r < RUNS + 2; r++) {
      started = performance.now();
      body = await hub.json(path);
      if (r >= 2) times.push(performance.now() - started);
    }
    console.log(`API ${kind}: ${fmt(times)} (total ${body.total}, ${body.points.length} points, ${body.elements.length} elements, ${body.dead_clicks} dead, ${body.rage_clicks} rage)`);
  }

  browser = await launchBrowser();
  await signIn(browser, hub);
  const page = await browser.newPage();
  for (const kind of ['click', 'move']) {
    const times = [];
    for (let r = 0; r < RUNS + 2; r++) {
      await page.goto(`${hub.url}/heatmaps?url=/product/1&kind=${kind}`);
      await page.waitForSelector('[data-testid="heatmap-player"][data-ready="true"]', { timeout: 30_000 });
      const ms = await page.evaluate(() => performance.getEntriesByName('heatmap:drawn')[0].startTime);
      if (r >= 2) times.push(ms);
    }
    console.log(`page ${kind}: navigation to points drawn ${fmt(times)}`);
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (2 cores, shared with other builds)`);
} finally {
  await browser?.close();
  await hub.dispose();
}
