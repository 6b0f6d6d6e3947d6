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
    const ok = typeof navigator.sendBeacon === 'function' && navigator.sendBeacon(url, new Blob([f.body], { type: 'text/plain' }));
    if (!ok) break;
    sent++;
  }
  return sent;
}

function keepalive(url: string, f: { body: string; bytes: number }): boolean {
  try {
    inFlight += f.bytes;
    fetch(url, { method: 'POST', body: f.body, keepalive: true, credentials: 'omit', headers: { 'Content-Type': 'text/plain' } })
      .catch(() => {})
      .finally(() => { inFlight -= f.bytes; });
    return true;
  } catch {
    inFlight -= f.bytes;
    return false;
  }
}
