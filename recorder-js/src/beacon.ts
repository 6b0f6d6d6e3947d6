// Last-chance delivery while the page is hidden or unloading, when the socket may not get to send.

// Browsers allow 64 KiB of keepalive bodies in flight per page (sendBeacon counts against the same quota).
export const KEEPALIVE_QUOTA = 64 * 1024;
let inFlight = 0;

/** POST frames in order until the quota is spent; returns how many were handed to the browser. */
export function postFrames(url: string, frames: { body: string; bytes: number }[]): number {
  let sent = 0;
  for (const f of frames) {
    if (inFlight + f.bytes <= KEEPALIVE_QUOTA && keepalive(url, f)) { sent++; continue; }
    // text/plain keeps the request "simple": no CORS preflight that an unloading page cannot wait for.
    if (!beacon(url, f.body)) break;
    sent++;
  }
  return sent;
}

function beacon(url: string, body: string): boolean {
  try {
    return typeof navigator.sendBeacon === 'function' && navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' }));
  } catch {
    // Some browsers throw instead of returning false (a quota, a page being unloaded).
    return false;
  }
}

function keepalive(url: string, f: { body: string; bytes: number }): boolean {
  try {
    inFlight += f.bytes;
    // A hub that is down or a page being torn down rejects this: a rejection left unhandled
    // would reach the site's own error tracking. What is lost stays in storage for the next page.
    fetch(url, { method: 'POST', body: f.body, keepalive: true, credentials: 'omit', headers: { 'Content-Type': 'text/plain' } })
      .catch(() => {})
      .finally(() => { inFlight -= f.bytes; });
    return true;
  } catch {
    inFlight -= f.bytes;
    return false;
  }
}
