// The watch page's keyboard (keys.ts says what each key does), the help overlay listing the keys,
// and fullscreen for the replay.

import { el } from '../common';
import { SHORTCUTS, isTyping, keyAction, type KeyAction } from './keys';
import { viewState } from './machine';
import type { Player } from './player';
import type { Stream } from './stream';

export function bindShortcuts(stream: Stream, player: Player, setSpeed: (speed: number) => void): void {
  const help = document.querySelector('[data-testid="help-overlay"]') as HTMLElement;
  const list = help.querySelector('dl') as HTMLElement;
  list.replaceChildren(...SHORTCUTS.flatMap(([k, what]) => [el('dt', {}, k), el('dd', {}, what)]));
  const toggleHelp = (open = help.hidden) => { help.hidden = !open; };
  document.querySelector('[data-testid="help-toggle"]')?.addEventListener('click', () => toggleHelp());
  help.addEventListener('click', (ev) => { if (ev.target === help) toggleHelp(false); });
  document.querySelector('[data-testid="fullscreen"]')?.addEventListener('click', () => void fullscreen());

  document.addEventListener('keydown', (ev) => {
    const target = ev.target as HTMLElement | null;
    const a = keyAction(ev.key, { typing: isTyping(target), mods: ev.ctrlKey || ev.metaKey || ev.altKey });
    if (!a) return;
    // Space on a focused button would also click it: the shortcut is the one thing it does.
    ev.preventDefault();
    run(a);
  });

  function run(a: KeyAction): void {
    const state = viewState(player.state);
    switch (a.kind) {
      case 'toggle-play':
        void player.send({ type: state === 'paused' ? 'play' : 'pause' });
        break;
      case 'seek-by': {
        const end = stream.lastTs() - stream.sessionStart();
        const ms = player.currentTimeMs() + a.ms;
        // Forward past the newest event of a live session is live.
        if (a.ms > 0 && ms >= end && stream.sessionLive) void player.send({ type: 'go-live' });
        else void player.send({ type: 'seek', ms: Math.min(Math.max(0, ms), end), play: state !== 'paused' });
        break;
      }
      case 'go-live':
        void player.send({ type: 'go-live' });
        break;
      case 'fullscreen':
        void fullscreen();
        break;
      case 'speed':
        setSpeed(a.speed);
        break;
      case 'help':
        toggleHelp();
        break;
      case 'close':
        toggleHelp(false);
        break;
    }
  }
}

/** The replay and its URL bar fill the screen (the player refits itself: view.ts observes its size). */
async function fullscreen(): Promise<void> {
  try {
    if (document.fullscreenElement) await document.exitFullscreen();
    else await document.querySelector<HTMLElement>('.stage')?.requestFullscreen();
  } catch {
    // Refused (no user gesture, or not allowed in a frame): nothing else to do.
  }
}
