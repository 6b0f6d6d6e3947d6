// Compressed frames from the hub (docs/PROTOCOL.md, "Compressed frames"): a viewer that asks with
// `?enc=deflate-raw` gets large event frames (a join snapshot, a new page) as binary frames, which
// are inflated here with the browser's DecompressionStream. Small live frames stay text and, with
// nothing being inflated ahead of them, are handed on at once: no added latency.

import type { Inbox } from '@streamdom/recorder/reconnect';

/** What the watch page asks for on its viewer sockets. */
export const VIEWER_ENC = 'deflate-raw';

/** A viewer socket URL that asks for compressed frames. */
export function withEnc(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}enc=${VIEWER_ENC}`;
}

const FORMATS: Record<number, CompressionFormat> = { 1: 'deflate-raw', 2: 'gzip' };

/** The text of a binary frame: its first byte names the encoding of the rest. */
export async function inflateFrame(data: ArrayBuffer | Uint8Array): Promise<string> {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const format = FORMATS[bytes[0]];
  if (!format) throw new Error(`unknown frame encoding ${bytes[0]}`);
  const stream = new Blob([bytes.slice(1) as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream(format));
  return new Response(stream).text();
}

/**
 * Socket messages in arrival order: text as is, binary frames inflated. While a frame is being
 * inflated, what arrives after it (and the close) waits for it.
 */
export class FrameInbox implements Inbox {
  private tail: Promise<void> | null = null;

  message(data: unknown, deliver: (text: string) => void): void {
    if (typeof data === 'string' && this.tail === null) return deliver(data);
    const text = typeof data === 'string' ? Promise.resolve(data) : inflateFrame(data as ArrayBuffer);
    this.queue(async () => {
      try {
        deliver(await text);
      } catch (e) {
        console.warn('StreamDOM: a compressed frame did not inflate', e);
      }
    });
  }

  after(fn: () => void): void {
    if (this.tail === null) fn();
    else this.queue(async () => fn());
  }

  private queue(step: () => Promise<void>): void {
    const tail: Promise<void> = (this.tail ?? Promise.resolve()).then(step).finally(() => {
      if (this.tail === tail) this.tail = null;
    });
    this.tail = tail;
  }
}
