// Unit tests of codec.ts: binary frames inflate to the exact text the hub deflated, and the inbox
// hands messages (and the close) on in arrival order, text at once when nothing is ahead of it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameInbox, inflateFrame, withEnc } from './codec';

/** A frame as the hub sends it: encoding byte 1 (deflate-raw) or 2 (gzip), then the compressed text. */
async function hubFrame(text: string, tag = 1): Promise<Uint8Array<ArrayBuffer>> {
  const format = tag === 1 ? 'deflate-raw' : 'gzip';
  const body = new Uint8Array(await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream(format))).arrayBuffer());
  return new Uint8Array([tag, ...body]);
}
/** Waits until `done()` holds (at most 2 s), then a little more for anything that should not come. */
async function settle(done: () => boolean = () => false): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 10));
}
const snapshot = JSON.stringify({ type: 'events', events: [{ seq: 1, hub_time: 5, event: { type: 2, data: { text: 'é…'.repeat(30_000) } } }] });

describe('inflateFrame', () => {
  it('gives back the exact text of deflate-raw and gzip frames', async () => {
    assert.equal(await inflateFrame((await hubFrame(snapshot)).buffer), snapshot);
    assert.equal(await inflateFrame(await hubFrame(snapshot, 2)), snapshot);
  });

  it('refuses an unknown encoding byte', async () => {
    const err = await inflateFrame(new Uint8Array([7, 1, 2])).then(() => null, (e: Error) => e.message);
    assert.equal(err, 'unknown frame encoding 7');
  });
});

describe('FrameInbox', () => {
  it('hands text on synchronously when nothing is being inflated', () => {
    const got: string[] = [];
    new FrameInbox().message('{"type":"live"}', (t) => got.push(t));
    assert.deepEqual(got, ['{"type":"live"}']);
  });

  it('keeps arrival order: text and the close wait behind a frame being inflated', async () => {
    const got: string[] = [];
    const inbox = new FrameInbox();
    const frame = await hubFrame(snapshot);
    inbox.message(frame.buffer, (t) => got.push(t));
    inbox.message('{"type":"live"}', (t) => got.push(t));
    inbox.after(() => got.push('closed'));
    assert.equal(got.length, 0);
    await settle(() => got.length === 3);
    assert.deepEqual(got, [snapshot, '{"type":"live"}', 'closed']);
    inbox.message('{"type":"end"}', (t) => got.push(t));
    assert.equal(got.length, 4, 'synchronous again once the queue is empty');
  });

  it('skips a frame that does not inflate and goes on', async () => {
    const got: string[] = [];
    const inbox = new FrameInbox();
    const warn = console.warn;
    console.warn = () => {};
    try {
      inbox.message(new Uint8Array([1, 0xff, 0xff]).buffer, (t) => got.push(t));
      inbox.message('after', (t) => got.push(t));
      await settle(() => got.length === 1);
    } finally {
      console.warn = warn;
    }
    assert.deepEqual(got, ['after']);
  });
});

it('withEnc asks for deflate-raw on any viewer URL', () => {
  assert.equal(withEnc('ws://h/ws/watch/a?from=live'), 'ws://h/ws/watch/a?from=live&enc=deflate-raw');
  assert.equal(withEnc('ws://h/ws/watch/a'), 'ws://h/ws/watch/a?enc=deflate-raw');
});
