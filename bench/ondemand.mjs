// Recording on demand benchmark (not a test): what a standby visitor costs the hub, and how soon a
// PM who clicks Watch sees the visitor's page. See docs/PERFORMANCE.md ("Recording on demand").
//
//   node --experimental-websocket bench/ondemand.mjs [--visitors 1000] [--quiet-seconds 60] [--watches 10]
//
// 1. Memory: the hub's RSS (/proc/PID/status VmRSS) before and after --visitors presence sockets
//    (each sends its presence message, as a standby page does) are all listed by GET /api/online,
//    then again after as many more: the delta divided by the number of visitors.
// 2. Database writes: with those visitors connected, the SQLite database and its WAL are compared
//    (size, mtime, SHA-256) before and after --quiet-seconds, and the sessions table is counted.
// 3. Watch: a visitor page in headless Chromium (the test site, project in standby), a PM on
//    /online; from the click on Watch to the visitor's page (its snapshot) showing in the PM's
//    replay, then to a DOM change made in the visitor's page showing there; --watches times, each
//    ended with Stop.
//
// Starts the built hub (STREAMDOM_BIN, default target/debug/streamdom) on a free port with a
// temporary SQLite database, through the browser tests' harness.

import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN, Hub, KEY, launchBrowser, replayText, signIn, sleep, startSite, waitFor, addText } from '../tests/browser/harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const VISITORS = arg('visitors', 1000);
const QUIET_S = arg('quiet-seconds', 60);
const WATCHES = arg('watches', 10);
if (typeof WebSocket !== 'function') throw new Error('run with node --experimental-websocket (Node 20) or Node 22+');

const rss = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** Signs in over HTTP and returns headers that may change state (cookie + CSRF token). */
async function adminHeaders(hub) {
  const res = await fetch(`${hub.url}/login`, { method: 'POST', body: new URLSearchParams(ADMIN), redirect: 'manual' });
  const cookies = res.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrf = cookies.find((c) => c.startsWith('streamdom_csrf=')).split('=')[1];
  return { cookie: cookies.join('; '), 'x-csrf-token': csrf, 'content-type': 'application/json', origin: hub.url };
}

async function onlineCount(hub, headers) {
  const res = await fetch(`${hub.url}/api/online`, { headers });
  return (await res.json()).visitors.length;
}

function openVisitors(hub, n, from) {
  const sockets = [];
  for (let i = from; i < from + n; i++) {
    const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/ws/presence?key=${KEY}&visitor=bench-${i}`);
    ws.onopen = () => ws.send(JSON.stringify({
      type: 'presence',
      url: `https://shop.example/products/${i}?ref=newsletter`,
      viewport: { width: 1280, height: 800 },
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    }));
    sockets.push(ws);
  }
  return sockets;
}

function dbState(dir) {
  const out = {};
  for (const name of ['streamdom.db', 'streamdom.db-wal']) {
    const p = join(dir, name);
    if (!existsSync(p)) { out[name] = 'absent'; continue; }
    const st = statSync(p);
    out[name] = `${st.size} bytes, mtime ${st.mtimeMs}, sha256 ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`;
  }
  return out;
}

async function main() {
  const hub = await Hub.start(['--connections-per-address', '0', '--retention-interval-secs', '0']);
  const headers = await adminHeaders(hub);
  const put = await fetch(`${hub.url}/api/projects/default/record_mode`, { method: 'PUT', headers, body: JSON.stringify({ record_mode: 'standby' }) });
  if (!put.ok) throw new Error(`record_mode: ${put.status} ${await put.text()}`);
  try {
    // --- 1. memory
    await sleep(1000);
    const before = rss(hub.proc.pid);
    const first = openVisitors(hub, VISITORS, 0);
    await waitFor(async () => (await onlineCount(hub, headers)) === VISITORS, { timeout: 120_000, interval: 500, message: `${VISITORS} listed` });
    await sleep(2000);
    const after1 = rss(hub.proc.pid);
    const second = openVisitors(hub, VISITORS, VISITORS);
    await waitFor(async () => (await onlineCount(hub, headers)) === 2 * VISITORS, { timeout: 120_000, interval: 500, message: `${2 * VISITORS} listed` });
    await sleep(2000);
    const after2 = rss(hub.proc.pid);
    console.log(`hub RSS: ${kib(before)} idle, ${kib(after1)} with ${VISITORS} standby visitors, ${kib(after2)} with ${2 * VISITORS}`);
    console.log(`per standby visitor: ${kib((after1 - before) / VISITORS)} (first ${VISITORS}), ${kib((after2 - after1) / VISITORS)} (next ${VISITORS})`);

    // For comparison: what an idle keep-alive HTTP connection alone costs (actix-web's per-connection
    // buffers, which every socket has), measured within its keep-alive time.
    const port = Number(new URL(hub.url).port);
    const beforeHttp = rss(hub.proc.pid);
    const plain = await Promise.all(Array.from({ length: VISITORS }, () => new Promise((resolve) => {
      const c = connect(port, '127.0.0.1', () => c.write('GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
      c.once('data', () => resolve(c));
      c.on('error', () => resolve(c));
    })));
    await sleep(500);
    const afterHttp = rss(hub.proc.pid);
    for (const c of plain) c.destroy();
    console.log(`for comparison, an idle keep-alive HTTP connection (no socket upgrade): ${kib((afterHttp - beforeHttp) / VISITORS)} each (${VISITORS} of them)`);

    // --- 2. database writes while they idle
    const t0 = dbState(hub.dataDir);
    await sleep(QUIET_S * 1000);
    const t1 = dbState(hub.dataDir);
    const sessions = (await (await fetch(`${hub.url}/api/sessions?all=true`, { headers })).json()).sessions.length;
    console.log(`database over ${QUIET_S} s with ${2 * VISITORS} standby visitors: ${JSON.stringify(t0) === JSON.stringify(t1) ? 'unchanged' : 'CHANGED'}; sessions stored: ${sessions}`);
    console.log(`  before ${JSON.stringify(t0)}\n  after  ${JSON.stringify(t1)}`);
    for (const ws of [...first, ...second]) ws.close();
    await waitFor(async () => (await onlineCount(hub, headers)) === 0, { timeout: 60_000, interval: 500, message: 'all gone' });

    // --- 3. Watch → first frame
    const site = await startSite(hub.url);
    const browser = await launchBrowser();
    try {
      await signIn(browser, hub);
      const visitor = await browser.newPage();
      await visitor.goto(`${site.url}/index.html`);
      const pm = await browser.newPage();
      const firstFrame = [];
      const firstChange = [];
      for (let i = 0; i < WATCHES; i++) {
        await pm.goto(`${hub.url}/online`);
        const watch = pm.locator('[data-testid="online-visitor"] [data-testid="watch-visitor"]');
        await watch.waitFor();
        const clicked = Date.now();
        await watch.click();
        await waitFor(async () => (await replayText(pm).catch(() => '')).includes('Test shop'), { interval: 5, message: 'the first frame' });
        firstFrame.push(Date.now() - clicked);
        const mark = `change ${i}`;
        const changed = Date.now();
        await addText(visitor, mark);
        await waitFor(async () => (await replayText(pm).catch(() => '')).includes(mark), { interval: 5, message: 'the change' });
        firstChange.push(Date.now() - changed);
        const v = (await (await fetch(`${hub.url}/api/online`, { headers })).json()).visitors[0];
        await fetch(`${hub.url}/api/online/${v.visitor_id}/stop?project=default`, { method: 'POST', headers });
        await waitFor(async () => (await (await fetch(`${hub.url}/api/online`, { headers })).json()).visitors[0]?.recording === false, { message: 'stopped' });
      }
      console.log(`Watch click → visitor's page in the replay (${WATCHES}×): p50 ${pct(firstFrame, 50)} ms, max ${Math.max(...firstFrame)} ms [${firstFrame.join(', ')}]`);
      console.log(`then a DOM change → shown live: p50 ${pct(firstChange, 50)} ms, max ${Math.max(...firstChange)} ms`);
    } finally {
      await browser.close();
      await site.close();
    }
  } finally {
    await hub.dispose();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
