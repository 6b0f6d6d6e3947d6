// The watch page's admin part: who watched this session (live, replay or through the API) and
// when, and deleting the session (asked twice, then back to the list). Members never see it.
// Usernames come from the database: shown as text only.

import * as api from '../admin/api';
import { confirmed } from '../admin/controls';
import { el, fmtTime } from '../common';

export async function initSessionAdmin(sessionId: string, project: string | null): Promise<void> {
  const who = await api.me();
  if (who.role !== 'admin') return;
  const panel = document.getElementById('session-admin') as HTMLElement;
  const rows = document.getElementById('access-rows') as HTMLTableSectionElement;
  const empty = document.getElementById('access-empty') as HTMLElement;
  const errorEl = document.getElementById('admin-error') as HTMLElement;
  const showError = (e: unknown) => {
    errorEl.textContent = e instanceof Error ? e.message : String(e);
    errorEl.hidden = false;
  };

  const load = async () => {
    const log = await api.accessLog(sessionId, project);
    rows.replaceChildren(...log.map((a) => {
      const tr = el('tr', { 'data-testid': 'access-entry' });
      tr.append(el('td', {}, a.username), el('td', {}, a.kind), el('td', { title: a.at }, fmtTime(a.at)));
      return tr;
    }));
    empty.hidden = log.length > 0;
  };

  const refresh = document.querySelector<HTMLButtonElement>('[data-testid="access-refresh"]');
  refresh?.addEventListener('click', () => void load().catch(showError));
  document.getElementById('delete-slot')?.append(
    confirmed('Delete session', 'delete-session', 'Delete this session and all its events?', () => {
      errorEl.hidden = true;
      api.deleteSession(sessionId, project).then(() => location.assign('/'), showError);
    }),
  );
  panel.hidden = false;
  await load();
}
