// Public API of the StreamDOM recorder: StreamDOM.init(options) -> { sessionId, stop() },
// StreamDOM.identify(userId, traits) and StreamDOM.track(name, properties).

import type { record } from '@rrweb/record';
import { ClockSync } from './clock';
import { warn } from './console';
import { identifyEvent, PendingEvents, trackEvent, type ReportedEvent } from './custom';
import { MaskedValues, PrivacyPolicy, scrub } from './privacy';
import { nodeById, Recorder } from './recorder';
import { DEFAULT_MASK_PARAMS, Redactor } from './redact';
import { startReporters } from './reporters';
import { hubMode, Presence, recordsNow } from './ondemand';
import { sessionIdFor, visitorId } from './storage';

type RecordOptions = NonNullable<Parameters<typeof record>[0]>;

export interface PrivacyChoices {
  /** Mask the value of every input, textarea and select (default true); passwords and hidden inputs always. */
  maskAllInputs?: boolean;
  /** Per type or tag, on top of the above (e.g. `{ email: true }` with `maskAllInputs: false`). */
  maskInputOptions?: RecordOptions['maskInputOptions'];
  /** Mask every text of the page (default false). */
  maskAllText?: boolean;
  /** More elements whose text is masked, besides `.streamdom-mask`, `[data-streamdom-mask]` and `.rr-mask`. */
  maskTextSelector?: string;
  /** More elements recorded as empty boxes, besides `.streamdom-block`, `[data-streamdom-block]` and `.rr-block`. */
  blockSelector?: string;
  /** Elements whose input events are not recorded, besides `.rr-ignore`. */
  ignoreSelector?: string;
}

/** A URL pattern: a regular expression, or a string the URL contains. */
export type UrlPattern = string | RegExp;

export interface NetworkOptions {
  /** URLs whose request and response bodies are recorded (default: none). */
  bodies?: UrlPattern[];
  /** URLs whose request and response headers are recorded (default: none); cookies and credentials never are. */
  headers?: UrlPattern[];
}

/** What is reported beside the page itself (see reporters.ts and docs/PROTOCOL.md, "What the recorder reports"). */
export interface ReportChoices {
  /** Console messages (log, info, warn, error, debug), uncaught errors and unhandled rejections (default true). */
  console?: boolean;
  /** fetch and XMLHttpRequest requests (default true: method, URL, status, timing and sizes; bodies and headers only for the URLs listed). */
  network?: boolean | NetworkOptions;
  /** Page visits of single-page apps (`$pageview`) and `$visibility` (default true). */
  pages?: boolean;
  /** Where clicks land (`$click`: the element's selector path, the offset in it, page coordinates) for heatmaps (default true). */
  clicks?: boolean;
}

/** What is masked by default and how to change it: see privacy.ts and the README's "Keeping private data out". */
export interface InitOptions extends PrivacyChoices, ReportChoices {
  /** 1–64 chars of [A-Za-z0-9_-]; default: one per browser tab, kept across pages of the site. */
  sessionId?: string;
  /** Hub base URL, e.g. https://hub.example.com; default: where this script was loaded from. */
  endpoint?: string;
  /** The project's public ingest key; default: the `?key=` of this script's own URL. */
  key?: string;
  /**
   * Query parameters, fragment parameters and JSON or form fields whose values are recorded as
   * `***` in URLs, page visits and network bodies: names containing any of these, ignoring case
   * (replaces the default list: pass, pwd, token, secret, auth, key, session, sig, credential).
   */
  maskParams?: string[];
  /** Passed to rrweb's record() last, overriding everything above (privacy included). */
  recordOptions?: Partial<RecordOptions>;
}

export interface Handle {
  /** The session being recorded; in standby (`record_mode`), '' until a PM starts watching. */
  readonly sessionId: string;
  /** Estimate of the hub's clock (hubNow(), offset), reported to the hub after each update. */
  clock: ClockSync;
  stop(): Promise<void>;
}

// Latency first: rrweb's defaults hold mouse positions back for 500 ms and throttle scroll to 100 ms.
const SAMPLING = {
  mousemove: 20,
  mousemoveCallback: 0,
  scroll: 33,
};
// Late viewers start at the newest full snapshot; this bounds how much history they need.
const CHECKOUT_EVERY_MS = 10 * 60 * 1000;
let defaultEndpoint: string | undefined;
let defaultKey: string | undefined;
let defaultMaskAllText = false;
let active: Handle | undefined;
/** Where identify and track go: the running recording, or the queue for the next one. */
let report: ((e: ReportedEvent) => void) | undefined;
const pending = new PendingEvents();

/**
 * @internal Set by the bundle entry points from where the script itself was loaded: its `?key=`,
 * and `maskAllText` from `?maskAllText=1` or a `data-mask-all-text` attribute on the script tag.
 */
export function setDefaultEndpoint(url: string | undefined | null, maskAllText = false): void {
  defaultMaskAllText ||= maskAllText;
  if (!url) return;
  try {
    const parsed = new URL(url, location.href);
    defaultEndpoint = parsed.origin;
    defaultKey = parsed.searchParams.get('key') ?? undefined;
    const flag = parsed.searchParams.get('maskAllText');
    if (flag !== null) defaultMaskAllText = flag !== '0' && flag !== 'false';
  } catch { /* keep fallback */ }
}

function init(options: InitOptions = {}): Handle {
  if (active) {
    warn('StreamDOM: already recording; returning the running session');
    return active;
  }
  const endpoint = (options.endpoint ?? defaultEndpoint ?? location.origin).replace(/\/+$/, '');
  const key = options.key ?? defaultKey;
  if (!key) warn('StreamDOM: no project key (add ?key=… to the script URL); the hub will refuse the recording');
  const privacy = new PrivacyPolicy({ ...options, maskAllText: options.maskAllText ?? defaultMaskAllText });
  // The page's masked input values, watched only while recording (a standby page pays nothing).
  let secrets: MaskedValues | undefined;
  const redactor = new Redactor(options.maskParams ?? DEFAULT_MASK_PARAMS, () => secrets?.get() ?? []);

  /** One recording, as every page of an `all` project runs it; returns how to stop it. */
  const begin = (sessionId: string, now: boolean) => {
    secrets = new MaskedValues(privacy);
    // rrweb's mirror maps the ids in an event to the page's live nodes when the event is emitted.
    const rules = { ...privacy.rules(nodeById), url: (u: string) => redactor.url(u) };
    const recorder = new Recorder(sessionId, endpoint, key ?? '', {
      ...privacy.recordOptions(),
      plugins: [{ name: 'streamdom/privacy', eventProcessor: (e) => scrub(e, rules), options: {} }],
      sampling: SAMPLING,
      checkoutEveryNms: CHECKOUT_EVERY_MS,
      ...options.recordOptions,
    });
    // identify and track calls made before init come first, in order.
    report = (e) => recorder.report(e);
    pending.drain(report);
    // Before the recorder's own listeners: what they report on pagehide leaves with its last flush.
    const ownPosts = `${endpoint}/api/sessions/`;
    const stopReporters = startReporters(options, redactor, report, (url) => url.startsWith(ownPosts), `${privacy.recordOptions().blockSelector},.rr-block`);
    recorder.start(now);
    const kept = secrets;
    return {
      recorder,
      stop: () => {
        report = undefined;
        stopReporters();
        kept.stop();
        return recorder.stop();
      },
    };
  };

  // Standby (or left out of the sample): only the presence socket until a PM asks, then the
  // same recording under the session id the hub chose (the hub's word is trusted, like its script).
  const visitor = visitorId();
  let running: ReturnType<typeof begin> | undefined;
  let presence: Presence | undefined;
  if (recordsNow(hubMode(), visitor, location.pathname)) running = begin(sessionIdFor(options.sessionId), false);
  else {
    presence = new Presence(endpoint, key ?? '', visitor, () => redactor.url(location.href), {
      record: (sessionId) => {
        if (running?.recorder.sessionId === sessionId) return;
        void running?.stop();
        running = begin(sessionId, true);
      },
      stop: () => {
        void running?.stop();
        running = undefined;
      },
    });
    presence.start();
  }
  const idle = new ClockSync(() => {}, () => {});
  const handle: Handle = {
    get sessionId() { return running?.recorder.sessionId ?? ''; },
    get clock() { return running?.recorder.socket.clock ?? idle; },
    stop: async () => {
      if (active === handle) active = undefined;
      presence?.close();
      await running?.stop();
      running = undefined;
    },
  };
  active = handle;
  return handle;
}

function take(e: ReportedEvent | string): boolean {
  if (typeof e === 'string') {
    warn(`StreamDOM.${e}`);
    return false;
  }
  if (report) report(e);
  else pending.push(e);
  return true;
}

/**
 * Who the visitor is: `userId` (a non-empty string of at most 256 characters) and `traits` (a
 * JSON object of at most 8 KiB), recorded as a `$identify` event. Callable before `init`: kept
 * until the recording starts. Returns false (and warns) when the arguments are refused.
 */
function identify(userId: string | number, traits?: Record<string, unknown>): boolean {
  return take(identifyEvent(userId, traits));
}

/**
 * A custom event `name` (not starting with `$`) with `properties` (a JSON object of at most 8 KiB).
 * Callable before `init`, like identify.
 */
function track(name: string, properties?: Record<string, unknown>): boolean {
  return take(trackEvent(name, properties));
}

/** Stop the running recording, if any (what `handle.stop()` does, for code that kept no handle). */
function stop(): Promise<void> {
  return active ? active.stop() : Promise.resolve();
}

const StreamDOM = { init, stop, identify, track };
export { StreamDOM as StreamDom, StreamDOM };
export { ClockSync } from './clock';
export default StreamDOM;
