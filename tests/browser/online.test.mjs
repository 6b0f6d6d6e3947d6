// Recording on demand in a real browser: an admin puts the project in standby on /projects; a
// visitor's page then opens only its presence socket (no recorder socket, no session) and is
// listed on /online; the PM clicks Watch and sees the visitor's DOM change live, clicks Stop, and
// the recording replays like any stored session.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addText, replayText, setup, waitFor } from './harness.mjs';

let env;

before(async () => {
  env = await setup();
});

after(async () => {
  await env?.teardown();
});

test('a standby visitor is listed, watched live, stopped, and the recording replays', async () => {
  const { hub, site, browser } = env;
  const pm = await browser.newPage();

  // The project goes to standby from its card on /projects.
  await pm.goto(`${hub.url}/projects`);
  const card = pm.locator('[data-testid="project"][data-project="default"]');
  await card.locator('[data-testid="record-mode"]').selectOption('standby');
  await card.locator('[data-testid="record-mode-save"]').click();
  await waitFor(async () => (await hub.json('/api/projects')).projects[0].record_mode === 'standby', { message: 'standby stored' });

  const visitor = await browser.newPage();
  const sockets = [];
  visitor.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname));
  await visitor.goto(`${site.url}/index.html`);
  await waitFor(() => sockets.includes('/ws/presence'), { message: 'the presence socket' });

  // Listed on /online, reached from the sessions page's navigation.
  await pm.goto(`${hub.url}/`);
  await Promise.all([pm.waitForURL(`${hub.url}/online`), pm.click('[data-testid="nav-online"]')]);
  const row = pm.locator('[data-testid="online-visitor"]');
  await row.waitFor();
  assert.match(await row.innerText(), /\/index\.html/);
  assert.equal(await row.getAttribute('data-recording'), 'false');
  // Standby costs the page nothing but the presence socket: no recorder socket, no session.
  assert.deepEqual(sockets, ['/ws/presence']);
  assert.equal(await visitor.evaluate(() => window.__rec.sessionId), '');
  assert.equal((await hub.json('/api/sessions')).sessions.length, 0);

  // Watch: the PM lands on the session, live.
  await Promise.all([pm.waitForURL(/\/sessions\/od-/), row.locator('[data-testid="watch-visitor"]').click()]);
  const id = decodeURIComponent(new URL(pm.url()).pathname.split('/').pop());
  assert.equal(await visitor.evaluate(() => window.__rec.sessionId), id);
  await waitFor(async () => (await replayText(pm)).includes('Test shop'), { message: 'the snapshot replayed' });
  await addText(visitor, 'changed while watched');
  await waitFor(async () => (await replayText(pm)).includes('changed while watched'), { message: 'the change live' });

  // Stop, from the online list.
  await pm.goto(`${hub.url}/online`);
  const stop = pm.locator('[data-testid="online-visitor"] [data-testid="stop-visitor"]');
  await stop.click();
  await waitFor(async () => (await pm.locator('[data-testid="online-visitor"]').getAttribute('data-recording')) === 'false', { message: 'the row no longer recording' });
  assert.equal(await pm.locator('[data-testid="stop-visitor"]').count(), 0);
  await waitFor(async () => (await hub.json(`/api/sessions/${id}`)).active === false, { message: 'the session ended' });
  await waitFor(() => visitor.evaluate(() => window.__rec.sessionId === ''), { message: 'the page back in standby' });

  // Stored like any session: it replays, the change included.
  await pm.goto(`${hub.url}/sessions/${id}?project=default`);
  await waitFor(async () => (await replayText(pm)).includes('changed while watched'), { message: 'the replay' });
  // (favicon 404s aside) nothing threw in the visitor's page or the dashboard.
  assert.deepEqual(env.browser.errors.filter((e) => !e.includes('Failed to load resource')), []);
});
