// Long-session benchmark (not a test): opening and seeking a one-hour recording of 100,000
// real-shaped events in headless Chromium against the real hub. See docs/PERFORMANCE.md
// ("Long sessions").
//
//   node bench/long-session.mjs [--hours 1] [--events 100000] [--runs 3]
//        [--postgres postgres://postgres@127.0.0.1:5432] [--profile DIR]
//
// The session is built from bench/fixtures/content.json.zst (a real page recorded with rrweb): its
// Meta + FullSnapshot, then its incremental events over and over, stretched so that --events fill
// --hours, with the opening snapshot again every 10 minutes, as the recorder's checkout takes one
// (recorder-js/src/index.ts, CHECKOUT_EVERY_MS). It is sent through a recorder socket from a page
// of the test site, stored, and ended; then, --runs times, a fresh page:
//   - opens the watch link: time from navigation start to the first frame on screen (the player's
//     iframe holds the rebuilt page, seen in a requestAnimationFrame callback), with the bytes of
//     WebSocket messages received until then (as sent: large frames are deflated) and the events
//     the page held then (and the seq of the first);
//   - seeks (the timeline's change event, as a drag ends) to 10 %, 50 %, 90 % and back to 10 %:
//     time until the player is at that moment, in the next animation frame;
//   - reads the JS heap (CDP, after a forced GC) after opening and after the seeks;
//   - then a `?t=` link to 75 % of the session (45 min of an hour): first frame and bytes.
// --profile DIR writes a CDP CPU profile of the first opening of each link and of each seek of
// the first run (.cpuprofile).
// The hub is STREAMDOM_BIN (default target/release/streamdom if built, else target/debug) with a
// temporary SQLite database, or with --postgres a database it creates there and drops afterwards.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
if (!process.env.STREAMDOM_BIN) {
  const release = resolve(root, 'target/release/streamdom');
  process.env.STREAMDOM_BIN = existsSync(release) ? release : resolve(root, 'target/debug/streamdom');
}
const { Hub, launchBrowser, openRawRecorder, signIn, startSite, waitFor } = await import('../tests/browser/harness.mjs');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? '' : dflt;
};
const HOURS = Number(arg('hours', 1));
const EVENTS = Number(arg('events', 100_000 * HOURS));
const RUNS = Number(arg('runs', 3));
const POSTGRES = arg('postgres', '');
const PROFILE = arg('profile', '');
/** The recorder's checkout interval (recorder-js/src/index.ts CHECKOUT_EVERY_MS). */
const CHECKOUT_MS = 10 * 60 * 1000;
const SEEKS = [0.1, 0.5, 0.9, 0.1];
const LINK_AT = 0.75;

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** The session's events: the fixture's opening, its incrementals looped and stretched, checkouts. */
function buildSession() {
  const fixture = JSON.parse(execFileSync('zstd', ['-dc', join(root, 'bench/fixtures/content.json.zst')], { maxBuffer: 1 << 28 }).toString());
  const opening = fixture.slice(0, fixture.findIndex((e) => e.type === 2) + 1);
  const inc = fixture.slice(opening.length);
  const loopMs = inc[inc.length - 1].timestamp - inc[0].timestamp + 50;
  const durationMs = HOURS * 3600_000;
  const n = EVENTS - opening.length * Math.ceil(durationMs / CHECKOUT_MS);
  // The fixture's pace is ~22 events/s; stretch or squeeze its timing so that n events fill the span.
  const scale = durationMs / ((n / inc.length) * loopMs);
  const base = Date.now() - durationMs - 60_000;
  const events = opening.map((e) => ({ ...e, timestamp: base }));
  let nextCheckout = CHECKOUT_MS;
  for (let i = 0; i < n; i++) {
    const loop = Math.floor(i / inc.length);
    const e = inc[i % inc.length];
    const at = Math.round((loop * loopMs + (e.timestamp - inc[0].timestamp)) * scale);
    if (at >= nextCheckout && nextCheckout < durationMs) {
      for (const o of opening) events.push({ ...o, timestamp: base + at });
      nextCheckout += CHECKOUT_MS;
    }
    events.push({ ...e, timestamp: base + at });
  }
  return events;
}

/** Counts the bytes of every WebSocket message the page receives, and notes its first frame. */
function instrument() {
  const Native = window.WebSocket;
  window.__bench = { bytes: 0, firstFrame: null, firstFrameBytes: null };
  window.WebSocket = class extends Native {
    constructor(...a) {
      super(...a);
      this.addEventListener('message', (ev) => {
        window.__bench.bytes += typeof ev.data === 'string' ? ev.data.length : ev.data.byteLength;
      });
    }
  };
  const look = () => {
    const body = document.querySelector('[data-testid="player"] iframe')?.contentDocument?.body;
    if (body && body.childElementCount > 0) {
      window.__bench.firstFrame = performance.now();
      window.__bench.firstFrameBytes = window.__bench.bytes;
      const held = window.__streamdom?.events ?? [];
      window.__bench.firstFrameEvents = held.length;
      window.__bench.firstSeq = held[0]?.seq ?? null;
    } else requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}

/** Seeks as the timeline does when a drag ends; ms until the player shows that moment. */
function seek(ms) {
  return new Promise((done) => {
    const timeline = document.querySelector('[data-testid="timeline"]');
    const t0 = performance.now();
    timeline.value = String(ms);
    timeline.dispatchEvent(new Event('input'));
    timeline.dispatchEvent(new Event('change'));
    const look = () => {
      const at = window.__streamdom.currentTimeMs();
      const body = document.querySelector('[data-testid="player"] iframe')?.contentDocument?.body;
      if (Math.abs(at - ms) < 1000 && body && body.childElementCount > 0) done(performance.now() - t0);
      else requestAnimationFrame(look);
    };
    requestAnimationFrame(look);
  });
}

async function heapMb(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  return usedSize / 1048576;
}

async function open(browser, url, profileName) {
  const page = await browser.newPage();
  await page.addInitScript(instrument);
  const cdp = await page.context().newCDPSession(page);
  if (profileName) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  await page.goto(url);
  await waitFor(() => page.evaluate(() => window.__bench.firstFrame !== null), { timeout: 120_000, interval: 20, message: 'the first frame' });
  if (profileName) {
    const { profile } = await cdp.send('Profiler.stop');
    mkdirSync(PROFILE, { recursive: true });
    writeFileSync(join(PROFILE, `${profileName}.cpuprofile`), JSON.stringify(profile));
  }
  const { firstFrame, firstFrameBytes, firstFrameEvents, firstSeq } = await page.evaluate(() => window.__bench);
  return { page, cdp, firstFrame, firstFrameBytes, firstFrameEvents, firstSeq };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs) => `median ${Math.round(median(xs))} (${xs.map((x) => Math.round(x)).join(', ')})`;

let dbName = '';
const args = ['--connection-events-per-sec', '0', '--connection-bytes-per-sec', '0', '--project-events-per-sec', '0', '--project-bytes-per-sec', '0'];
if (POSTGRES) {
  dbName = `streamdom_long_${process.pid}`;
  execFileSync('psql', ['-q', POSTGRES, '-c', `CREATE DATABASE ${dbName}`]);
  args.push('--database-url', `${POSTGRES.replace(/\/$/, '')}/${dbName}`);
}
console.log(`hub ${process.env.STREAMDOM_BIN}, ${POSTGRES ? 'PostgreSQL' : 'SQLite'}; load average ${load()}`);
const dropDb = () => dbName && execFileSync('psql', ['-q', POSTGRES, '-c', `DROP DATABASE IF EXISTS ${dbName}`]);
const hub = await Hub.start(args).catch((e) => { dropDb(); throw e; });
const site = await startSite(hub.url);
const browser = await launchBrowser();
try {
  await signIn(browser, hub);
  const events = buildSession();
  const bytes = events.reduce((n, e) => n + JSON.stringify(e).length, 0);
  const snapshots = events.filter((e) => e.type === 2).length;
  const id = `long-${HOURS}h-${process.pid}`;
  const rec = await openRawRecorder({ browser, site }, id);
  const t0 = Date.now();
  for (let i = 0; i < events.length; i += 500) await rec.send(events.slice(i, i + 500));
  await waitFor(rec.durable, { timeout: 300_000, message: 'the session stored' });
  await rec.close();
  await waitFor(async () => !(await hub.json(`/api/sessions/${id}`)).active, { timeout: 60_000, message: 'the session ended' });
  console.log(`session ${id}: ${events.length} events, ${(bytes / 1048576).toFixed(1)} MiB of JSON, ${snapshots} full snapshots, ${HOURS} h; stored in ${Date.now() - t0} ms`);

  const durationMs = events[events.length - 1].timestamp - events[0].timestamp;
  const r = { open: [], openBytes: [], openEvents: [], heapOpen: [], heapSeeks: [], link: [], linkBytes: [], linkEvents: [], linkHeap: [] };
  const seeks = SEEKS.map(() => []);
  // One warm-up (the hub's and the browser's caches), then the runs.
  for (let run = -1; run < RUNS; run++) {
    const o = await open(browser, `${hub.url}/sessions/${id}`, PROFILE && run === 0 ? 'open' : '');
    if (run >= 0) {
      r.open.push(o.firstFrame);
      r.openBytes.push(o.firstFrameBytes / 1048576);
      r.openEvents.push(`${o.firstFrameEvents} from seq ${o.firstSeq}`);
      r.heapOpen.push(await heapMb(o.cdp));
    }
    // Seeks start from a player at rest (the page opened playing: hold it first).
    await o.page.evaluate(() => { if (window.__streamdom.state !== 'paused') document.querySelector('[data-testid="play-toggle"]').click(); });
    for (const [i, f] of SEEKS.entries()) {
      const profiled = PROFILE && run === 0;
      if (profiled) {
        await o.cdp.send('Profiler.enable');
        await o.cdp.send('Profiler.setSamplingInterval', { interval: 200 });
        await o.cdp.send('Profiler.start');
      }
      const ms = await o.page.evaluate(seek, Math.round(f * durationMs));
      if (profiled) {
        const { profile } = await o.cdp.send('Profiler.stop');
        writeFileSync(join(PROFILE, `seek-${i + 1}-${f * 100}pct.cpuprofile`), JSON.stringify(profile));
      }
      if (run >= 0) seeks[i].push(ms);
    }
    if (run >= 0) r.heapSeeks.push(await heapMb(o.cdp));
    await o.page.close();

    const l = await open(browser, `${hub.url}/sessions/${id}?t=${Math.round(LINK_AT * durationMs)}`, PROFILE && run === 0 ? 'link' : '');
    if (run >= 0) {
      r.link.push(l.firstFrame);
      r.linkBytes.push(l.firstFrameBytes / 1048576);
      r.linkEvents.push(`${l.firstFrameEvents} from seq ${l.firstSeq}`);
      r.linkHeap.push(await heapMb(l.cdp));
    }
    await l.page.close();
  }
  console.log(`first frame, watch link: ${fmt(r.open)} ms; received before it: ${r.openBytes.map((b) => b.toFixed(1)).join(', ')} MiB on the wire; events held: ${r.openEvents.join(', ')}`);
  for (const [i, f] of SEEKS.entries()) console.log(`seek to ${f * 100} %: ${fmt(seeks[i])} ms`);
  console.log(`JS heap after opening: ${r.heapOpen.map((b) => b.toFixed(0)).join(', ')} MB; after the seeks: ${r.heapSeeks.map((b) => b.toFixed(0)).join(', ')} MB`);
  console.log(`first frame, ?t= link at ${LINK_AT * 100} %: ${fmt(r.link)} ms; received before it: ${r.linkBytes.map((b) => b.toFixed(1)).join(', ')} MiB on the wire; events held: ${r.linkEvents.join(', ')}; heap ${r.linkHeap.map((b) => b.toFixed(0)).join(', ')} MB`);
  if (browser.errors.length) console.log(`page errors: ${browser.errors.slice(0, 5).join(' | ')}`);
  console.log(`load average at the end ${load()}`);
} finally {
  await browser.close();
  await site.close();
  await hub.dispose();
  dropDb();
}
