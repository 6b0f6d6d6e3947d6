// The filter form (static/index.html, `#filters`) read into a view and filled from one. Each control
// is named after its API parameter; durations are typed in seconds, times in local time.

import { DEVICES, isoToLocal, localToIso, MS_KEYS, parseView, SORTS, TEXT_KEYS, TIME_KEYS } from './query';
import type { View } from './query';

type Control = HTMLInputElement | HTMLSelectElement;
const control = (form: HTMLFormElement, name: string) => form.elements.namedItem(name) as Control | null;

/** The view the form shows, at the top of the list (a changed filter starts from the first page). */
export function readForm(form: HTMLFormElement): View {
  const p = new URLSearchParams();
  for (const k of TEXT_KEYS) {
    const c = control(form, k);
    if (c?.value.trim()) p.set(k, c.value.trim());
  }
  for (const k of TIME_KEYS) {
    const iso = localToIso(control(form, k)?.value ?? '');
    if (iso) p.set(k, iso);
  }
  for (const k of MS_KEYS) {
    const raw = control(form, k)?.value.trim();
    const secs = raw ? Number(raw) : NaN;
    if (Number.isFinite(secs) && secs >= 0) p.set(k, String(Math.round(secs * 1000)));
  }
  if ((control(form, 'has_errors') as HTMLInputElement | null)?.checked) p.set('has_errors', 'true');
  for (const k of ['status', 'sort', 'order']) {
    const v = control(form, k)?.value;
    if (v) p.set(k, v);
  }
  // Through the URL parser, so the form can never produce a view a URL could not hold.
  return parseView(p.toString());
}

export function fillForm(form: HTMLFormElement, v: View): void {
  const set = (name: string, value: string) => { const c = control(form, name); if (c) c.value = value; };
  for (const k of TEXT_KEYS) set(k, v.filters[k] ?? '');
  for (const k of TIME_KEYS) set(k, isoToLocal(v.filters[k]));
  for (const k of MS_KEYS) set(k, v.filters[k] === undefined ? '' : String(v.filters[k]! / 1000));
  const errors = control(form, 'has_errors') as HTMLInputElement | null;
  if (errors) errors.checked = !!v.filters.has_errors;
  set('status', v.filters.status ?? '');
  set('sort', v.sort);
  set('order', v.order);
}

/** Fills the selects' options (sort keys, devices) from the one list query.ts validates against. */
export function initForm(form: HTMLFormElement): void {
  const fill = (name: string, values: readonly string[], labels: Record<string, string> = {}) => {
    const select = control(form, name);
    if (!(select instanceof HTMLSelectElement)) return;
    for (const v of values) select.append(new Option(labels[v] ?? v, v));
  };
  fill('device', DEVICES);
  fill('sort', SORTS, { started: 'Start time', duration: 'Duration', active: 'Active time', errors: 'Errors' });
}
