// Unit tests of network.ts and intercept.ts against a real local HTTP server: fetch (Node's own)
// and an XMLHttpRequest stand-in report method, URL, status, timing and sizes, batched; headers
// and bodies only where allowed and with secrets left out; and the page sees exactly what it
// would without the recorder. (tests/browser/reports.test.mjs runs the real XHR in Chromium.)

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:http';
import { wrapFetch, wrapXhr } from './intercept';
import type { NetworkOptions } from './index';
import { BODY_MAX_CHARS, NetworkRecorder, type RequestEntry, type Tracked } from './network';
import { MASKED, Redactor } from './redact';

const bytes = (s: string) => new TextEncoder().encode(s).length;
let server: Server;
let base = '';
let closedPort = 0;

before(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path.startsWith('/ok')) {
      const body = JSON.stringify({ ok: true, token: 'server-secret' });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': bytes(body), 'Set-Cookie': 'sid=cookie-secret', 'X-Trace': 't-1' }).end(body);
    } else if (path.startsWith('/echo')) {
      const chunks: Uint8Array[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => res.writeHead(201, { 'Content-Type': 'application/json' }).end(new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer())));
    } else if (path.startsWith('/stream')) {
      // A response that never ends (a feed): only the first chunk comes.
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('s'.repeat(BODY_MAX_CHARS * 3));
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not here');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), `timed out waiting for ${what}`);
}

function recorder(options: NetworkOptions = {}, ignore?: (url: string) => boolean) {
  const batches: RequestEntry[][] = [];
  const net = new NetworkRecorder((p) => batches.push(p.requests), new Redactor(), options, ignore);
  const entries = () => batches.flat();
  return { net, batches, entries };
}

/** Counts unhandled rejections while `f` runs (and a moment after). */
async function unhandledDuring(f: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const on = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', on);
  try {
    await f();
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    process.off('unhandledRejection', on);
  }
  return seen;
}

describe('fetch', () => {
  it('reports method, URL, status, timing and sizes, without headers or bodies by default', async () => {
    const { net, entries } = recorder();
    const page = { fetch: globalThis.fetch };
    wrapFetch(page, net);
    const res = await page.fetch(`${base}/ok?session_token=abc&q=1`);
    assert.deepEqual(await res.json(), { ok: true, token: 'server-secret' }, 'the page reads its body as ever');
    net.flush();
    const [e] = entries();
    assert.equal(e.initiator, 'fetch');
    assert.equal(e.method, 'GET');
    assert.equal(e.url, `${base}/ok?session_token=${MASKED}&q=1`);
    assert.equal(e.status, 200);
    assert.equal(e.request_size, 0);
    assert.equal(e.response_size, 35);
    assert.equal(e.error, null);
    assert.ok(e.duration >= 0 && Math.abs(e.start - Date.now()) < 10_000);
    for (const k of ['request_headers', 'response_headers', 'request_body', 'response_body']) assert.ok(!(k in e), k);
  });

  it('reports a 404, and a network error as status 0 that still rejects in the page, leaving no unhandled rejection', async () => {
    const { net, entries } = recorder();
    const page = { fetch: globalThis.fetch };
    wrapFetch(page, net);
    const unhandled = await unhandledDuring(async () => {
      assert.equal((await page.fetch(`${base}/nope`, { method: 'post', body: 'abc' })).status, 404);
      const plain = await globalThis.fetch(`http://127.0.0.1:${closedPort}/`).catch((e: Error) => e);
      const wrapped = await page.fetch(`http://127.0.0.1:${closedPort}/`).catch((e: Error) => e);
      assert.ok(wrapped instanceof TypeError);
      assert.equal((wrapped as Error).message, (plain as Error).message);
    });
    assert.deepEqual(unhandled, []);
    net.flush();
    const [notFound, failed] = entries();
    assert.deepEqual([notFound.method, notFound.status, notFound.request_size, notFound.error], ['POST', 404, 3, null]);
    assert.equal(failed.status, 0);
    assert.equal(failed.error, 'fetch failed');
  });

  it('hands the page the very promise and exception the original gives', () => {
    const { net } = recorder();
    const sentinel = Promise.resolve(new Response('x'));
    const page = { fetch: (() => sentinel) as unknown as typeof fetch };
    wrapFetch(page, net);
    assert.equal(page.fetch('https://x.example/'), sentinel);
    const throwing = { fetch: (() => { throw new SyntaxError('sync failure'); }) as unknown as typeof fetch };
    wrapFetch(throwing, net);
    assert.throws(() => throwing.fetch('https://x.example/'), SyntaxError);
  });

  it('records bodies and headers only for allowed URLs, with secrets masked and credentials left out', async () => {
    const { net, entries } = recorder({ bodies: [/\/echo/, '/ok'], headers: ['/echo', /\/ok/] });
    const page = { fetch: globalThis.fetch };
    wrapFetch(page, net);
    const sent = JSON.stringify({ user: 'mia', password: 'hunter2' });
    const res = await page.fetch(`${base}/echo`, { method: 'POST', body: sent, headers: { Authorization: 'Bearer auth-secret', Cookie: 'c=cookie-secret', 'X-Request': 'r-1' } });
    assert.equal(await res.text(), sent, 'the page gets the body unchanged');
    await page.fetch(`${base}/ok`).then((r) => r.text());
    await page.fetch(`${base}/nope`);
    await until(() => { net.flush(); return entries().length === 3; }, 'three entries');
    const [echo, ok, other] = entries();
    assert.equal(echo.request_body, JSON.stringify({ user: 'mia', password: MASKED }));
    assert.equal(echo.response_body, JSON.stringify({ user: 'mia', password: MASKED }));
    assert.equal(echo.request_headers?.['x-request'], 'r-1');
    assert.equal(ok.response_body, JSON.stringify({ ok: true, token: MASKED }));
    assert.equal(ok.response_headers?.['x-trace'], 't-1');
    assert.equal(ok.response_headers?.['content-type'], 'application/json');
    assert.ok(!('request_body' in other) && !('response_headers' in other), 'not allowed for this URL');
    const all = JSON.stringify(entries());
    for (const secret of ['hunter2', 'auth-secret', 'cookie-secret', 'server-secret']) assert.ok(!all.includes(secret), secret);
  });

  it('leaves a streaming body to the page, reading at most a capped part of a clone', async () => {
    const { net, entries } = recorder({ bodies: ['/stream'] });
    const page = { fetch: globalThis.fetch };
    wrapFetch(page, net);
    const res = await page.fetch(`${base}/stream`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    assert.ok(first.value && first.value.byteLength > 0, 'the page reads its stream');
    await until(() => { net.flush(); return entries().length === 1; }, 'the streaming request reported');
    const [e] = entries();
    assert.equal(e.response_body?.length, BODY_MAX_CHARS + 1);
    assert.equal(e.response_size, null, 'not known: the stream did not end');
    await reader.cancel();
  });

  it('leaves out the recorder\'s own requests to the hub', async () => {
    const { net, entries } = recorder({}, (url) => url.startsWith(`${base}/echo`));
    const page = { fetch: globalThis.fetch };
    wrapFetch(page, net);
    await page.fetch(`${base}/echo`, { method: 'POST', body: '{}' });
    await page.fetch(`${base}/ok`);
    net.flush();
    assert.deepEqual(entries().map((e) => e.url), [`${base}/ok`]);
  });

  it('batches what finishes within a second into one event, at most 50 each', async () => {
    const { net, batches } = recorder();
    // Requests that end together (here in one task, so that no timing of this machine matters).
    for (let i = 0; i < 3; i++) net.end(net.begin('fetch', 'GET', `${base}/ok?i=${i}`) as Tracked);
    assert.equal(batches.length, 0, 'nothing before the batch is due');
    await until(() => batches.length > 0, 'the batch');
    assert.deepEqual(batches.map((b) => b.length), [3]);
    for (let i = 0; i < 120; i++) net.end(net.begin('xhr', 'GET', `${base}/ok?j=${i}`) as Tracked);
    assert.deepEqual(batches.map((b) => b.length), [3, 50, 50], 'full batches go at once');
    net.flush();
    assert.deepEqual(batches.map((b) => b.length), [3, 50, 50, 20]);
  });

  it('gives fetch back on uninstall', () => {
    const { net } = recorder();
    const original = globalThis.fetch;
    const page = { fetch: original };
    const undo = wrapFetch(page, net);
    assert.notEqual(page.fetch, original);
    undo();
    assert.equal(page.fetch, original);
  });
});

/** What the wrapper uses of XMLHttpRequest, over Node's fetch (the browser test runs the real one). */
class FakeXHR extends EventTarget {
  status = 0;
  responseText = '';
  responseType = '';
  response: unknown = null;
  private method = 'GET';
  private url = '';
  private headers: Record<string, string> = {};
  private res: Response | null = null;
  open(method: string, url: string): void { this.method = method; this.url = url; }
  setRequestHeader(name: string, value: string): void { this.headers[name] = value; }
  getResponseHeader(name: string): string | null { return this.res?.headers.get(name) ?? null; }
  getAllResponseHeaders(): string { return this.res ? [...this.res.headers].map(([k, v]) => `${k}: ${v}`).join('\r\n') : ''; }
  send(body?: string | null): void {
    fetch(this.url, { method: this.method, headers: this.headers, body: body ?? undefined }).then(async (r) => {
      this.res = r;
      this.status = r.status;
      this.response = this.responseText = await r.text();
      this.dispatchEvent(Object.assign(new Event('loadend'), { loaded: bytes(this.responseText) }));
    }, () => {
      this.dispatchEvent(new Event('error'));
      this.dispatchEvent(Object.assign(new Event('loadend'), { loaded: 0 }));
    });
  }
}

describe('XMLHttpRequest', () => {
  const { net, entries } = recorder({ bodies: ['/echo'], headers: ['/echo'] });
  const undo = wrapXhr(FakeXHR.prototype as unknown as XMLHttpRequest, net);
  after(undo);

  const request = (method: string, url: string, body?: string, headers: Record<string, string> = {}, x = new FakeXHR()) => new Promise<FakeXHR>((resolve) => {
    x.addEventListener('loadend', () => setTimeout(() => resolve(x), 0), { once: true });
    x.open(method, url);
    for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
    x.send(body);
  });

  it('reports each request, with bodies and headers where allowed', async () => {
    await request('get', `${base}/ok`);
    const x = await request('POST', `${base}/echo`, 'user=mia&pass=hunter2', { Authorization: 'Basic xyz', 'X-Request': 'r-2' });
    assert.equal(x.responseText, 'user=mia&pass=hunter2', 'the page sees its own response');
    await request('GET', `http://127.0.0.1:${closedPort}/`);
    net.flush();
    const [ok, echo, failed] = entries();
    assert.deepEqual([ok.initiator, ok.method, ok.status, ok.response_size, ok.request_size], ['xhr', 'GET', 200, 35, 0]);
    assert.ok(!('response_body' in ok));
    assert.deepEqual([echo.status, echo.request_body, echo.response_body], [201, `user=mia&pass=${MASKED}`, `user=mia&pass=${MASKED}`]);
    assert.deepEqual(echo.request_headers, { 'x-request': 'r-2' });
    assert.deepEqual([failed.status, failed.error], [0, 'error']);
  });

  it('reports each request of one object reused, once each', async () => {
    net.flush();
    const before = entries().length;
    const x = await request('GET', `${base}/ok?n=1`);
    await request('GET', `${base}/nope?n=2`, undefined, {}, x);
    net.flush();
    assert.deepEqual(entries().slice(before).map((e) => [e.url, e.status]), [[`${base}/ok?n=1`, 200], [`${base}/nope?n=2`, 404]]);
  });
});
