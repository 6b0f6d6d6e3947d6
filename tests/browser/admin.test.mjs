// The admin screens: a project created in the dashboard shows its key and snippet; a session's
// access log on the watch page; deleting a session (refused while it records, then confirmed and
// gone); members see none of these controls.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addUser, launchBrowser, openVisitor, setup, signIn, waitFor } from './harness.mjs';

let env;
let page;
let visitor;
let id;

before(async () => {
  env = await setup();
  page = await env.browser.newPage();
});

after(async () => {
  await env?.teardown();
});

const api = async (path) => {
  const res = await fetch(`${env.hub.url}${path}`, { headers: { cookie: await env.hub.cookie() } });
  return { status: res.status, body: res.status === 200 ? await res.json() : null };
};

test('an admin creates a project in the dashboard and sees its key and snippet', async () => {
  await page.goto(`${env.hub.url}/`);
  const nav = page.locator('[data-testid="nav-projects"]');
  await nav.waitFor({ state: 'visible' });
  await Promise.all([page.waitForURL(`${env.hub.url}/projects`), nav.click()]);
  await page.fill('[data-testid="project-name"]', 'shop');
  await page.fill('[data-testid="project-origins"]', 'https://shop.example');
  await page.fill('[data-testid="project-retention"]', '7');
  await page.click('[data-testid="project-create"]');
  const card = page.locator('[data-testid="project"][data-project="shop"]');
  await card.waitFor();
  const key = await card.locator('[data-testid="project-key"]').innerText();
  assert.match(key, /^pk_[A-Za-z0-9]{32}$/);
  const snippet = await card.locator('[data-testid="project-snippet"]').innerText();
  assert.ok(snippet.includes(`<script src="${env.hub.url}/streamdom.js?key=${key}"></script>`), snippet);
  assert.equal(await card.locator('[data-testid="project-origin"]').innerText().then((t) => t.replace('×', '').trim()), 'https://shop.example');

  // Retention and origins change from the same card.
  const shop = async () => (await api('/api/projects')).body.projects.find((p) => p.name === 'shop');
  await card.locator('[data-testid="retention-input"]').fill('3');
  await card.locator('[data-testid="retention-save"]').click();
  await waitFor(async () => (await shop()).retention_days === 3, { message: 'the retention stored' });
  // Each change redraws the card from the hub's answer: type the origin once that redraw is done
  // (typed into a card being replaced, it would be lost), hence the retry.
  await waitFor(async () => {
    if ((await shop()).allowed_origins.length === 2) return true;
    await card.locator('[data-testid="origin-input"]').fill('http://localhost:3000');
    await card.locator('[data-testid="origin-add"]').click();
    return false;
  }, { interval: 500, message: 'the new origin stored' });
  assert.equal(await page.locator('[data-testid="admin-error"]').isHidden(), true);
});

test('an admin grants a member a project from the dashboard', async () => {
  await addUser(env.hub, 'mia', 'mia-password');
  await page.reload();
  const card = page.locator('[data-testid="project"][data-project="default"]');
  await card.locator('[data-testid="member-select"]').selectOption('mia');
  await card.locator('[data-testid="member-grant"]').click();
  await card.locator('[data-testid="project-member"]').filter({ hasText: 'mia' }).waitFor();
});

test('the watch page shows the access log, and refuses to delete a session that records', async () => {
  ({ page: visitor, id } = await openVisitor(env.browser, env.site));
  await waitFor(async () => (await api(`/api/sessions/${id}`)).status === 200, { message: 'the session stored' });
  await page.goto(`${env.hub.url}/sessions/${id}`);
  await page.locator('[data-testid="session-admin"]').waitFor({ state: 'visible' });
  await page.click('[data-testid="access-refresh"]');
  await waitFor(async () => (await page.locator('[data-testid="access-entry"]').allInnerTexts()).some((t) => /admin\s+live/.test(t)), { message: 'the admin\'s own live watch in the access log' });

  await page.click('[data-testid="delete-session"]');
  await page.click('[data-testid="delete-session-confirm"]');
  const error = page.locator('[data-testid="admin-error"]');
  await error.waitFor({ state: 'visible' });
  assert.match(await error.innerText(), /recording now/);
  assert.equal((await api(`/api/sessions/${id}`)).status, 200, 'still there');
});

test('an admin deletes an ended session: confirm, back to the list, gone', async () => {
  await visitor.close();
  await waitFor(async () => (await api(`/api/sessions/${id}`)).body?.active === false, { timeout: 15_000, message: 'the session to end' });
  await page.goto(`${env.hub.url}/sessions/${id}`);
  await page.locator('[data-testid="delete-session"]').click();
  await page.locator('[data-testid="delete-session-cancel"]').click();
  assert.equal((await api(`/api/sessions/${id}`)).status, 200, 'cancel deletes nothing');
  await page.locator('[data-testid="delete-session"]').click();
  await Promise.all([page.waitForURL(`${env.hub.url}/`), page.locator('[data-testid="delete-session-confirm"]').click()]);
  assert.equal((await api(`/api/sessions/${id}`)).status, 404);
  await page.locator('#count').filter({ hasText: '0 sessions' }).waitFor();
});

test('a member sees none of the admin controls', async () => {
  const member = await launchBrowser();
  try {
    await signIn(member, env.hub, { username: 'mia', password: 'mia-password' });
    const p = await member.newPage();
    await p.goto(`${env.hub.url}/`);
    await p.locator('#count').waitFor();
    await waitFor(async () => (await p.evaluate(() => document.readyState)) === 'complete');
    assert.equal(await p.locator('[data-testid="nav-projects"]').isHidden(), true);
    await p.goto(`${env.hub.url}/projects`);
    await p.locator('[data-testid="admin-error"]').filter({ hasText: 'Only admins' }).waitFor();
    assert.equal(await p.locator('[data-testid="project-create-form"]').isHidden(), true);
    assert.equal(await p.locator('[data-testid="project"]').count(), 0);
    await p.goto(`${env.hub.url}/sessions/anything?project=default`);
    await p.locator('[data-testid="player"]').waitFor();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await p.locator('[data-testid="session-admin"]').isHidden(), true);
    assert.equal(await p.locator('[data-testid="delete-session"]').count(), 0);
  } finally {
    await member.close();
  }
});

test('no page errors', () => {
  // The refused deletion's 409 is logged by the browser as a failed resource load.
  const errors = env.browser.errors.filter((e) => !/favicon|status of 404|status of 409/.test(e));
  assert.deepEqual(errors, []);
});
