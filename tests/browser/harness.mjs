// Shared harness for the browser tests: the real hub binary, a test site on another origin, and Chromium.

import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
export const CHROMIUM = process.env.STREAMDOM_CHROMIUM ?? '/usr/bin/chromium';
const BIN = resolve(root, process.env.STREAMDOM_BIN ?? 'target/debug/streamdom');
const VERBOSE = !!process.env.STREAMDOM_TEST_VERBOSE;
/** The administrator every test hub starts with. */
/** The default project's ingest key on every browser-test hub; the test site's pages send it. */
export const KEY = 'pk_browser_test_key';
export const ADMIN = { username: process.env.STREAMDOM_ADMIN_USER ?? 'admin', password: process.env.STREAMDOM_ADMIN_PASSWORD ?? 'browser-test-password' };

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value (which is returned); throws with `message` on timeout. */
export async function waitFor(fn, { timeout = 10_000, interval = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${message} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(interval);
  }
}

export async function freePort() {
  const srv = createNetServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** The hub binary on a free port with a temporary SQLite data dir; stop() and start() keep both. */
export class Hub {
  static async start(extraArgs = []) {
    if (!existsSync(BIN)) throw new Error(`hub binary ${BIN} not found: run \`cargo build\` or set STREAMDOM_BIN`);
    const hub = new Hub(await freePort(), await mkdtemp(join(tmpdir(), 'streamdom-hub-')), extraArgs);
    await hub.start();
    return hub;
  }

  constructor(port, dataDir, extraArgs) {
    this.port = port;
    this.dataDir = dataDir;
    this.extraArgs = extraArgs;
    this.url = `http://127.0.0.1:${port}`;
    this.proc = null;
    this.log = [];
  }

  async start() {
    const args = ['serve', '--bind', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir, '--idle-timeout-secs', '2', ...this.extraArgs];
    const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info,actix_server=warn', STREAMDOM_ADMIN_USER: ADMIN.username, STREAMDOM_ADMIN_PASSWORD: ADMIN.password, STREAMDOM_DEFAULT_KEY: KEY };
    const proc = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const keep = (chunk) => {
      const text = chunk.toString();
      this.log.push(text);
      if (this.log.length > 400) this.log.shift();
      if (VERBOSE) process.stderr.write(`[hub] ${text}`);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    const exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
    this.exited = exited;
    // The port may still be held for a moment by the previous run; the hub exits if it cannot bind.
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`hub exited with ${proc.exitCode}:\n${this.log.join('')}`);
      const res = await fetch(`${this.url}/healthz`);
      return res.ok && (await res.json()).status === 'ok';
    }, { timeout: 15_000, message: 'the hub to answer /healthz' }).catch((e) => {
      throw new Error(`${e.message}\n--- hub log ---\n${this.log.join('')}`);
    });
  }

  /** SIGTERM (graceful: the hub flushes accepted events), then wait for the exit. */
  async stop() {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
    this.proc = null;
  }

  async restart() {
    await this.stop();
    await this.start();
  }

  async dispose() {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** Signs in through the login form (once; the sign-in is server-side and survives restarts). */
  async cookie() {
    if (this.sessionCookie) return this.sessionCookie;
    const body = new URLSearchParams(ADMIN);
    const res = await fetch(`${this.url}/login`, { method: 'POST', body, redirect: 'manual' });
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('streamdom_session='));
    if (res.status !== 303 || !cookie) throw new Error(`sign-in failed: ${res.status} ${res.headers.get('location')}`);
    this.sessionCookie = cookie;
    return cookie;
  }

  /** GET an API path as the signed-in administrator. */
  async json(path) {
    const res = await fetch(`${this.url}${path}`, { headers: { cookie: await this.cookie() } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }
}

/**
 * Serves tests/browser/site/*.html on its own port (another origin than the hub), with {{HUB}},
 * {{KEY}} and each `{{NAME}}` of `vars` filled in, and `headers[name]` added to the page `name`;
 * `routes[path](req, res)` answers other paths (the site's own API).
 */
export async function startSite(hubUrl, vars = {}, headers = {}, routes = {}) {
  const siteDir = join(here, 'site');
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (Object.hasOwn(routes, path)) return routes[path](req, res);
    const name = path === '/' ? 'index.html' : path.slice(1);
    if (!/^[a-z0-9-]+\.html$/.test(name) || !existsSync(join(siteDir, name))) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    let html = (await readFile(join(siteDir, name), 'utf8')).replaceAll('{{HUB}}', hubUrl).replaceAll('{{KEY}}', KEY);
    for (const [k, v] of Object.entries(vars)) html = html.replaceAll(`{{${k}}}`, () => v);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...headers[name] }).end(html);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Headless Chromium with a fresh profile; close() also removes the profile. */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found; install it with: sudo apt-get install -y chromium`);
  const profile = await mkdtemp(join(tmpdir(), 'streamdom-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  const errors = [];
  context.on('weberror', (e) => errors.push(String(e.error())));
  return {
    context,
    errors,
    async newPage() {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`[console ${page.url()}] ${m.text()}`);
        if (VERBOSE) process.stderr.write(`[page ${m.type()}] ${m.text()}\n`);
      });
      page.on('pageerror', (e) => errors.push(`[pageerror ${page.url()}] ${e.message}`));
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Adds a dashboard user with `streamdom user add`, on the hub's own database. */
export async function addUser(hub, username, password, role = 'member') {
  const proc = spawn(BIN, ['user', '--data-dir', hub.dataDir, 'add', username, '--role', role], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (c) => { err += c; });
  proc.stdin.end(`${password}\n`);
  const code = await new Promise((r) => proc.once('exit', r));
  if (code !== 0) throw new Error(`streamdom user add ${username} failed (${code}): ${err}`);
}

/** Signs the browser in to the dashboard through the login page, as a person would. */
export async function signIn(browser, hub, user = ADMIN) {
  const page = await browser.newPage();
  await page.goto(`${hub.url}/login`);
  await page.fill('input[name="username"]', user.username);
  await page.fill('input[name="password"]', user.password);
  await Promise.all([page.waitForURL(`${hub.url}/`), page.click('button[type="submit"]')]);
  await page.close();
}

/**
 * Everything a test file needs, started together and torn down in reverse order; the browser is
 * signed in. `site(hubUrl)` may give the site's `{ vars, headers, routes }` (see startSite).
 */
export async function setup({ site: siteOptions } = {}) {
  const hub = await Hub.start();
  const { vars, headers, routes } = siteOptions?.(hub.url) ?? {};
  const site = await startSite(hub.url, vars, headers, routes);
  const browser = await launchBrowser();
  await signIn(browser, hub);
  return {
    hub,
    site,
    browser,
    async teardown() {
      await browser.close();
      await site.close();
      await hub.dispose();
    },
  };
}

// ---- helpers over pages ----

/** Text of the replayed page inside the watch page's player iframe ('' while there is none). */
export function replayText(watch) {
  return watch.evaluate(() => {
    const f = document.querySelector('[data-testid="player"] iframe');
    return f?.contentDocument?.body?.innerText ?? '';
  });
}

/** Opens a visitor page of the site and waits until its recorder has a session id. */
export async function openVisitor(browser, site, path = '/index.html', page) {
  page ??= await browser.newPage();
  await page.goto(`${site.url}${path}`);
  const id = await waitFor(() => page.evaluate(() => window.__rec?.sessionId), { message: 'the recorder to start' });
  return { page, id };
}

/** Adds a paragraph with `text` to the visitor page (a DOM change the replay must show). */
export function addText(page, text) {
  return page.evaluate((t) => {
    const p = document.createElement('p');
    p.className = 'added';
    p.textContent = t;
    document.getElementById('log').append(p);
  }, text);
}

/** The session's stored events in envelope form. */
export function envelopes(hub, id) {
  return hub.json(`/api/sessions/${encodeURIComponent(id)}/events?format=envelope`);
}

/**
 * A recorder socket opened from the test site's raw.html (an origin like any recorded page's),
 * for scripted sessions: `snapshot` is a real page's Meta + FullSnapshot as the real recorder
 * sent them, moved to this recorder's start by `snapshot()`.
 */
export async function openRawRecorder(env, id, snapshot = []) {
  const page = await env.browser.newPage();
  await page.goto(`${env.site.url}/raw.html`);
  await page.evaluate(async (id) => {
    const ws = new WebSocket(`${window.HUB.replace(/^http/, 'ws')}/ws/record/${id}?key=${window.KEY}`);
    window.raw = { ws, seq: 0, durable: 0 };
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === 'ack') window.raw.durable = msg.durable_seq;
    };
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  }, id);
  const base = Date.now();
  let sent = 0;
  return {
    /** Sends events; `at` is ms after the recorder started (the visitor's clock). */
    // The frame crosses into the page as a string: Playwright's own serializer of arguments
    // chokes on the deep documents some tests send.
    send: (events) => page.evaluate(([frame, count]) => {
      window.raw.ws.send(frame);
      window.raw.seq += count;
    }, [JSON.stringify({ type: 'events', seq: (sent += events.length) - events.length + 1, events }), events.length]),
    /** The real snapshot, moved to the recorder's start. */
    snapshot: () => snapshot.map((e) => ({ ...e, timestamp: base + (e.timestamp - snapshot[0].timestamp) })),
    at: (ms, type, data) => ({ type, timestamp: base + ms, data }),
    durable: () => page.evaluate(() => window.raw.durable === window.raw.seq),
    close: () => page.close(),
  };
}

/** A real page's Meta + FullSnapshot, as the real recorder sent them (for scripted sessions). */
export async function recordedSnapshot(env) {
  const { page, id } = await openVisitor(env.browser, env.site);
  const events = await waitFor(async () => {
    const e = (await envelopes(env.hub, id)).map((x) => x.event);
    return e.some((x) => x.type === 2) && e;
  }, { message: 'a full snapshot stored' });
  await page.close();
  return events.slice(0, events.findIndex((x) => x.type === 2) + 1);
}

/** The first node of a serialized (rrweb) tree with this tag name, depth first. */
export function findNode(node, tag) {
  if (node.tagName === tag) return node;
  for (const c of node.childNodes ?? []) {
    const found = findNode(c, tag);
    if (found) return found;
  }
  return null;
}

/** The watch page's state line (`player-state`). */
export const stateOf = (watch) => watch.locator('[data-testid="player-state"]');

/** Waits until the watch page's state is `state`; returns its message. */
export async function untilState(watch, state, timeout = 15_000) {
  await waitFor(async () => (await stateOf(watch).getAttribute('data-state')) === state, { timeout, message: `player-state ${state} (is ${await stateOf(watch).getAttribute('data-state').catch(() => '?')})` });
  return stateOf(watch).innerText();
}
