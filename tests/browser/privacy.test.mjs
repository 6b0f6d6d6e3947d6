// What the recorder keeps out of the recording: a visitor fills a page with private fields and
// marked areas, and the events the hub stored (read back through the API) hold none of it, while
// the replay still shows that a choice was made in the masked select.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addText, openVisitor, setup, waitFor } from './harness.mjs';

let env;

before(async () => {
  env = await setup();
});

after(async () => {
  await env?.teardown();
});

/** The stored events of a session as the API returns them, raw JSON text. */
async function storedJson(id) {
  const res = await fetch(`${env.hub.url}/api/sessions/${encodeURIComponent(id)}/events`, { headers: { cookie: await env.hub.cookie() } });
  assert.equal(res.status, 200);
  return res.text();
}

/** Adds a marker to the page and waits until the hub has stored it: everything before it is stored too. */
async function storedAfter(page, id, marker) {
  await addText(page, marker);
  return waitFor(async () => {
    const json = await storedJson(id);
    return json.includes(marker) ? json : null;
  }, { message: `"${marker}" stored` });
}

const absent = (json, secrets) => {
  const found = secrets.filter((s) => json.toLowerCase().includes(s.toLowerCase()));
  assert.deepEqual(found, [], `private strings in the stored events: ${found.join(', ')}`);
};

test('private fields and marked areas never reach the hub, and the replay shows a masked choice', async () => {
  const { page: visitor, id } = await openVisitor(env.browser, env.site, '/private.html');
  await visitor.locator('#pw').fill('');
  await visitor.locator('#pw').pressSequentially('typedpw-secret');
  await visitor.locator('#name').pressSequentially('typedname-secret');
  await visitor.locator('#prefilled').fill('');
  await visitor.locator('#nick').pressSequentially('nick-visible-ok');
  await visitor.locator('#notes').click();
  await visitor.keyboard.press('End');
  await visitor.keyboard.type(' typednote-secret');
  await visitor.selectOption('#diagnosis', 'diag-secret-beta');
  // Scripts of the page change private things too: attributes, text and options added later.
  await visitor.evaluate(() => {
    // Moved after being cleared: rrweb records it anew, from its server-filled value attribute.
    document.getElementById('log').append(document.getElementById('prefilled').closest('label'));
    document.getElementById('token').setAttribute('value', 'hidden-token-secret-2');
    document.getElementById('token').value = 'hidden-token-secret-3';
    document.getElementById('masked-class').textContent = 'Maskclass-secret-later';
    document.getElementById('blocked-attr').textContent = 'Blockattr-secret-later';
    const o = new Option('Optdelta-secret illness', 'diag-secret-delta');
    document.getElementById('diagnosis').append(o);
    o.setAttribute('label', 'Optdelta-secret label');
    const p = document.createElement('p');
    p.setAttribute('contenteditable', 'true');
    p.textContent = 'Editable-secret-added';
    document.getElementById('log').append(p);
  });
  const json = await storedAfter(visitor, id, 'page-1-done');

  absent(json, [
    'pw-attr-secret', 'typedpw', 'typedname', 'prefill-secret', 'hidden-token-secret', 'Editable-secret', 'typednote',
    'diag-secret', 'Optalpha', 'Optbeta', 'Optgamma', 'Optdelta', 'Blockclass-secret', 'Blockattr-secret',
    'Maskclass-secret', 'Maskattr-secret', 'Rrblock-secret', 'Rrmask-secret',
  ]);
  // What is not private is still recorded, so the check above looks at a real recording.
  for (const kept of ['Public-text-kept', 'nick-visible-ok', '"id":"token"', '"id":"diagnosis"', 'box streamdom-block']) {
    assert.ok(json.includes(kept), `${kept} must be recorded`);
  }

  const watch = await env.browser.newPage();
  await watch.goto(`${env.hub.url}/sessions/${id}`);
  const replayed = () => watch.evaluate(() => {
    const doc = document.querySelector('[data-testid="player"] iframe')?.contentDocument;
    const sel = doc?.getElementById('diagnosis');
    if (!sel || !doc.body.innerText.includes('page-1-done')) return null;
    // A blocked element keeps its tag and classes only.
    const blockedEl = doc.querySelector('.streamdom-block');
    const blocked = blockedEl.getBoundingClientRect();
    return {
      shown: sel.selectedIndex >= 0 ? sel.options[sel.selectedIndex].text : null,
      options: [...sel.options].map((o) => o.text),
      blocked: { w: Math.round(blocked.width), h: Math.round(blocked.height), text: blockedEl.textContent },
    };
  });
  const r = await waitFor(replayed, { message: 'the replay of the private page' });
  assert.equal(r.shown, '•••', 'the masked select shows that a choice was made');
  assert.deepEqual(r.options, ['•••', '•••', '•••', '•••', '•••']);
  const original = await visitor.evaluate(() => {
    const b = document.getElementById('blocked-class').getBoundingClientRect();
    return { w: Math.round(b.width), h: Math.round(b.height), text: '' };
  });
  assert.deepEqual(r.blocked, original, 'a blocked area replays as an empty box of the same size');
  await watch.close();
  await visitor.close();
});

for (const [how, path] of [['a data-mask-all-text attribute', '/private-all.html'], ['?maskAllText=1', '/private-query.html']]) {
  test(`maskAllText by ${how} on the script tag masks every text of the page`, async () => {
    const { page: visitor, id } = await openVisitor(env.browser, env.site, path);
    await visitor.evaluate(() => { document.getElementById('plain').textContent = 'Plain-secret-changed'; });
    // Every text is masked, the marker too: wait for its masked form.
    await addText(visitor, 'zz');
    const json = await waitFor(async () => {
      const j = await storedJson(id);
      return /"textContent":"\*\*"/.test(j) ? j : null;
    }, { message: 'the masked marker stored' });
    absent(json, ['Statement-secret', 'Plain-secret', 'Test shop']);
    assert.ok(json.includes('"id":"plain"'), 'the page structure is recorded');
    await visitor.close();
  });
}
