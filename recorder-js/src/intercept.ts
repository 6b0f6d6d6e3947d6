// The page's fetch and XMLHttpRequest, wrapped to report each request to a NetworkRecorder without
// changing what the page sees: the same return values and exceptions, its own `this` and arguments,
// and bodies untouched (a clone's is read only for URLs whose bodies the site allows, and at most
// BODY_MAX_CHARS of it). Everything the wrappers add runs inside try/catch.

import { BODY_MAX_CHARS, bodySize, bodyText, type NetworkRecorder, type Tracked } from './network';

/** How long a recorded response body is waited for before the request is reported without it. */
const BODY_WAIT_MS = 10_000;
const TEXTUAL = /json|text|xml|form|javascript|graphql/i;

const safely = (f: () => void): void => { try { f(); } catch { /* never into the page */ } };
const textual = (contentType: string | null): boolean => !!contentType && TEXTUAL.test(contentType) && !/event-stream/i.test(contentType);
const length = (v: string | null): number | null => (v !== null && /^\d+$/.test(v.trim()) ? Number(v) : null);

/** At most `max` characters of a body (the rest is cancelled: a stream may never end), and its size when read whole. */
async function readCapped(body: ReadableStream<Uint8Array>, max: number): Promise<{ text: string; bytes: number | null }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), bytes };
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
    if (text.length > max) {
      reader.cancel().catch(() => {});
      return { text, bytes: null };
    }
  }
}

function fetched(net: NetworkRecorder, t: Tracked, res: Response): void {
  t.entry.status = res.status;
  t.entry.response_size = length(res.headers.get('content-length'));
  if (t.headers) t.entry.response_headers = net.headers(res.headers);
  if (!t.bodies || !res.body || !textual(res.headers.get('content-type'))) return net.end(t);
  let done = false;
  const finish = (read?: { text: string; bytes: number | null }) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    try {
      if (read) {
        t.entry.response_body = net.body(read.text);
        t.entry.response_size ??= read.bytes;
      }
      net.end(t);
    } catch { /* never into the page */ }
  };
  const timer = setTimeout(finish, BODY_WAIT_MS);
  // The page's handlers run after this one: its body is still unread, so it can be cloned.
  readCapped(res.clone().body as ReadableStream<Uint8Array>, BODY_MAX_CHARS).then(finish, () => finish());
}

export function wrapFetch(win: { fetch: typeof fetch }, net: NetworkRecorder): () => void {
  const original = win.fetch;
  const wrapper = function (this: unknown, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    let t: Tracked | null = null;
    try {
      const request = typeof input === 'object' && 'url' in input ? input : undefined;
      t = net.begin('fetch', init?.method ?? request?.method ?? 'GET', request ? request.url : String(input));
      if (t) {
        const body = init?.body ?? (request ? undefined : null);
        t.entry.request_size = body === undefined ? null : bodySize(body);
        if (t.headers) t.entry.request_headers = net.headers(new Headers(init?.headers ?? request?.headers));
        const text = t.bodies ? bodyText(body) : undefined;
        if (text !== undefined) t.entry.request_body = net.body(text);
      }
    } catch {
      t = null;
    }
    // eslint-disable-next-line prefer-rest-params
    const p = original.apply(this, arguments as unknown as [RequestInfo | URL, RequestInit?]);
    if (t) {
      const tracked = t;
      // Both outcomes handled: this derived promise never rejects, so it adds no unhandled rejection.
      try {
        p.then(
          (res) => safely(() => fetched(net, tracked, res)),
          (err: unknown) => safely(() => {
            tracked.entry.error = String((err as Error)?.name === 'AbortError' ? 'AbortError' : ((err as Error)?.message ?? err)).slice(0, 200);
            net.end(tracked);
          }),
        );
      } catch { /* not a promise: nothing to record */ }
    }
    return p;
  };
  win.fetch = wrapper as typeof fetch;
  return () => { if (win.fetch === wrapper) win.fetch = original; };
}

interface XhrState { method: string; url: string; headers: [string, string][]; t?: Tracked | null; error?: string | null; listening?: boolean }

function xhrDone(net: NetworkRecorder, t: Tracked, xhr: XMLHttpRequest, error: string | null | undefined, loaded: number): void {
  t.entry.status = xhr.status;
  t.entry.error = xhr.status ? null : (error ?? 'error');
  if (xhr.status) {
    t.entry.response_size = length(xhr.getResponseHeader('content-length')) ?? loaded;
    if (t.headers) {
      const lines = xhr.getAllResponseHeaders().trim().split(/[\r\n]+/).filter(Boolean);
      t.entry.response_headers = net.headers(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
    }
    if (t.bodies && textual(xhr.getResponseHeader('content-type'))) {
      // Text responses only: anything else would have to be serialized again.
      if (xhr.responseType === '' || xhr.responseType === 'text') t.entry.response_body = net.body(xhr.responseText.slice(0, BODY_MAX_CHARS * 2));
    }
  }
  net.end(t);
}

export function wrapXhr(proto: XMLHttpRequest, net: NetworkRecorder): () => void {
  const { open, send, setRequestHeader } = proto;
  const states = new WeakMap<XMLHttpRequest, XhrState>();
  proto.open = function (this: XMLHttpRequest, method: string, url: string | URL) {
    safely(() => states.set(this, { method: String(method), url: String(url), headers: [] }));
    // eslint-disable-next-line prefer-rest-params
    return open.apply(this, arguments as unknown as Parameters<typeof open>);
  } as typeof open;
  proto.setRequestHeader = function (this: XMLHttpRequest, name: string, value: string) {
    safely(() => states.get(this)?.headers.push([String(name), String(value)]));
    return setRequestHeader.call(this, name, value);
  };
  proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    const xhr = this;
    safely(() => {
      const s = states.get(xhr);
      const t = s && net.begin('xhr', s.method, s.url);
      if (!s || !t) return;
      t.entry.request_size = bodySize(body);
      if (t.headers) t.entry.request_headers = net.headers(s.headers);
      const text = t.bodies ? bodyText(body) : undefined;
      if (text !== undefined) t.entry.request_body = net.body(text);
      s.t = t;
      s.error = null;
      if (s.listening) return;
      s.listening = true;
      // Once per object (a page may reuse one): the state says which request is current.
      for (const type of ['error', 'abort', 'timeout']) xhr.addEventListener(type, () => { s.error = type; });
      xhr.addEventListener('loadend', (e) => safely(() => {
        const current = s.t;
        s.t = null;
        if (current) xhrDone(net, current, xhr, s.error, (e as ProgressEvent).loaded);
      }));
    });
    return send.call(this, body);
  };
  const ours = { open: proto.open, send: proto.send, setRequestHeader: proto.setRequestHeader };
  const originals = { open, send, setRequestHeader };
  return () => {
    // Only where nothing wrapped them after us; otherwise ours stay, inert (the recorder is off).
    const p = proto as unknown as Record<string, unknown>;
    for (const name of ['open', 'send', 'setRequestHeader'] as const) if (p[name] === ours[name]) p[name] = originals[name];
  };
}
