// Compressed frames (docs/PROTOCOL.md, "Compressed frames"): large event frames leave deflated by the
// browser's CompressionStream, as binary frames, in order with the small ones that go as text.

/** The first byte of a binary frame says how the rest is compressed. */
export const ENCODING_BYTE = { 'deflate-raw': 1, gzip: 2 } as const;
export type Format = keyof typeof ENCODING_BYTE;

/**
 * Frames below this many bytes go as text. Measured in Chromium on recorded events
 * (docs/PERFORMANCE.md): a CompressionStream round trip takes ~0.7 ms however small the frame,
 * and a 150–400 byte mouse or input frame only shrinks by 20–40 % (~100 bytes); a 35 KB mutation
 * shrinks to 13 % in 1.3 ms, a 235 KB snapshot to 10 % in 5 ms. Small frames are most frames and
 * what live viewers wait for; big ones are most bytes.
 */
export const COMPRESS_MIN_BYTES = 4096;

/** deflate-raw where the browser has it, gzip (older Safari, Firefox) otherwise, or none. */
export function pickFormat(): Format | null {
  if (typeof CompressionStream !== 'function') return null;
  for (const f of ['deflate-raw', 'gzip'] as const) {
    try {
      new CompressionStream(f);
      return f;
    } catch { /* not supported: try the next */ }
  }
  return null;
}

/** The binary frame for `text`: the encoding byte, then the compressed UTF-8. */
export async function compressFrame(text: string, format: Format): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream(format));
  const body = new Uint8Array(await new Response(stream).arrayBuffer());
  const frame = new Uint8Array(body.length + 1);
  frame[0] = ENCODING_BYTE[format];
  frame.set(body, 1);
  return frame;
}

/**
 * Sends frames in the order given. A large frame is compressed first (asynchronously: the page's
 * task that emitted the events is not held up) and whatever follows waits for it; with nothing
 * waiting, a small frame goes out at once. `reset()` on every new connection drops what the old
 * one had not sent yet (the hub's welcome says what to send again).
 */
export class FrameSender {
  private tail: Promise<void> | null = null;
  private epoch = 0;
  /** Bytes handed to send() and not yet to the socket. */
  pendingBytes = 0;

  constructor(
    private sink: (data: string | Uint8Array) => void,
    private format: Format | null = pickFormat(),
    private minBytes = COMPRESS_MIN_BYTES,
  ) {}

  send(text: string, bytes: number): void {
    const big = this.format !== null && bytes >= this.minBytes;
    if (!big && this.tail === null) return this.sink(text);
    const epoch = this.epoch;
    const packed = big ? compressFrame(text, this.format!).catch(() => text) : Promise.resolve(text);
    this.pendingBytes += bytes;
    const tail: Promise<void> = (this.tail ?? Promise.resolve()).then(async () => {
      const data = await packed;
      if (epoch !== this.epoch) return;
      this.pendingBytes -= bytes;
      if (this.tail === tail) this.tail = null;
      // A rejection here would reach the page as an unhandled one (issue 11); a socket that fails
      // to send is closing, and the next connection resends from the hub's welcome.
      try { this.sink(data); } catch { /* see above */ }
    });
    this.tail = tail;
  }

  reset(): void {
    this.epoch++;
    this.tail = null;
    this.pendingBytes = 0;
  }
}
