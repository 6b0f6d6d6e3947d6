// Login page: carries `next` into the form and says why the previous attempt failed.

const MESSAGES: Record<string, string> = {
  invalid_credentials: 'Wrong user name or password.',
  rate_limited: 'Too many failed attempts. Wait a few minutes and try again.',
  origin_not_allowed: 'This form was sent from another site.',
};

const query = new URLSearchParams(location.search);
const next = query.get('next');
const nextInput = document.getElementById('next') as HTMLInputElement | null;
if (next && nextInput) nextInput.value = next;
const error = query.get('error');
const box = document.getElementById('login-error');
if (error && box) {
  box.textContent = MESSAGES[error] ?? 'Sign-in failed.';
  box.hidden = false;
}
