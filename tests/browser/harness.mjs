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
 * {{KEY}} and each `{{NAME}}` of `vars` filled in.
 */
export async function startSite(hubUrl, vars = {}) {
  const siteDir = join(here, 'site');
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const name = path === '/' ? 'index.html' : path.slice(1);
    if (!/^[a-z0-9-]+\.html$/.test(name) || !existsSync(join(siteDir, name))) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    let html = (await readFile(join(siteDir, name), 'utf8')).replaceAll('{{HUB}}', hubUrl).replaceAll('{{KEY}}', KEY);
    for (const [k, v] of Object.entries(vars)) html = html.replaceAll(`{{${k}}}`, () => v);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(html);
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

/** Signs the browser in to the dashboard through the login page, as a person would. */
export async function signIn(browser, hub) {
  const page = await browser.newPage();
  await page.goto(`${hub.url}/login`);
  await page.fill('input[name="username"]', ADMIN.username);
  await page.fill('input[name="password"]', ADMIN.password);
  await Promise.all([page.waitForURL(`${hub.url}/`), page.click('button[type="submit"]')]);
  await page.close();
}

/** Everything a test file needs, started together and torn down in reverse order; the browser is signed in. */
export async function setup() {
  const hub = await Hub.start();
  const site = await startSite(hub.url);
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
