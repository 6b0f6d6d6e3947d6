// Browser latency benchmark (not a test): how long a change in a visitor's page takes to show in a
// PM's live replay, end to end, through the real recorder, hub and watch page in headless Chromium,
// on real pages (the Rust documentation installed with the toolchain), and what the recorder costs
// the visitor's page load. See docs/PERFORMANCE.md ("Live on real pages") for figures.
//
//   node bench/browser-latency.mjs [--pages std/index.html:10,std/primitive.slice.html:65]
//        [--join std/primitive.slice.html] [--load std/num/struct.Wrapping.html] [--loads 5]
//        [--joins 3] [--profile DIR] [--profile-seconds 8] [--docs DIR] [--hub URL]
//
// --pages: the visitor's path through the docs, `page:seconds` each; it navigates from one to the
//   next mid-run (the session continues). Meanwhile it moves the mouse, scrolls now and then, and
//   the page changes its DOM every 150 ms (a mark stamped with Date.now()). The PM watches live from
//   before the first page. Per page: p50/p99 of the delay of every mark, and p50 "at 5 s" (marks
//   made 2.5–7.5 s after the page loaded) and "at 60 s" (57.5–62.5 s, or the page's last 5 s).
// --join: a PM opens the watch page while the visitor sits on this page; time to its first frame.
// --load: page-load time (loadEventEnd) and long-task time (PerformanceObserver) of this page with
//   and without the recorder, --loads times each, alternating.
// --profile DIR: CPU profiles (.cpuprofile, open in DevTools) and timeline traces of the watch page
//   and the visitor's page for --profile-seconds on the last page, and of the watch page joining;
//   a summary (self time by function, timeline events by name) is printed.
// Set any of --pages/--join/--load to '' to skip that part.
//
// Without --hub it starts the built hub (STREAMDOM_BIN, default target/release/streamdom if built,
// else target/debug/streamdom) on a free port with a temporary database. Visitor and PM are separate
// browser contexts of one Chromium (separate renderer processes, one clock), and the site is served
// on `localhost` by a real HTTP server, the hub on 127.0.0.1.

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { basename, extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { ADMIN, CHROMIUM, CHROMIUM_ARGS, Hub, KEY, sleep, waitFor } from '../tests/browser/harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? '' : dflt;
};
const DOCS = arg('docs', join(execFileSync('rustc', ['--print', 'sysroot']).toString().trim(), 'share/doc/rust/html'));
const PAGES = arg('pages', 'std/index.html:10,std/primitive.slice.html:65').split(',').filter(Boolean).map((p) => {
  const [path, secs] = p.split(':');
  return { path, secs: Number(secs ?? 30) };
});
const JOIN = arg('join', 'std/primitive.slice.html');
const JOINS = Number(arg('joins', 3));
const LOAD = arg('load', 'std/num/struct.Wrapping.html');
const LOADS = Number(arg('loads', 5));
const PROFILE = arg('profile', '');
const PROFILE_SECS = Number(arg('profile-seconds', 8));
const MARK_EVERY_MS = 150;

// ---- the site: the docs, with the recorder snippet in every page's <head> unless ?norec ----

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.woff2': 'font/woff2', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

function site(hubUrl) {
  return createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = normalize(join(DOCS, decodeURIComponent(url.pathname)));
    if (!file.startsWith(DOCS) || !existsSync(file)) return res.writeHead(404).end();
    let body = readFileSync(file);
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    if (type.startsWith('text/html')) {
      const snippet = url.searchParams.has('norec') ? '' : `<script src="${hubUrl}/streamdom.js?key=${KEY}"></script><script>window.__rec = StreamDOM.init({ maskAllInputs: false });</script>`;
      body = body.toString().replace('</head>', `${snippet}</head>`);
    }
    // Assets may be cached (a repeat view); pages never are.
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'max-age=3600' }).end(body);
  });
}

// ---- statistics ----

const quantile = (s, q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? { n: s.length, p50: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), max: s[s.length - 1] } : { n: 0 };
}
const fmt = (s) => (s.n ? `p50 ${s.p50} · p95 ${s.p95} · p99 ${s.p99} · max ${s.max} ms (n=${s.n})` : 'no samples');
const median = (xs) => stats(xs).p50;

// ---- the visitor ----

/** Runs in the visitor's page: a DOM change every 150 ms, stamped with the page and time. */
function startMarks({ page, every }) {
  const box = document.createElement('div');
  box.id = 'sd-marks';
  box.style.cssText = 'position:fixed;right:8px;bottom:8px;background:#ffd;padding:4px;font:12px monospace;z-index:9999';
  document.body.append(box);
  const t0 = performance.timeOrigin + performance.getEntriesByType('navigation')[0].loadEventEnd;
  let k = 0;
  setInterval(() => {
    const p = document.createElement('p');
    p.textContent = `mark-${page}-${++k}-${Math.round(Date.now() - t0)}@${Date.now()}`;
    box.append(p);
    // A bounded DOM: the change is the append; old marks go.
    while (box.childElementCount > 5) box.firstElementChild.remove();
  }, every);
}

/** Mouse movement all the time and a scroll every ~2 s, until stop() is called. */
function wiggle(page) {
  let on = true;
  const run = (async () => {
    for (let i = 0; on; i++) {
      const x = 300 + 250 * Math.sin(i / 15);
      const y = 350 + 200 * Math.cos(i / 11);
      await page.mouse.move(x, y).catch(() => {});
      if (i % 60 === 59) await page.mouse.wheel(0, i % 120 === 119 ? -600 : 900).catch(() => {});
      await sleep(33);
    }
  })();
  return { stop: async () => { on = false; await run; } };
}

// ---- the watch page ----

/** In the watch page: record when each mark first shows in the replay (re-attached on every rebuild). */
function observeMarks() {
  const seen = (window.__seen = new Map());
  let doc = null;
  let obs = null;
  const scan = (node) => {
    const text = node.textContent ?? '';
    for (const m of text.matchAll(/mark-(\d+)-(\d+)-(\d+)@(\d+)/g)) {
      const key = `${m[1]}-${m[2]}`;
      if (!seen.has(key)) seen.set(key, { page: +m[1], onPage: +m[3], delay: Date.now() - +m[4] });
    }
  };
  setInterval(() => {
    const d = document.querySelector('[data-testid="player"] iframe')?.contentDocument;
    if (!d || d === doc) return;
    doc = d;
    obs?.disconnect();
    obs = new MutationObserver((records) => {
      for (const r of records) for (const n of r.addedNodes) scan(n);
    });
    obs.observe(d, { childList: true, subtree: true });
    if (d.body) scan(d.body);
  }, 20);
}

// ---- profiling over CDP ----

/** CPU profiles of each [name, context, page, url] and one timeline trace (tracing is browser-wide). */
async function startProfiles(targets) {
  const sessions = [];
  for (const [name, ctx, page, url] of targets) {
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    sessions.push({ name, url, cdp });
  }
  const tracer = sessions[0].cdp;
  const trace = [];
  tracer.on('Tracing.dataCollected', (e) => trace.push(...e.value));
  const done = new Promise((r) => tracer.once('Tracing.tracingComplete', r));
  await tracer.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: ['devtools.timeline', 'v8.execute', 'disabled-by-default-devtools.timeline'] } });
  return async () => {
    const out = [];
    for (const s of sessions) out.push({ name: s.name, url: s.url, profile: (await s.cdp.send('Profiler.stop')).profile });
    await tracer.send('Tracing.end');
    await done;
    for (const s of sessions) await s.cdp.detach();
    return out.map((o) => ({ ...o, trace }));
  };
}

/** Self time by function (from the CPU profile) and time by timeline event on the page's main thread. */
function summarize({ profile, trace }, url) {
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = profile.timeDeltas;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const n = byId.get(id);
    const f = n.callFrame;
    const name = f.functionName || '(anonymous)';
    const key = f.url ? `${name} ${basename(f.url.split('?')[0])}:${f.lineNumber + 1}:${f.columnNumber + 1}` : name;
    const d = (dt[i + 1] ?? 0) / 1000;
    total += d;
    self.set(key, (self.get(key) ?? 0) + d);
  });
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 18);
  // The renderer main thread of the page: its pid from the trace's frame list.
  const started = trace.find((e) => e.name === 'TracingStartedInBrowser');
  const frame = started?.args?.data?.frames?.find((f) => f.url?.startsWith(url));
  // The trace lists only the tracing page's frames; another page is a renderer not among them.
  const listed = new Set(started?.args?.data?.frames?.map((f) => f.processId));
  const main = trace.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && (frame ? e.pid === frame.processId : !listed.has(e.pid)));
  const events = new Map();
  for (const e of trace) {
    if (!main || e.pid !== main.pid || e.tid !== main.tid || e.ph !== 'X' || !e.dur) continue;
    events.set(e.name, (events.get(e.name) ?? 0) + e.dur / 1000);
  }
  const tl = [...events].sort((a, b) => b[1] - a[1]).slice(0, 14);
  return { total, top, tl };
}

async function profiled(label, stop) {
  const results = await stop();
  await mkdir(PROFILE, { recursive: true });
  await writeFile(join(PROFILE, `${label}.trace.json`), JSON.stringify({ traceEvents: results[0].trace }));
  for (const r of results) {
    await writeFile(join(PROFILE, `${label}-${r.name}.cpuprofile`), JSON.stringify(r.profile));
    const s = summarize(r, r.url);
    console.log(`\n  profile ${label} / ${r.name}: ${s.total.toFixed(0)} ms sampled`);
    console.log('    self time by function:');
    for (const [k, v] of s.top) console.log(`      ${v.toFixed(0).padStart(6)} ms  ${k}`);
    console.log('    main-thread timeline events (inclusive, nested ones overlap):');
    for (const [k, v] of s.tl) console.log(`      ${v.toFixed(0).padStart(6)} ms  ${k}`);
  }
}

// ---- the runs ----

async function liveRun(browser, siteUrl, hubUrl) {
  const vctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const visitor = await vctx.newPage();
  await visitor.goto(`${siteUrl}/${PAGES[0].path}`);
  const id = await waitFor(() => visitor.evaluate(() => window.__rec?.sessionId), { message: 'the recorder' });
  const wctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, storageState: await signedIn(hubUrl) });
  const watch = await wctx.newPage();
  await watch.goto(`${hubUrl}/sessions/${id}`);
  await watch.evaluate(observeMarks);
  await waitFor(() => watch.evaluate(() => window.__streamdom?.timing?.synced), { timeout: 20_000, message: 'clock sync' });
  const mouse = wiggle(visitor);
  const reported = [];
  const poll = setInterval(async () => {
    const l = await watch.evaluate(() => window.__streamdom.latency).catch(() => null);
    if (l) reported.push(Math.round(l.total));
  }, 500);
  for (let i = 0; i < PAGES.length; i++) {
    if (i > 0) await visitor.goto(`${siteUrl}/${PAGES[i].path}`);
    await visitor.evaluate(startMarks, { page: i, every: MARK_EVERY_MS });
    const last = i === PAGES.length - 1;
    if (PROFILE && last && PAGES[i].secs > PROFILE_SECS + 5) {
      await sleep((PAGES[i].secs - PROFILE_SECS) * 1000);
      const stop = await startProfiles([['watch', wctx, watch, hubUrl], ['visitor', vctx, visitor, siteUrl]]);
      await sleep(PROFILE_SECS * 1000);
      await profiled('live', stop);
    } else await sleep(PAGES[i].secs * 1000);
  }
  clearInterval(poll);
  await mouse.stop();
  await sleep(1000);
  const seen = await watch.evaluate(() => [...window.__seen.values()]);
  const made = await visitor.evaluate(() => document.querySelector('#sd-marks p:last-child')?.textContent);
  await vctx.close();
  await wctx.close();
  console.log(`live, ${PAGES.map((p) => `${p.path} ${p.secs} s`).join(' → ')}:`);
  PAGES.forEach((p, i) => {
    const on = seen.filter((s) => s.page === i);
    const secs = p.secs * 1000;
    const at = (t) => stats(on.filter((s) => Math.abs(s.onPage - t) <= 2500).map((s) => s.delay));
    const lateT = Math.min(60_000, secs - 2500);
    const size = (readFileSync(join(DOCS, p.path)).length / 1e6).toFixed(2);
    console.log(`  ${p.path} (${size} MB): ${fmt(stats(on.map((s) => s.delay)))}`);
    console.log(`    at 5 s: ${fmt(at(5000))}`);
    console.log(`    at ${(lateT / 1000).toFixed(0)} s: ${fmt(at(lateT))}`);
  });
  console.log(`  marks shown: ${seen.length} (last made: ${made})`);
  console.log(`  watch page's own estimate, sampled every 0.5 s: ${fmt(stats(reported))}`);
}

async function joinRun(browser, siteUrl, hubUrl) {
  const vctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const wctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, storageState: await signedIn(hubUrl) });
  const times = [];
  const splits = [];
  for (let j = 0; j < JOINS; j++) {
    const visitor = await vctx.newPage();
    await visitor.goto(`${siteUrl}/${JOIN}`);
    const id = await waitFor(() => visitor.evaluate(() => window.__rec?.sessionId), { message: 'the recorder' });
    await visitor.evaluate(startMarks, { page: 0, every: MARK_EVERY_MS });
    await sleep(3000); // the snapshot is up and the session is live
    const watch = await wctx.newPage();
    // From another hub page: the watch page then loads in the renderer the profile is attached to.
    await watch.goto(`${hubUrl}/login`);
    const stop = PROFILE && j === JOINS - 1 ? await startProfiles([['watch', wctx, watch, hubUrl]]) : null;
    const t0 = Date.now();
    await watch.goto(`${hubUrl}/sessions/${id}`);
    // First frame: the replayed page's body is there with the marks box the visitor's page shows.
    const t1 = await watch.waitForFunction(() => document.querySelector('[data-testid="player"] iframe')?.contentDocument?.getElementById('sd-marks') && Date.now(), null, { polling: 10, timeout: 60_000 });
    times.push((await t1.jsonValue()) - t0);
    // Where that time went, from the watch page's navigation start (User Timing marks of player.ts).
    splits.push(await watch.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const at = (name) => Math.round(performance.getEntriesByName(name)[0]?.startTime ?? NaN);
      return { html: Math.round(nav.responseEnd), dcl: Math.round(nav.domContentLoadedEventEnd), firstEvent: at('streamdom:first-event'), rebuildStart: at('streamdom:live-rebuild-start'), rebuildEnd: at('streamdom:live-rebuild-end') };
    }));
    if (stop) { await sleep(1000); await profiled('join', stop); }
    await watch.close();
    await visitor.close();
  }
  await vctx.close();
  await wctx.close();
  const size = (readFileSync(join(DOCS, JOIN)).length / 1e6).toFixed(2);
  console.log(`PM joining a live session on ${JOIN} (${size} MB): first frame after ${times.join(', ')} ms (median ${median(times)})`);
  for (const k of ['html', 'dcl', 'firstEvent', 'rebuildStart', 'rebuildEnd']) console.log(`  ${k}: ${splits.map((x) => x[k]).join(', ')} ms after the watch page's navigation start`);
}

/** In the visitor's page before anything else: collect long tasks. */
function collectLongTasks() {
  window.__long = [];
  new PerformanceObserver((l) => window.__long.push(...l.getEntries().map((e) => ({ start: e.startTime, dur: e.duration })))).observe({ type: 'longtask', buffered: true });
}

async function loadRun(browser, siteUrl) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.addInitScript(collectLongTasks);
  const r = { rec: [], norec: [], snapshot: [] };
  // One unmeasured view of each first, so that both measure a repeat view (assets cached).
  for (let i = -1; i < LOADS; i++) {
    for (const mode of ['norec', 'rec']) {
      const page = await ctx.newPage();
      // The recorder's first full snapshot is the first large frame on its socket.
      let snapshotSent = null;
      page.on('websocket', (ws) => ws.on('framesent', (f) => { if ((f.payload?.length ?? 0) > 100_000) snapshotSent ??= Date.now(); }));
      // The last recorded view is profiled, from a page of the same site (the same renderer).
      const profileThis = PROFILE && mode === 'rec' && i === LOADS - 1;
      if (profileThis) await page.goto(`${siteUrl}/std/index.html?norec`);
      const stop = profileThis ? await startProfiles([['visitor', ctx, page, siteUrl]]) : null;
      const t0 = Date.now();
      await page.goto(`${siteUrl}/${LOAD}${mode === 'norec' ? '?norec' : ''}`, { waitUntil: 'load' });
      if (mode === 'rec') await waitFor(() => snapshotSent, { timeout: 60_000, message: 'the first snapshot sent' });
      await sleep(1000); // long tasks after it are counted too
      if (stop) await profiled('load', stop);
      if (i >= 0 && !profileThis && mode === 'rec') r.snapshot.push(snapshotSent - t0);
      const m = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const long = window.__long;
        return { load: nav.loadEventEnd, dcl: nav.domContentLoadedEventEnd, longTotal: long.reduce((a, t) => a + t.dur, 0), longBeforeLoad: long.filter((t) => t.start < nav.loadEventEnd).reduce((a, t) => a + t.dur, 0), longMax: Math.max(0, ...long.map((t) => t.dur)) };
      });
      if (i >= 0 && !profileThis) r[mode].push(m);
      await page.close();
    }
  }
  await ctx.close();
  const size = (readFileSync(join(DOCS, LOAD)).length / 1e6).toFixed(2);
  const row = (xs, k) => `${median(xs.map((x) => Math.round(x[k])))}`;
  console.log(`page load of ${LOAD} (${size} MB), median of ${LOADS} (ms): without recorder / with`);
  console.log(`  first snapshot sent (from navigation start): ${median(r.snapshot)}`);
  for (const [k, label] of [['load', 'loadEventEnd'], ['dcl', 'DOMContentLoaded end'], ['longBeforeLoad', 'long tasks before load'], ['longTotal', 'long tasks, all (to 1 s after the snapshot)'], ['longMax', 'longest task']]) {
    console.log(`  ${label}: ${row(r.norec, k)} / ${row(r.rec, k)}`);
  }
}

let storage = null;
/** A signed-in storage state for PM contexts (signs in through the login form once). */
async function signedIn(hubUrl) {
  if (storage) return storage;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${hubUrl}/login`);
  await page.fill('input[name="username"]', ADMIN.username);
  await page.fill('input[name="password"]', ADMIN.password);
  await Promise.all([page.waitForURL(`${hubUrl}/`), page.click('button[type="submit"]')]);
  storage = await ctx.storageState();
  await ctx.close();
  return storage;
}

let hub;
let hubUrl = arg('hub');
if (!hubUrl) {
  const release = resolve('target/release/streamdom');
  process.env.STREAMDOM_BIN ??= existsSync(release) ? release : 'target/debug/streamdom';
  // Every simulated visitor is 127.0.0.1: lift the per-address limit on new sessions.
  hub = await Hub.start(['--new-sessions-per-sec', '1000']);
  hubUrl = hub.url;
  console.log(`hub: ${process.env.STREAMDOM_BIN} on ${hubUrl}`);
}
const server = site(hubUrl);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const siteUrl = `http://localhost:${server.address().port}`;
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
console.log(`load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
try {
  if (PAGES.length) await liveRun(browser, siteUrl, hubUrl);
  if (JOIN) await joinRun(browser, siteUrl, hubUrl);
  if (LOAD) await loadRun(browser, siteUrl);
} finally {
  console.log(`load average at end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  await browser.close();
  server.close();
  await hub?.dispose();
}
