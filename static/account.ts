// The signed-in user's side of every dashboard page: the CSRF token that state-changing requests
// carry, the sign-out button, and the way back to the login when the sign-in has ended.

const CSRF_COOKIE = 'streamdom_csrf';

/** The token the hub set at sign-in, echoed in `X-CSRF-Token` (the hub compares it with its own). */
export function csrfToken(): string {
  for (const part of document.cookie.split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === CSRF_COOKIE) return decodeURIComponent(v ?? '');
  }
  return '';
}

/** A state-changing request to the hub, with the CSRF token. */
export function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { 'X-CSRF-Token': csrfToken() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Back to the login, returning here afterwards. */
export function toLogin(): void {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

/** Wires the page's sign-out button. */
export function initAccount(): void {
  const button = document.querySelector<HTMLButtonElement>('[data-testid="sign-out"]');
  button?.addEventListener('click', async () => {
    button.disabled = true;
    await send('POST', '/logout').catch(() => undefined);
    location.assign('/login');
  });
}
