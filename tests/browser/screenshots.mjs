// Makes the README screenshots with the built hub: node tests/browser/screenshots.mjs
// (STREAMDOM_BIN picks the binary, default target/debug/streamdom). Writes docs/screenshot-*.png.

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addText, openVisitor, replayText, setup, waitFor } from './harness.mjs';

const docs = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs');
const env = await setup();
try {
  const { browser, hub, site } = env;
  const visitors = [];
  // One session that has already ended, then three live ones.
  for (const [path, notes] of [['/page2.html', ['Order #1041 confirmed']], ['/index.html', ['Viewed: trail runners']], ['/page2.html', ['Coupon SPRING applied']], ['/index.html', ['Viewed: rain jacket', 'Added: rain jacket']]]) {
    const v = await openVisitor(browser, site, path);
    for (const n of notes) await addText(v.page, n);
    visitors.push(v);
  }
  await visitors[0].page.close();
  await waitFor(async () => (await hub.json(`/api/sessions/${visitors[0].id}`)).active === false, { timeout: 15_000, message: 'the first session to end' });

  const last = visitors[visitors.length - 1];
  await last.page.locator('#search').pressSequentially('rain jacket');
  await last.page.click('#go');
  await last.page.mouse.move(420, 230);

  const list = await browser.newPage();
  await list.setViewportSize({ width: 1280, height: 420 });
  await list.goto(`${hub.url}/`);
  await waitFor(() => list.locator('[data-testid="live-badge"]').count().then((n) => n === 3), { message: 'three live sessions listed' });
  await waitFor(async () => !(await list.locator('.c-url').allInnerTexts()).includes('—'), { message: 'every row with its URL' });
  await list.screenshot({ path: `${docs}/screenshot-sessions.png` });

  const watch = await browser.newPage();
  await watch.setViewportSize({ width: 1280, height: 800 });
  await watch.goto(`${hub.url}/sessions/${last.id}`);
  await waitFor(async () => (await replayText(watch)).includes('Added: rain jacket'), { message: 'the live replay' });
  await last.page.mouse.move(520, 260, { steps: 5 });
  await addText(last.page, 'Checkout started');
  await waitFor(async () => (await replayText(watch)).includes('Checkout started'), { message: 'a live change' });
  // Let the clock estimates settle (the pages were busy loading) and the read-out refresh.
  await waitFor(() => watch.evaluate(() => window.__streamdom.timing.uncertainty < 10), { timeout: 20_000, message: "a tight clock estimate" }).catch(() => {});
  await addText(last.page, "Shipping: express");
  await waitFor(async () => (await replayText(watch)).includes("Shipping: express"), { message: "another live change" });
  await new Promise((r) => setTimeout(r, 300));
  console.log(`latency read-out: ${await watch.locator('[data-testid="latency"]').innerText()}`);
  await watch.screenshot({ path: `${docs}/screenshot-watch-live.png` });
  console.log(`wrote ${docs}/screenshot-sessions.png and ${docs}/screenshot-watch-live.png`);
} finally {
  await env.teardown();
}
