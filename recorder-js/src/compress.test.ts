// Unit tests of compress.ts: frames keep their order whatever is compressed, small ones go at once,
// and what leaves compressed inflates back to the exact text.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compressFrame, FrameSender, pickFormat } from './compress';

async function inflate(frame: Uint8Array): Promise<string> {
  const format = frame[0] === 1 ? 'deflate-raw' : 'gzip';
  const stream = new Blob([frame.slice(1)]).stream().pipeThrough(new DecompressionStream(format));
  return new Response(stream).text();
}

/** Waits until `done()` holds (at most 2 s), then a little more for anything that should not come. */
async function settle(done: () => boolean = () => false): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 10));
}

describe('FrameSender', () => {
  it('sends a small frame synchronously when nothing waits', () => {
    const sent: (string | Uint8Array)[] = [];
    const s = new FrameSender((d) => sent.push(d), 'deflate-raw', 100);
    s.send('small', 5);
    assert.deepEqual(sent, ['small']);
  });

  it('keeps the order: small frames wait behind a large one being compressed', async () => {
    const sent: (string | Uint8Array)[] = [];
    const s = new FrameSender((d) => sent.push(d), 'deflate-raw', 100);
    const big = JSON.stringify({ type: 'events', seq: 1, events: ['é'.repeat(500)] });
    s.send(big, 1001);
    s.send('after', 5);
    assert.equal(sent.length, 0);
    assert.equal(s.pendingBytes, 1006);
    await settle(() => sent.length === 2);
    assert.equal(sent.length, 2);
    assert.ok(sent[0] instanceof Uint8Array && sent[0][0] === 1);
    assert.equal(await inflate(sent[0] as Uint8Array), big);
    assert.equal(sent[1], 'after');
    assert.equal(s.pendingBytes, 0);
    s.send('then', 4);
    assert.equal(sent[2], 'then', 'back to synchronous once the queue is empty');
  });

  it('drops what an old connection had not sent after reset', async () => {
    const sent: (string | Uint8Array)[] = [];
    const s = new FrameSender((d) => sent.push(d), 'gzip', 10);
    s.send('x'.repeat(50), 50);
    s.reset();
    s.send('y', 1);
    await settle();
    assert.deepEqual(sent, ['y']);
  });

  it('sends text when the browser cannot compress', () => {
    const sent: (string | Uint8Array)[] = [];
    new FrameSender((d) => sent.push(d), null, 10).send('x'.repeat(50), 50);
    assert.deepEqual(sent, ['x'.repeat(50)]);
  });
});

describe('compressFrame', () => {
  it('round-trips both formats byte for byte, tagged 1 and 2', async () => {
    const text = '{"type":"events","seq":7,"events":[{"a":"\u{1F600}"}]}';
    for (const [format, tag] of [['deflate-raw', 1], ['gzip', 2]] as const) {
      const frame = await compressFrame(text, format);
      assert.equal(frame[0], tag);
      assert.equal(await inflate(frame), text);
    }
  });

  it('picks deflate-raw where it exists', () => {
    assert.equal(pickFormat(), 'deflate-raw');
  });
});

describe('FrameSender on a socket that fails', () => {
  it('leaves no unhandled rejection in the page when sending a compressed frame throws (issue 11)', async () => {
    const seen: unknown[] = [];
    const on = (reason: unknown) => seen.push(reason);
    process.on('unhandledRejection', on);
    try {
      let calls = 0;
      const s = new FrameSender(() => { calls++; throw new Error('socket closed'); }, 'deflate-raw', 10);
      s.send('x'.repeat(100), 100);
      await settle(() => calls === 1);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(calls, 1);
    } finally {
      process.off('unhandledRejection', on);
    }
    assert.deepEqual(seen, []);
  });
});
