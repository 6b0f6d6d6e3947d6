// Recorder upload benchmark (not a test): how many bytes the real recorder sends to the hub for a
// session on a ~1 MB page, with compressed frames and without (the browser's CompressionStream
// hidden from the page, which is the recorder's own fallback), in headless Chromium.
//
//   node bench/recorder-bytes.mjs [--page std/primitive.slice.html] [--seconds 10]
//
// The page comes from the Rust documentation installed with the toolchain
// ($(rustc --print sysroot)/share/doc/rust/html), served with its CSS and scripts from a local HTTP
// server with the recorder snippet added. The script scrolls, moves the mouse, opens a few
// sections and navigates to a second page, then counts every WebSocket frame and POST body the page
// sent to the hub (Chrome DevTools Protocol), text and binary apart.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { Hub, KEY, launchBrowser, waitFor } from '../tests/browser/harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const PAGE = arg('page', 'std/primitive.slice.html');
const SECOND = arg('then', 'std/iter/trait.Iterator.html');
const SECONDS = Number(arg('seconds', 10));
const DOCS = join(execFileSync('rustc', ['--print', 'sysroot'], { encoding: 'utf8' }).trim(), 'share/doc/rust/html');

const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript', '.svg': 'image/svg+xml', '.woff2': 'font/woff2', '.png': 'image/png' };

function serveDocs(hubUrl) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(DOCS, path);
    if (!file.startsWith(DOCS) || !existsSync(file)) return res.writeHead(404).end();
    let body = await readFile(file);
    if (extname(file) === '.html') {
      const snippet = `<script src="${hubUrl}/streamdom.js?key=${KEY}"></script><script>window.__rec = StreamDOM.init({});</script>`;
      body = body.toString('utf8').replace('</body>', `${snippet}</body>`);
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() })));
}

/** One visit; returns the bytes the page sent to the hub. */
async function visit(browser, site, hub, compress) {
  const hubUrl = hub.url;
  const page = await browser.newPage();
  // Without CompressionStream the recorder sends every frame as text, as it did before.
  if (!compress) await page.addInitScript(() => { delete window.CompressionStream; });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const sent = { textFrames: 0, textBytes: 0, binaryFrames: 0, binaryBytes: 0, postBytes: 0 };
  const hubSockets = new Set();
  cdp.on('Network.webSocketCreated', (e) => { if (e.url.startsWith(hubUrl.replace(/^http/, 'ws'))) hubSockets.add(e.requestId); });
  cdp.on('Network.webSocketFrameSent', (e) => {
    if (!hubSockets.has(e.requestId)) return;
    const { opcode, payloadData } = e.response;
    if (opcode === 2) { sent.binaryFrames++; sent.binaryBytes += Buffer.from(payloadData, 'base64').length; }
    else if (opcode === 1) { sent.textFrames++; sent.textBytes += Buffer.byteLength(payloadData); }
  });
  cdp.on('Network.requestWillBeSent', (e) => {
    if (e.request.url.startsWith(`${hubUrl}/api/sessions/`) && e.request.method === 'POST') sent.postBytes += Buffer.byteLength(e.request.postData ?? '');
  });

  await page.goto(`${site.url}/${PAGE}`);
  const id = await waitFor(() => page.evaluate(() => window.__rec?.sessionId), { message: 'the recorder to start' });
  const until = Date.now() + SECONDS * 1000;
  for (let i = 0; Date.now() < until; i++) {
    await page.mouse.move(100 + (i * 37) % 900, 100 + (i * 53) % 600);
    if (i % 5 === 0) await page.mouse.wheel(0, 400);
    if (i % 20 === 0) await page.evaluate((n) => document.querySelectorAll('details:not([open])')[n]?.setAttribute('open', ''), i / 20);
    await new Promise((r) => setTimeout(r, 50));
  }
  await page.goto(`${site.url}/${SECOND}`);
  await page.mouse.wheel(0, 800);
  await new Promise((r) => setTimeout(r, 1000));
  await page.evaluate(() => window.__rec.stop());
  const info = await hub.json(`/api/sessions/${encodeURIComponent(id)}`);
  await page.close();
  return { ...sent, total: sent.textBytes + sent.binaryBytes + sent.postBytes, events: info?.event_count, rawBytes: info?.raw_bytes };
}

const hub = await Hub.start(['--new-sessions-per-sec', '1000']);
const site = await serveDocs(hub.url);
const browser = await launchBrowser();
try {
  const results = {};
  for (const compress of [false, true]) {
    const r = await visit(browser, site, hub, compress);
    results[compress ? 'compressed' : 'uncompressed'] = r;
  }
  console.table(results);
  const ratio = results.compressed.total / results.uncompressed.total;
  console.log(`${PAGE} then ${SECOND}, ${SECONDS} s: compressed upload is ${(ratio * 100).toFixed(1)} % of uncompressed (${results.compressed.total} vs ${results.uncompressed.total} bytes)`);
} finally {
  await browser.close();
  site.close();
  await hub.dispose();
}
