// Projects page, for admins: create and remove projects, show each one's ingest key and the
// snippet to paste, allow origins, grant and revoke members, set retention. Everything shown
// comes from the database and may have been typed by anyone: it is set as text, never as HTML.

import { initAccount } from './account';
import * as api from './admin/api';
import { button, confirmed, inline } from './admin/controls';
import { parseDays, parseOrigins, snippet } from './admin/snippet';
import { el } from './common';

const list = document.getElementById('projects') as HTMLDivElement;
const form = document.getElementById('create') as HTMLFormElement;
const errorEl = document.getElementById('admin-error') as HTMLParagraphElement;
let users: api.User[] = [];

function showError(e: unknown): void {
  errorEl.textContent = e instanceof Error ? e.message : String(e);
  errorEl.hidden = false;
}

/** Runs a change, then redraws from the hub's answer (or shows why it failed). */
async function act(change: () => Promise<unknown>): Promise<void> {
  errorEl.hidden = true;
  try {
    await change();
  } catch (e) {
    showError(e);
  }
  await refresh();
}

function card(p: api.Project): HTMLElement {
  const box = el('section', { class: 'panel project', 'data-testid': 'project', 'data-project': p.name });
  const head = el('div', { class: 'project-head' });
  head.append(el('h2', {}, p.name), confirmed('Remove project', 'project-remove', 'Remove the project and all its sessions?', () => void act(() => api.removeProject(p.name))));
  box.append(head);

  const key = p.key ?? '';
  box.append(el('div', { class: 'field' }, 'Ingest key'), el('code', { 'data-testid': 'project-key' }, key || '(set at the next start)'));
  if (key) box.append(el('div', { class: 'field' }, 'Snippet'), el('pre', { class: 'snippet', 'data-testid': 'project-snippet' }, snippet(location.origin, key)));

  box.append(el('div', { class: 'field' }, 'Allowed origins'));
  const origins = el('ul', { class: 'chips', 'data-testid': 'project-origin-list' });
  if (!p.allowed_origins.length) origins.append(el('li', { class: 'muted' }, 'any origin'));
  for (const o of p.allowed_origins) {
    const li = el('li', { 'data-testid': 'project-origin' }, o);
    li.append(button('×', 'origin-remove', () => void act(() => api.disallowOrigin(p.name, o)), 'chip-x'));
    origins.append(li);
  }
  const originInput = el('input', { 'data-testid': 'origin-input', placeholder: 'https://shop.example', 'aria-label': 'Origin to allow' });
  const addOrigin = button('Allow origin', 'origin-add', () => {
    const wanted = parseOrigins(originInput.value);
    void act(async () => { for (const o of wanted) await api.allowOrigin(p.name, o); });
  });
  box.append(origins, inline(originInput, addOrigin));

  box.append(el('div', { class: 'field' }, 'Members'));
  const members = el('ul', { class: 'chips', 'data-testid': 'project-member-list' });
  if (!p.members?.length) members.append(el('li', { class: 'muted' }, 'admins only'));
  for (const m of p.members ?? []) {
    const li = el('li', { 'data-testid': 'project-member' }, m);
    li.append(button('×', 'member-revoke', () => void act(() => api.revoke(p.name, m)), 'chip-x'));
    members.append(li);
  }
  const select = el('select', { 'data-testid': 'member-select', 'aria-label': 'Member to grant' });
  for (const u of users) {
    if (u.role === 'admin' || p.members?.includes(u.username)) continue;
    select.append(el('option', { value: u.username }, u.username));
  }
  const grant = button('Grant', 'member-grant', () => { if (select.value) void act(() => api.grant(p.name, select.value)); });
  grant.disabled = !select.options.length;
  box.append(members, inline(select, grant));

  box.append(el('div', { class: 'field' }, 'Keep sessions (days after their last event)'));
  const days = el('input', { type: 'number', min: '1', max: '36500', value: String(p.retention_days), 'data-testid': 'retention-input', 'aria-label': 'Retention in days' });
  const save = button('Save', 'retention-save', () => {
    const n = parseDays(days.value);
    if (n === null) return showError('Retention is a whole number of days from 1 to 36500.');
    void act(() => api.setRetention(p.name, n));
  });
  box.append(inline(days, save));

  // record_mode: `all` as before, a sample of visitors or pages, or standby (Watch on /online).
  box.append(el('div', { class: 'field' }, 'Record'));
  const mode = el('select', { 'data-testid': 'record-mode', 'aria-label': 'What to record' });
  for (const [value, text] of [['all', 'every visitor'], ['sample', 'a sample'], ['standby', 'nobody until Watch (standby)']]) {
    const o = el('option', { value }, text);
    o.selected = p.record_mode === value;
    mode.append(o);
  }
  const percent = el('input', { type: 'number', min: '0', max: '100', value: String(p.sample_percent), 'data-testid': 'sample-percent', 'aria-label': 'Percent of visitors recorded' });
  const urls = el('input', { value: p.sample_urls.join(' '), placeholder: '/checkout/* /cart', 'data-testid': 'sample-urls', 'aria-label': 'Pages always recorded' });
  const showSample = () => { percent.hidden = urls.hidden = mode.value !== 'sample'; };
  mode.addEventListener('change', showSample);
  showSample();
  const saveMode = button('Save', 'record-mode-save', () => {
    const n = Number(percent.value);
    if (!Number.isInteger(n) || n < 0 || n > 100) return showError('The sample is a whole percent from 0 to 100.');
    void act(() => api.setRecordMode(p.name, mode.value as api.RecordMode, n, urls.value.split(/\s+/).filter(Boolean)));
  });
  box.append(inline(mode, percent, urls, saveMode));
  return box;
}

async function refresh(): Promise<void> {
  const [all, known] = await Promise.all([api.projects(), api.users()]);
  users = known;
  list.replaceChildren(...all.map(card));
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const data = new FormData(form);
  const days = parseDays(String(data.get('retention') ?? ''));
  if (days === null) return showError('Retention is a whole number of days from 1 to 36500.');
  const name = String(data.get('name') ?? '').trim();
  void act(async () => {
    await api.createProject(name, days, parseOrigins(String(data.get('origins') ?? '')));
    form.reset();
  });
});

async function start(): Promise<void> {
  initAccount();
  const who = await api.me();
  if (who.role !== 'admin') {
    showError('Only admins manage projects.');
    return;
  }
  form.hidden = false;
  await refresh();
}

start().catch(showError);
