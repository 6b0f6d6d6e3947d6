// Benchmark of the watch page's event feed in headless Chromium against the real hub:
//   1. following a live session that sends 1,000 events/s (for --seconds), and
//   2. scrolling the feed of a session of 100,000 events from top to bottom.
// For each it reports the page's frame rate (requestAnimationFrame callbacks per second), the
// 95th percentile and maximum time between frames, and frames that took over 50 ms.
//
// Usage: cargo build --release && node web/bench-feed.mjs [--seconds 10] [--rows 100000]
// (STREAMDOM_BIN picks another hub binary; default target/release/streamdom, else target/debug.)
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
if (!process.env.STREAMDOM_BIN) {
  const release = resolve(root, 'target/release/streamdom');
  process.env.STREAMDOM_BIN = existsSync(release) ? release : resolve(root, 'target/debug/streamdom');
}
const { Hub, envelopes, launchBrowser, openVisitor, signIn, startSite, waitFor } = await import('../tests/browser/harness.mjs');

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SECONDS = arg('seconds', 10);
const ROWS = arg('rows', 100_000);
const RATE = 1000;

/** Frame times of the page over `ms`, measured in the page. */
function frames(page, ms) {
  return page.evaluate((ms) => new Promise((done) => {
    const t = [];
    const step = (now) => {
      t.push(now);
      if (now - t[0] < ms) requestAnimationFrame(step);
      else done(t);
    };
    requestAnimationFrame(step);
  }), ms);
}

function report(label, t) {
  const gaps = t.slice(1).map((x, i) => x - t[i]).sort((a, b) => a - b);
  const secs = (t[t.length - 1] - t[0]) / 1000;
  const pct = (p) => gaps[Math.min(gaps.length - 1, Math.floor(gaps.length * p))];
  console.log(`${label}: ${(gaps.length / secs).toFixed(1)} fps over ${secs.toFixed(1)} s; frame gap p50 ${pct(0.5).toFixed(1)} ms, p95 ${pct(0.95).toFixed(1)} ms, max ${gaps[gaps.length - 1].toFixed(1)} ms; ${gaps.filter((g) => g > 50).length} frames over 50 ms`);
}

/** A recorder socket from the test site's raw page; `start(rate)` sends custom events at `rate`/s. */
async function rawRecorder(browser, site, id) {
  const page = await browser.newPage();
  await page.goto(`${site.url}/raw.html`);
  await page.evaluate(async (id) => {
    const ws = new WebSocket(`${window.HUB.replace(/^http/, 'ws')}/ws/record/${id}?key=${window.KEY}`);
    window.raw = { ws, seq: 0, durable: 0 };
    ws.onmessage = (m) => { const msg = JSON.parse(m.data); if (msg.type === 'ack') window.raw.durable = msg.durable_seq; };
    await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
    window.send = (events) => {
      window.raw.ws.send(JSON.stringify({ type: 'events', seq: window.raw.seq + 1, events }));
      window.raw.seq += events.length;
    };
    const ev = (i) => ({ type: 5, timestamp: Date.now(), data: { tag: 'bench', payload: { i, text: `event number ${i}` } } });
    window.flood = (n, per) => { for (let i = 0; i < n; i += per) window.send(Array.from({ length: Math.min(per, n - i) }, (_, k) => ev(i + k))); };
    window.start = (rate) => {
      let i = 0;
      // Ten frames a second of rate/10 events each: 1,000 events/s arrive as 100-event frames.
      window.timer = setInterval(() => window.send(Array.from({ length: rate / 10 }, () => ev(i++))), 100);
    };
    window.stop = () => clearInterval(window.timer);
  }, id);
  return page;
}

const hub = await Hub.start(['--connection-events-per-sec', '0', '--connection-bytes-per-sec', '0', '--project-events-per-sec', '0', '--project-bytes-per-sec', '0']);
const site = await startSite(hub.url);
const browser = await launchBrowser();
try {
  await signIn(browser, hub);
  // A real page's snapshot first, so that the watch page is live and replaying, as in use.
  const { page: visitor, id: realId } = await openVisitor(browser, site);
  const snap = await waitFor(async () => {
    const e = (await envelopes(hub, realId)).map((x) => x.event);
    return e.some((x) => x.type === 2) && e.slice(0, e.findIndex((x) => x.type === 2) + 1);
  }, { message: 'a snapshot' });
  await visitor.close();

  // 1. Following 1,000 events/s.
  const live = await rawRecorder(browser, site, 'bench-feed-live');
  await live.evaluate((snap) => window.send(snap.map((e) => ({ ...e, timestamp: Date.now() }))), snap);
  const watch = await browser.newPage();
  await watch.goto(`${hub.url}/sessions/bench-feed-live`);
  await waitFor(() => watch.evaluate(() => document.querySelector('[data-testid="player-state"]')?.dataset.state === 'live'), { message: 'live' });
  // The same page with nothing arriving: what the machine gives a page at all (it is shared).
  report('baseline, live page, no events', await frames(watch, SECONDS * 1000));
  await live.evaluate((rate) => window.start(rate), RATE);
  await new Promise((r) => setTimeout(r, 1000));
  report(`following ${RATE} events/s`, await frames(watch, SECONDS * 1000));
  await live.evaluate(() => window.stop());
  const sent = await live.evaluate(() => window.raw.seq);
  // Following keeps the newest 10,000 rows (in batches: up to 11,000).
  await waitFor(() => watch.evaluate((n) => [...document.querySelectorAll('[data-testid="event-row"]')].some((r) => Number(r.dataset.seq) === n), sent), { timeout: 60_000, message: 'the newest event in the feed' });
  const rows = await watch.evaluate(() => document.querySelector('[data-testid="event-feed"]').dataset.count);
  console.log(`  ${sent} events sent; the feed follows to the newest (seq ${sent}) and holds ${rows} rows`);
  await watch.close();

  // 2. Scrolling 100,000 rows.
  const big = await rawRecorder(browser, site, 'bench-feed-rows');
  await big.evaluate((snap) => window.send(snap.map((e) => ({ ...e, timestamp: Date.now() }))), snap);
  await big.evaluate((n) => window.flood(n, 1000), ROWS);
  const total = await big.evaluate(() => window.raw.seq);
  await waitFor(() => big.evaluate(() => window.raw.durable === window.raw.seq), { timeout: 120_000, message: 'the rows stored' });
  const scroll = await browser.newPage();
  const t0 = Date.now();
  await scroll.goto(`${hub.url}/sessions/bench-feed-rows`);
  // Paused at once, so that the feed keeps every row it receives (following keeps the newest 10,000).
  await scroll.locator('[data-testid="event-feed-pause"]').click();
  await waitFor(() => scroll.evaluate((n) => window.__streamdom?.events.length === n, total), { timeout: 120_000, message: `${total} events in the page` });
  const received = Date.now() - t0;
  // Under load the pause may come after the feed trimmed to the newest rows: scrolling to the top
  // fetches the rest from the API, as it does for a PM.
  const rowCount = () => scroll.evaluate(() => Number(document.querySelector('[data-testid="event-feed"]')?.dataset.count));
  const held = await rowCount();
  await waitFor(async () => {
    await scroll.evaluate(() => { document.getElementById('feed-scroll').scrollTop = 0; });
    return (await rowCount()) === total;
  }, { timeout: 120_000, interval: 300, message: `${total} rows in the feed` });
  console.log(`  ${total} events in the page ${received} ms after opening it (${held} rows in the feed then, the rest fetched by scrolling up); ${await scroll.locator('[data-testid="event-row"]').count()} row elements in the DOM`);
  // Scroll from top to bottom over `SECONDS` seconds, one step per frame, while counting frames.
  const [t] = await Promise.all([
    frames(scroll, SECONDS * 1000),
    scroll.evaluate((ms) => new Promise((done) => {
      const el = document.getElementById('feed-scroll');
      const start = performance.now();
      const step = (now) => {
        const f = Math.min(1, (now - start) / ms);
        el.scrollTop = f * (el.scrollHeight - el.clientHeight);
        if (f < 1) requestAnimationFrame(step);
        else done();
      };
      requestAnimationFrame(step);
    }), SECONDS * 1000),
  ]);
  report(`scrolling ${total} rows top to bottom in ${SECONDS} s`, t);
  await scroll.close();
} finally {
  await browser.close();
  await site.close();
  await hub.dispose();
}
