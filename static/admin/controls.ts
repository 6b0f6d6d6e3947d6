// Controls the admin screens share: buttons with a test id, rows of them, and a two-step
// "are you sure" for what cannot be undone.

import { el } from '../common';

export function button(text: string, testid: string, onClick: () => void, cls = ''): HTMLButtonElement {
  const b = el('button', { type: 'button', 'data-testid': testid, class: cls }, text);
  b.addEventListener('click', onClick);
  return b;
}

export function inline(...children: HTMLElement[]): HTMLDivElement {
  const row = el('div', { class: 'inline' });
  row.append(...children);
  return row;
}

/** A button that asks again before doing something that cannot be undone. */
export function confirmed(text: string, testid: string, question: string, onConfirm: () => void): HTMLElement {
  const wrap = el('span', { class: 'confirm' });
  const ask = button(text, testid, () => {
    ask.hidden = true;
    prompt.hidden = false;
  }, 'danger');
  const prompt = el('span', { class: 'confirm-prompt' });
  prompt.hidden = true;
  prompt.append(
    el('span', {}, question),
    button('Yes, delete', `${testid}-confirm`, onConfirm, 'danger'),
    button('Cancel', `${testid}-cancel`, () => { prompt.hidden = true; ask.hidden = false; }),
  );
  wrap.append(ask, prompt);
  return wrap;
}
