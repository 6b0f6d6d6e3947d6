// The watch page's keyboard shortcuts as a plain function from a key press to what it does (the
// view carries it out), and the help overlay's list, so that both always agree.

export type KeyAction =
  | { kind: 'toggle-play' }
  | { kind: 'seek-by'; ms: number }
  | { kind: 'go-live' }
  | { kind: 'fullscreen' }
  | { kind: 'speed'; speed: number }
  | { kind: 'help' }
  | { kind: 'close' };

export const SEEK_STEP_MS = 5000;

/** What the help overlay lists. */
export const SHORTCUTS: [string, string][] = [
  ['Space', 'Play / pause'],
  ['← / →', `Back / forward ${SEEK_STEP_MS / 1000} s`],
  ['L', 'Go live'],
  ['F', 'Fullscreen'],
  ['1 2 4 8', 'Playback speed'],
  ['?', 'This help'],
  ['Esc', 'Close the help'],
];

/**
 * The action for a key press, or null to leave it to the browser: typing in a field (the search
 * box), or with Ctrl, Alt or Meta held (the browser's own shortcuts).
 */
export function keyAction(key: string, ctx: { typing: boolean; mods: boolean }): KeyAction | null {
  if (ctx.mods) return null;
  if (key === 'Escape') return { kind: 'close' };
  if (ctx.typing) return null;
  switch (key) {
    case ' ': return { kind: 'toggle-play' };
    case 'ArrowLeft': return { kind: 'seek-by', ms: -SEEK_STEP_MS };
    case 'ArrowRight': return { kind: 'seek-by', ms: SEEK_STEP_MS };
    case 'l': case 'L': return { kind: 'go-live' };
    case 'f': case 'F': return { kind: 'fullscreen' };
    case '1': case '2': case '4': case '8': return { kind: 'speed', speed: Number(key) };
    case '?': return { kind: 'help' };
    default: return null;
  }
}

/** Whether a key press lands in something the visitor types into. */
export function isTyping(target: { tagName?: string; isContentEditable?: boolean } | null): boolean {
  const tag = target?.tagName?.toLowerCase();
  return tag === 'input' || tag === 'textarea' || tag === 'select' || !!target?.isContentEditable;
}
