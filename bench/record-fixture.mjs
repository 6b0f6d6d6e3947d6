// Records the rrweb event streams `streamdom bench` replays: two local pages (a checkout form
// and a long product listing) served by a real HTTP server on 127.0.0.1, driven by Chromium
// through playwright-core with scripted typing, clicks, scrolls, mouse moves and DOM changes.
//
//   node bench/record-fixture.mjs            # writes bench/fixtures/{form,content}.json.zst
//   node bench/record-fixture.mjs --plain    # keeps plain .json (no zstd CLI needed)
//
// Chromium must already be installed (/usr/bin/chromium, or CHROMIUM=/path); nothing here
// downloads a browser. rrweb is configured as the StreamDOM recorder configures it
// (recorder-js/src/index.ts): same sampling, masking and block selectors.

import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'bench', 'fixtures');
const plain = process.argv.includes('--plain');
const rrwebRecord = readFileSync(join(root, 'node_modules/@rrweb/record/dist/record.umd.min.cjs'), 'utf8');

// The options StreamDOM.init() passes to rrweb's record() by default.
const RECORD_OPTIONS = {
  maskAllInputs: true,
  maskInputOptions: { password: true },
  maskTextSelector: '[data-streamdom-mask]',
  blockSelector: '[data-streamdom-block]',
  sampling: { mousemove: 20, mousemoveCallback: 0, scroll: 33 },
  checkoutEveryNms: 10 * 60 * 1000,
};

// ---------------------------------------------------------------- deterministic page content

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const WORDS = ('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut ' +
  'labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ' +
  'ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat nulla pariatur ' +
  'excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est laborum').split(' ');
const words = (n) => Array.from({ length: n }, () => pick(WORDS)).join(' ');
const title = (n) => words(n).replace(/\b\w/g, (c) => c.toUpperCase());

const CSS = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#222;background:#fafafa}
header{position:sticky;top:0;background:#1d3557;color:#fff;display:flex;gap:1rem;align-items:center;padding:.6rem 1.2rem;z-index:5}
header nav a{color:#f1faee;text-decoration:none;margin-right:.8rem}header .cart{margin-left:auto;background:#e63946;border-radius:1rem;padding:.1rem .7rem}
main{max-width:1100px;margin:0 auto;padding:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:1rem}
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:.8rem;transition:box-shadow .2s}
.card:hover{box-shadow:0 2px 12px rgba(0,0,0,.15)}.card h3{font-size:1rem;margin:.4rem 0}
.card .price{font-weight:700;color:#e63946}.card button{width:100%;margin-top:.5rem}
.badge{display:inline-block;font-size:.75rem;background:#a8dadc;border-radius:4px;padding:0 .4rem}
.carousel{position:relative;height:180px;overflow:hidden;border-radius:8px;margin-bottom:1rem}
.slide{position:absolute;inset:0;display:flex;align-items:center;justify-content:center;font-size:2rem;color:#fff;opacity:0;transition:opacity .5s}
.slide.active{opacity:1}.tooltip{position:absolute;background:#333;color:#fff;padding:.2rem .5rem;border-radius:4px;font-size:.8rem}
form{background:#fff;border:1px solid #ddd;border-radius:8px;padding:1.2rem;max-width:640px}
label{display:block;margin:.6rem 0 .2rem;font-weight:600}input,select,textarea{width:100%;padding:.45rem;border:1px solid #bbb;border-radius:4px;font:inherit}
.row{display:flex;gap:1rem}.row>div{flex:1}.error{color:#c00;font-size:.85rem}.summary li{display:flex;justify-content:space-between}
.modal{position:fixed;inset:0;background:rgba(0,0,0,.4);display:flex;align-items:center;justify-content:center}
.modal>div{background:#fff;padding:2rem;border-radius:8px}footer{padding:2rem;color:#666;text-align:center}
`;

function shell(titleText, body, script) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${titleText}</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="stylesheet" href="/site.css"></head>
<body><header><strong>Shoply</strong><nav>${['Home', 'Deals', 'Women', 'Men', 'Kids', 'Home & Garden', 'Help']
    .map((n) => `<a href="#">${n}</a>`).join('')}</nav><span class="cart" id="cart">0</span></header>
<main>${body}</main><footer>${words(40)}</footer><script>${script}</script></body></html>`;
}

function productCard(i) {
  const hue = Math.floor(rand() * 360);
  return `<article class="card" data-id="${i}"><svg width="100%" height="120" viewBox="0 0 240 120" aria-hidden="true">
<rect width="240" height="120" fill="hsl(${hue},55%,75%)"/><circle cx="${40 + Math.floor(rand() * 160)}" cy="60" r="${20 + Math.floor(rand() * 30)}" fill="hsl(${(hue + 40) % 360},60%,50%)"/></svg>
<span class="badge">${pick(['new', 'sale', 'eco', 'bestseller', 'limited'])}</span><h3>${title(3 + Math.floor(rand() * 4))}</h3>
<p>${words(18 + Math.floor(rand() * 20))}</p><div class="price">€${(5 + rand() * 200).toFixed(2)}</div>
<div><span>${'★'.repeat(1 + Math.floor(rand() * 5))}</span> <small>${Math.floor(rand() * 900)} reviews</small></div>
<button type="button" class="add">Add to cart</button></article>`;
}

function contentPage() {
  const cards = Array.from({ length: 120 }, (_, i) => productCard(i)).join('');
  const slides = ['#457b9d', '#e63946', '#2a9d8f', '#f4a261'].map((c, i) =>
    `<div class="slide${i === 0 ? ' active' : ''}" style="background:${c}">${title(3)}</div>`).join('');
  const more = JSON.stringify(Array.from({ length: 60 }, (_, i) => productCard(120 + i)));
  const script = `
const more = ${more};
let slide = 0; const slides = document.querySelectorAll('.slide');
setInterval(() => { slides[slide].classList.remove('active'); slide = (slide + 1) % slides.length; slides[slide].classList.add('active'); }, 1500);
let cart = 0;
document.addEventListener('click', (e) => {
  const b = e.target.closest('.add'); if (!b) return;
  cart++; document.getElementById('cart').textContent = cart; b.textContent = 'Added ✓'; b.disabled = true;
  setTimeout(() => { b.textContent = 'Add to cart'; b.disabled = false; }, 1200);
});
let tip; document.addEventListener('mouseover', (e) => {
  const c = e.target.closest('.card'); if (!c) return;
  tip?.remove(); tip = document.createElement('div'); tip.className = 'tooltip';
  tip.textContent = 'Free delivery on item ' + c.dataset.id; tip.style.left = (c.offsetLeft + 10) + 'px'; tip.style.top = (c.offsetTop - 10) + 'px';
  document.querySelector('main').appendChild(tip);
});
const grid = document.querySelector('.grid');
addEventListener('scroll', () => {
  if (more.length && innerHeight + scrollY > document.body.scrollHeight - 600) {
    grid.insertAdjacentHTML('beforeend', more.splice(0, 12).join(''));
  }
});
setInterval(() => { document.getElementById('clock').textContent = new Date().toLocaleTimeString('en-GB'); }, 1000);
`;
  const body = `<div class="carousel">${slides}</div><h1>${title(4)}</h1><p id="clock"></p>
<p>${words(60)}</p><section class="grid">${cards}</section><h2>${title(3)}</h2><p>${words(120)}</p>`;
  return shell('Shoply – deals', body, script);
}

function formPage() {
  const countries = ['France', 'Germany', 'Italy', 'Spain', 'Portugal', 'Netherlands', 'Belgium', 'Austria', 'Poland', 'Sweden'];
  const items = Array.from({ length: 4 }, () => `<li><span>${title(3)}</span><span>€${(5 + rand() * 80).toFixed(2)}</span></li>`).join('');
  const script = `
const form = document.querySelector('form');
const err = (name, msg) => { let e = form.querySelector('[data-err="' + name + '"]');
  if (!e) { e = document.createElement('div'); e.className = 'error'; e.dataset.err = name; form.elements[name].after(e); }
  e.textContent = msg; };
form.addEventListener('input', (e) => {
  const f = e.target;
  if (f.name === 'email') err('email', /.+@.+\\..+/.test(f.value) ? '' : 'Enter a valid e-mail address');
  if (f.name === 'zip') err('zip', /^\\d{5}$/.test(f.value) ? '' : 'Five digits');
});
form.elements.gift.addEventListener('change', (e) => {
  document.getElementById('giftbox').hidden = !e.target.checked;
});
form.addEventListener('submit', (e) => {
  e.preventDefault();
  const m = document.createElement('div'); m.className = 'modal';
  m.innerHTML = '<div><h2>Thank you!</h2><p>Your order is being processed…</p><progress max="100" value="0"></progress></div>';
  document.body.appendChild(m); const p = m.querySelector('progress');
  const t = setInterval(() => { p.value += 10; if (p.value >= 100) { clearInterval(t); m.querySelector('p').textContent = 'Order confirmed.'; } }, 200);
});
`;
  const body = `<h1>Checkout</h1><div class="row"><div><form novalidate>
<label for="name">Full name</label><input id="name" name="name" autocomplete="name">
<label for="email">E-mail</label><input id="email" name="email" type="email">
<label for="password">Password (to create an account)</label><input id="password" name="password" type="password">
<div class="row"><div><label for="street">Street</label><input id="street" name="street"></div>
<div><label for="zip">Postcode</label><input id="zip" name="zip" inputmode="numeric"></div></div>
<label for="country">Country</label><select id="country" name="country">${countries.map((c) => `<option>${c}</option>`).join('')}</select>
<label><input type="checkbox" name="gift" style="width:auto"> This is a gift</label>
<div id="giftbox" hidden><label for="note">Gift note</label><textarea id="note" name="note" rows="3"></textarea></div>
<label>Delivery</label>${['Standard (3–5 days)', 'Express (1 day)', 'Pick-up point'].map((d, i) =>
    `<label style="font-weight:400"><input type="radio" name="delivery" value="${i}" style="width:auto"${i === 0 ? ' checked' : ''}> ${d}</label>`).join('')}
<button type="submit">Place order</button></form></div>
<aside><h2>Your order</h2><ul class="summary">${items}</ul><p>${words(30)}</p></aside></div>`;
  return shell('Shoply – checkout', body, script);
}

// ---------------------------------------------------------------- server and browser

const pages = { '/form.html': formPage(), '/content.html': contentPage(), '/site.css': CSS };
const server = createServer((req, res) => {
  const body = pages[req.url.split('?')[0]];
  if (!body) { res.writeHead(404).end('not found'); return; }
  res.writeHead(200, { 'content-type': req.url.endsWith('.css') ? 'text/css' : 'text/html; charset=utf-8' }).end(body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const userDataDir = mkdtempSync(join(tmpdir(), 'streamdom-fixture-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function record(path, script) {
  const page = await context.newPage();
  await page.goto(base + path);
  await page.addScriptTag({ content: rrwebRecord });
  await page.evaluate((options) => {
    window.__events = [];
    window.rrwebRecord.record({ ...options, emit: (e) => window.__events.push(e) });
  }, RECORD_OPTIONS);
  await script(page);
  await sleep(500);
  const events = await page.evaluate(() => window.__events);
  await page.close();
  return events;
}

// Mouse path with many intermediate points, as a hand moves.
async function glide(page, x, y, steps = 25) { await page.mouse.move(x, y, { steps }); await sleep(60); }

async function formScript(page) {
  const fill = async (sel, text) => {
    const box = await page.locator(sel).boundingBox();
    await glide(page, box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.click(box.x + 20, box.y + box.height / 2);
    await page.keyboard.type(text, { delay: 70 });
    await sleep(300);
  };
  await glide(page, 300, 200, 40);
  await fill('#name', 'Marie-Claire Dupont');
  await fill('#email', 'marie.dupont@example');
  await page.keyboard.type('.org', { delay: 90 });
  await fill('#password', 'correct horse battery');
  await fill('#street', '12 rue des Lilas');
  await fill('#zip', '750');
  await page.keyboard.type('11', { delay: 150 });
  await page.selectOption('#country', 'Germany'); await sleep(300);
  await page.selectOption('#country', 'France'); await sleep(300);
  await page.check('input[name=gift]'); await sleep(300);
  await fill('#note', 'Happy birthday! Hope you like it. Love, M.');
  await page.check('input[name=delivery][value="1"]'); await sleep(400);
  await page.mouse.wheel(0, 400); await sleep(500);
  for (let i = 0; i < 3; i++) { await glide(page, 900 + i * 30, 200 + i * 60, 15); }
  await page.mouse.wheel(0, -300); await sleep(400);
  await page.click('button[type=submit]');
  await sleep(2500);
  await glide(page, 640, 400, 30);
}

async function contentScript(page) {
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < 4; i++) {
      await glide(page, 150 + Math.floor(rand() * 950), 150 + Math.floor(rand() * 600), 20);
    }
    const buttons = page.locator('.add');
    const n = await buttons.count();
    const b = buttons.nth(Math.min(n - 1, round * 7 + 3));
    await b.scrollIntoViewIfNeeded(); await sleep(200);
    const box = await b.boundingBox();
    if (box) { await glide(page, box.x + box.width / 2, box.y + box.height / 2); await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2); }
    for (let s = 0; s < 8; s++) { await page.mouse.wheel(0, 120 + Math.floor(rand() * 200)); await sleep(120); }
    await sleep(700);
  }
  for (let s = 0; s < 15; s++) { await page.mouse.wheel(0, -400); await sleep(100); }
  await page.keyboard.press('End'); await sleep(1500);
  await page.keyboard.press('Home'); await sleep(1000);
}

const fixtures = [
  ['form', await record('/form.html', formScript)],
  ['content', await record('/content.html', contentScript)],
];
await context.close();
server.close();
rmSync(userDataDir, { recursive: true, force: true });

for (const [name, events] of fixtures) {
  const json = join(outDir, `${name}.json`);
  writeFileSync(json, JSON.stringify(events));
  const kinds = {};
  for (const e of events) kinds[e.type] = (kinds[e.type] ?? 0) + 1;
  let file = json;
  if (!plain) {
    const z = spawnSync('zstd', ['-19', '-f', '--rm', '-q', json], { stdio: 'inherit' });
    if (z.status === 0) file = `${json}.zst`; else console.warn('zstd failed; keeping plain JSON');
  }
  const bytes = Buffer.byteLength(JSON.stringify(events));
  console.log(`${file}: ${events.length} events, ${(bytes / 1024).toFixed(0)} KiB raw, by type ${JSON.stringify(kinds)}`);
}
