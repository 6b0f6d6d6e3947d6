// The watch page's state line (`player-state`: its message and way forward, status.ts decides
// which) and the delay read-out in the top bar: a number only while there is one to claim.

import { el } from '../common';
import { fmtDelay, fmtLatency, type LiveTiming } from './live';
import { viewState } from './machine';
import type { Player } from './player';
import { fmtSeconds, type Action, type Shown } from './status';
import type { Stream } from './stream';

const $ = <T extends HTMLElement>(testid: string) => document.querySelector(`[data-testid="${testid}"]`) as T;
const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export class StateView {
  private latencyEl = $<HTMLSpanElement>('latency');
  private stateEl = $<HTMLElement>('player-state');
  private stateMsg = byId<HTMLElement>('state-message');
  private stateAction = byId<HTMLElement>('state-action');
  private shownAction = '';

  /** The delay read-out: a number only while it is one (live and connected), the parts in its tooltip. */
  renderDelay(s: Shown, stream: Stream, player: Player, timing: LiveTiming, behind: number): void {
    const isLiveView = (s.state === 'live' || s.state === 'visitor-left') && viewState(player.state) === 'live';
    let text = '—';
    let tip = '';
    if (isLiveView) {
      text = fmtDelay(player.latency, timing.synced);
      tip = timing.synced ? fmtLatency(player.latency, true) : 'The visitor\'s and this page\'s clocks are not synchronized with the hub yet.';
    } else if (s.state === 'rewound') {
      text = `behind live by ${fmtSeconds(behind)}`;
      tip = 'You are watching an earlier moment: "Go live" returns to the visitor.';
    } else if (s.state === 'reconnecting' && stream.sessionLive) {
      text = 'reconnecting';
      tip = 'The hub is out of reach: no delay can be measured until it is back.';
    }
    if (this.latencyEl.textContent !== text) this.latencyEl.textContent = text;
    if (this.latencyEl.title !== tip) this.latencyEl.title = tip;
    this.latencyEl.dataset.state = isLiveView ? (player.latency && timing.synced ? 'measured' : 'pending') : 'off';
  }

  /** The state line: its message, and the way forward as a button or link (rebuilt only when it changes). */
  renderState(s: Shown, player: Player): void {
    if (this.stateEl.dataset.state !== s.state) this.stateEl.dataset.state = s.state;
    if (this.stateMsg.textContent !== s.message) this.stateMsg.textContent = s.message;
    const key = JSON.stringify(s.action);
    if (key === this.shownAction) return;
    this.shownAction = key;
    this.stateAction.replaceChildren(...(s.action ? [this.actionEl(s.action, player)] : []));
  }

  private actionEl(a: NonNullable<Action>, player: Player): HTMLElement {
    const button = (text: string, testid: string, run: () => void) => {
      const b = el('button', { type: 'button', 'data-testid': testid }, text);
      b.addEventListener('click', run);
      return b;
    };
    switch (a.kind) {
      case 'go-live': return button('Go live', 'state-go-live', () => void player.send({ type: 'go-live' }));
      case 'replay-start': return button('Replay from the start', 'state-replay', () => void player.send({ type: 'seek', ms: 0, play: true }));
      case 'retry': return button('Reload now', 'state-retry', () => location.reload());
      case 'sessions': return el('a', { href: '/', 'data-testid': 'state-sessions' }, 'All sessions');
    }
  }
}
