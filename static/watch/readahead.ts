// How far the watch page reads a recording ahead of the moment it shows. A stored session streams
// from the snapshot before that moment; the page acknowledges a batch (which lets the hub send
// more, see the viewer's flow control) only while the stream is near the moment shown, so that an
// hour-long recording is not pulled whole into memory, and a seek's load is not stuck behind the
// rest of the session.

/** Read up to this far past the moment shown (session time): a checkout interval's worth and more. */
export const AHEAD_MS = 5 * 60_000;

export interface ReadState {
  /** The session is over: nothing is live, so the page decides how much it reads. */
  over: boolean;
  /** Another socket loads what a seek waits for: it goes first. */
  seekLoading: boolean;
  /** The newest event this stream has delivered (visitor timestamp). */
  lastTs: number;
  /** The moment shown (visitor timestamp). */
  playheadTs: number;
}

/** Whether to acknowledge a stream's latest batch now (and so let more come). */
export function readOn(s: ReadState): boolean {
  // A live viewer must keep up: the hub cuts one that falls 32 MiB behind.
  if (!s.over) return true;
  if (s.seekLoading) return false;
  // Near the moment shown: read on up to AHEAD_MS past it. A stream far behind it (the page
  // was sought past it) or far ahead waits until the moment comes near.
  return s.lastTs >= s.playheadTs - AHEAD_MS && s.lastTs < s.playheadTs + AHEAD_MS;
}
