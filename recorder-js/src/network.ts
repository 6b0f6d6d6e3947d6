// The page's requests as the recording shows them: one entry per request (method, URL, status,
// timing, sizes; headers and bodies only for URLs the site allows), batched into one
// `streamdom/network@1` event about once a second. intercept.ts feeds it from fetch and XHR.

import { utf8Length } from './buffer';
import type { NetworkOptions, UrlPattern } from './index';
import type { Redactor } from './redact';

export const NETWORK_PLUGIN = 'streamdom/network@1';

export interface RequestEntry {
  initiator: 'fetch' | 'xhr';
  method: string;
  url: string;
  /** 0: no response (network error, aborted, blocked). */
  status: number;
  /** When it was made, epoch ms on the visitor's clock. */
  start: number;
  /** Until the response's headers, or its end when its body is recorded or it is an XHR. */
  duration: number;
  request_size: number | null;
  response_size: number | null;
  error: string | null;
  request_headers?: Record<string, string>;
  response_headers?: Record<string, string>;
  request_body?: string;
  response_body?: string;
}

/** A request being made, and what may be recorded of it. */
export interface Tracked { entry: RequestEntry; t0: number; bodies: boolean; headers: boolean }

const BATCH_MS = 1000;
const MAX_BATCH = 50;
/** Requests finishing faster than a batch can be sent are dropped past this. */
const MAX_PENDING = 500;
const URL_MAX_CHARS = 2000;
export const BODY_MAX_CHARS = 10_000;

export const matches = (patterns: UrlPattern[] | undefined, url: string): boolean =>
  !!patterns?.some((p) => (typeof p === 'string' ? url.includes(p) : ((p.lastIndex = 0), p.test(url))));

const absolute = (url: string): string => {
  try { return new URL(url, globalThis.location?.href).href; } catch { return url; }
};

/** Bytes of a request body, when it can be known without reading it. */
export function bodySize(body: unknown): number | null {
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string') return utf8Length(body);
  if (body instanceof URLSearchParams) return utf8Length(body.toString());
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body.size;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  return null;
}

/** A request body as text, for the types that are text. */
export const bodyText = (body: unknown): string | undefined =>
  typeof body === 'string' ? body : body instanceof URLSearchParams ? body.toString() : undefined;

export class NetworkRecorder {
  private pending: RequestEntry[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  on = true;

  /** `ignore`: the recorder's own requests to the hub. */
  constructor(private emit: (payload: { requests: RequestEntry[] }) => void, readonly redactor: Redactor, private options: NetworkOptions = {}, private ignore: (url: string) => boolean = () => false) {}

  /** A request starts: what may be recorded of it, or null when it is not recorded at all. */
  begin(initiator: RequestEntry['initiator'], method: string, url: string): Tracked | null {
    if (!this.on) return null;
    const abs = absolute(url);
    if (this.ignore(abs)) return null;
    const entry: RequestEntry = {
      initiator, method: method.toUpperCase(), url: this.redactor.url(abs).slice(0, URL_MAX_CHARS), status: 0,
      start: Date.now(), duration: 0, request_size: null, response_size: null, error: null,
    };
    return { entry, t0: performance.now(), bodies: matches(this.options.bodies, abs), headers: matches(this.options.headers, abs) };
  }

  /** A body as it may be recorded: secrets masked, at most BODY_MAX_CHARS. */
  body(text: string): string {
    const s = this.redactor.body(text);
    return s.length > BODY_MAX_CHARS ? `${s.slice(0, BODY_MAX_CHARS)}…` : s;
  }

  headers(entries: Iterable<[string, string]>): Record<string, string> {
    return this.redactor.headers(entries);
  }

  /** The request is over: its entry joins the next batch. */
  end(t: Tracked): void {
    t.entry.duration = Math.round(performance.now() - t.t0);
    if (!this.on) return;
    if (this.pending.length < MAX_PENDING) this.pending.push(t.entry);
    if (this.pending.length >= MAX_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  /** Emit what has finished (at once: the page is being hidden or the recording stops). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length) this.emit({ requests: this.pending.splice(0, MAX_BATCH) });
  }
}
