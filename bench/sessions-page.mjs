// Sessions page benchmark (not a test): milliseconds from navigation to the first rows painted on
// the sessions page, in headless Chromium, with many stored sessions. See docs/PERFORMANCE.md
// ("The sessions page at 100,000 sessions").
//
//   node bench/sessions-page.mjs [--sessions 100000] [--runs 15] [--views '/,/?status=ended,…']
//        [--postgres postgres://postgres@127.0.0.1:5432] [--verbose] [--api]
//
// With --api there is no browser: each view's `GET /api/sessions` (the page's first request:
// limit 100, all=true) is timed from this process, request to last byte, over --api-views (by
// default the page's views and rare matches: a word no session has, a single page, a deep
// cursor). `cursor=DEEP` stands for the cursor 90 % down the list.
//
// It starts the built hub (STREAMDOM_BIN, default target/release/streamdom if built, else
// target/debug/streamdom) on a free port with a temporary SQLite database (or, with --postgres, a
// database it creates on that server and drops at the end), stops it, inserts --sessions ended
// sessions straight into that database with the sqlite3 or psql command-line tool (one
// INSERT … SELECT; issue 16's derived columns, pages and event names where the schema has them),
// starts the hub again on it and opens each view --runs times (after 2 warm-up loads). The page
// marks `sessions:first-rows` after the frame that paints its first page (static/dashboard.ts);
// the figure is that mark's time since navigation start. The /api/sessions request's own time
// (Resource Timing, request start to response end) is shown beside it.

import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Hub, launchBrowser, signIn } from '../tests/browser/harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? '' : dflt;
};
const SESSIONS = Number(arg('sessions', 100_000));
const RUNS = Number(arg('runs', 15));
const VERBOSE = process.argv.includes('--verbose');
const VIEWS = arg('views', '/,/?status=ended,/?sort=duration,/?sort=errors&order=asc,/?has_errors=true,/?user=user-77,/?q=user-77,/?url=checkout,/?event=signup,/?browser=Firefox&device=desktop,/?min_duration_ms=600000&sort=active,/?from=2026-11-01T00:00:00Z&to=1800000000000').split(',');
const API = process.argv.includes('--api');
const API_VIEWS = arg('api-views', [
  '/', '/?status=ended', '/?sort=duration', '/?sort=errors&order=asc', '/?has_errors=true', '/?user=user-77',
  '/?q=user-77', '/?q=USER-999', '/?q=nowhere', '/?q=post-99999', '/?q=pro',
  '/?url=checkout', '/?url=POST-99999', '/?url=nowhere',
  '/?event=signup', '/?event=nothing', '/?browser=Firefox&device=desktop',
  '/?min_duration_ms=600000&sort=active', '/?min_active_ms=900000', '/?max_active_ms=2000&sort=active',
  '/?from=2026-11-01T00:00:00Z&to=1800000000000', '/?cursor=DEEP', '/?sort=errors&cursor=DEEPERR',
].join(',')).split(',');
/** A PostgreSQL server URL (no database): the bench creates and drops its own database there. */
const POSTGRES = arg('postgres', '');

if (!process.env.STREAMDOM_BIN) {
  const release = resolve('target/release/streamdom');
  process.env.STREAMDOM_BIN = existsSync(release) ? release : resolve('target/debug/streamdom');
}

const UAS = [
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome', 'Linux', 'desktop'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox', 'Windows', 'desktop'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'Mobile Safari', 'iOS', 'mobile'],
];
const q = (s) => `'${s.replace(/'/g, "''")}'`;

/** The two backends' SQL: the tool that runs it, and how they differ. */
function backend(pgUrl) {
  if (pgUrl) {
    return {
      run: (db, sql) => execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', db, '-c', sql]).toString(),
      columns: (db, table) => execFileSync('psql', ['-At', db, '-c', `SELECT column_name FROM information_schema.columns WHERE table_name = '${table}'`]).toString(),
      pad: (expr) => `lpad((${expr})::text, 7, '0')`,
      insert: (table, cols, exprs, n) => `INSERT INTO ${table} (${cols}) SELECT ${exprs} FROM generate_series(0::bigint, ${n - 1}) AS n(i)`,
    };
  }
  return {
    run: (db, sql) => execFileSync('sqlite3', [db, sql]).toString(),
    columns: (db, table) => execFileSync('sqlite3', [db, `SELECT name FROM pragma_table_info('${table}');`]).toString(),
    pad: (expr) => `printf('%07d', ${expr})`,
    insert: (table, cols, exprs, n) => `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${n - 1}) INSERT INTO ${table} (${cols}) SELECT ${exprs} FROM n`,
  };
}

/**
 * Inserts `n` ended sessions, one every 30 s back from now, into the hub's database, with issue
 * 16's derived columns and side tables where this hub has them.
 */
function seed(db, n, sql) {
  const cols = new Set(sql.columns(db, 'sessions').split('\n').filter(Boolean));
  const now = Date.now();
  const dur = '((i % 600) * 5000 + 5000)';
  const byUa = (k) => `CASE i % 3 ${UAS.map((u, j) => `WHEN ${j} THEN ${q(u[k])}`).join(' ')} END`;
  const key = `'default:bench-' || ${sql.pad('i')}`;
  // Per row i: start, a duration of 5 s – 50 min, one of three user agents, one of five pages.
  const base = {
    id: key,
    project_id: `'default'`,
    started_at: `${now} - i * 30000`,
    last_event_at: `${now} - i * 30000 + ${dur}`,
    ended_at: `${now} - i * 30000 + ${dur} + 30000`,
    url: `'https://shop.example/' || (CASE i % 5 WHEN 0 THEN '' WHEN 1 THEN 'pricing' WHEN 2 THEN 'checkout' WHEN 3 THEN 'blog/post-' || i ELSE 'account' END)`,
    user_agent: byUa(0),
    event_count: `50 + i % 5000`,
    raw_bytes: `(50 + i % 5000) * 400`,
    stored_bytes: `(50 + i % 5000) * 80`,
    first_event_ts: `${now} - i * 30000`,
    last_seq: `50 + i % 5000`,
  };
  const derived = {
    user_id: `CASE WHEN i % 4 = 0 THEN NULL ELSE 'user-' || (i % 1000) END`,
    traits: `CASE WHEN i % 4 = 0 THEN NULL ELSE '{"plan":"' || (CASE i % 3 WHEN 0 THEN 'free' WHEN 1 THEN 'pro' ELSE 'team' END) || '"}' END`,
    browser: byUa(1),
    os: byUa(2),
    device: byUa(3),
    viewport_width: `CASE i % 3 WHEN 2 THEN 390 ELSE 1440 END`,
    viewport_height: `CASE i % 3 WHEN 2 THEN 844 ELSE 900 END`,
    page_count: `1 + i % 7`,
    duration_ms: dur,
    active_ms: `${dur} / 3`,
    error_count: `CASE WHEN i % 10 = 0 THEN 1 + i % 4 ELSE 0 END`,
    click_count: `i % 40`,
    rage_click_count: `CASE WHEN i % 50 = 0 THEN 1 ELSE 0 END`,
  };
  const all = { ...base, ...derived };
  const names = Object.keys(all).filter((k) => cols.has(k));
  const statements = [sql.insert('sessions', names.join(', '), names.map((k) => all[k]).join(', '), n)];
  const tables = [];
  if (sql.columns(db, 'session_pages').trim()) {
    statements.push(sql.insert('session_pages', 'session_id, url', `${key}, ${base.url}`, n));
    tables.push('session_pages');
  }
  if (sql.columns(db, 'session_events').trim()) {
    statements.push(`${sql.insert('session_events', 'session_id, name', `${key}, 'signup'`, n)} WHERE i % 20 = 0`);
    tables.push('session_events');
  }
  sql.run(db, `BEGIN; ${statements.join('; ')}; COMMIT; ANALYZE;`);
  return { missing: Object.keys(derived).filter((k) => !cols.has(k)), tables, now };
}

/** Times each of API_VIEWS' first page RUNS times (after 2 warm-ups), straight from this process. */
async function apiRuns(hub, now) {
  const deep = Math.floor(SESSIONS * 0.9);
  const pad = String(deep).padStart(7, '0');
  // The seed's session `deep`: started `now - deep * 30 s`, errors 1 + deep % 4 when deep % 10 is 0.
  const cursors = {
    DEEP: `started.desc.${now - deep * 30000}.default:bench-${pad}`,
    DEEPERR: `errors.desc.0.default:bench-${pad}`,
  };
  const cookie = await hub.cookie();
  console.log(`hub: ${process.env.STREAMDOM_BIN}; ${RUNS} runs per view after 2 warm-ups; GET /api/sessions from this process, ms; load average ${loadavg()[0].toFixed(1)}`);
  console.log('view                                         rows |   p50   p95   max');
  for (const view of API_VIEWS) {
    const params = new URLSearchParams(view.replace(/^\/\??/, ''));
    const c = params.get('cursor');
    if (c && cursors[c]) params.set('cursor', cursors[c]);
    params.set('limit', '100');
    params.set('all', 'true');
    const url = `${hub.url}/api/sessions?${params}`;
    const times = [];
    let rows = 0;
    for (let run = 0; run < RUNS + 2; run++) {
      const t0 = performance.now();
      const res = await fetch(url, { headers: { cookie } });
      const body = await res.json();
      const ms = performance.now() - t0;
      if (!res.ok || body.partial) throw new Error(`${view}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      rows = body.sessions.length;
      if (run >= 2) times.push(ms);
    }
    times.sort((a, b) => a - b);
    console.log(`${view.padEnd(44)} ${String(rows).padStart(4)} | ${fmt(pct(times, 0.5))} ${fmt(pct(times, 0.95))} ${fmt(times[times.length - 1])}`);
  }
  console.log(`load average at the end: ${loadavg()[0].toFixed(1)}`);
}

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))];
const fmt = (x) => x.toFixed(0).padStart(5);

async function main() {
  const sql = backend(POSTGRES);
  let db;
  let args = [];
  if (POSTGRES) {
    const name = `streamdom_bench_sessions_${process.pid}`;
    execFileSync('psql', ['-q', POSTGRES, '-c', `CREATE DATABASE ${name}`]);
    db = `${POSTGRES.replace(/\/$/, '')}/${name}`;
    args = ['--database-url', db];
  }
  const hub = await Hub.start(args);
  const browser = API ? { close: async () => {}, errors: [] } : await launchBrowser();
  try {
    await hub.stop();
    db ??= join(hub.dataDir, 'streamdom.db');
    const started = Date.now();
    const { missing, tables, now } = seed(db, SESSIONS, sql);
    console.log(`seeded ${SESSIONS} sessions (${POSTGRES ? 'PostgreSQL' : 'SQLite'}${tables.length ? ` and ${tables.join(', ')}` : ''}) in ${Date.now() - started} ms${missing.length ? ` (this hub has no ${missing.join(', ')} column: not seeded)` : ''}`);
    await hub.start();
    if (API) {
      await apiRuns(hub, now);
      return;
    }
    await signIn(browser, hub);
    const page = await browser.newPage();
    console.log(`hub: ${process.env.STREAMDOM_BIN}; ${RUNS} runs per view after 2 warm-ups; ms from navigation start; load average ${loadavg()[0].toFixed(1)}`);
    console.log('view                                         rows | first rows p50   p95   max | API p50   p95');
    for (const view of VIEWS) {
      const rows = [];
      const api = [];
      let shown = 0;
      for (let run = 0; run < RUNS + 2; run++) {
        await page.goto(`${hub.url}${view}`, { waitUntil: 'commit' });
        await page.waitForFunction(() => performance.getEntriesByName('sessions:first-rows').length > 0, null, { timeout: 30_000, polling: 10 });
        const m = await page.evaluate(() => {
          const res = performance.getEntriesByType('resource').find((r) => r.name.includes('/api/sessions?'));
          return {
            first: performance.getEntriesByName('sessions:first-rows')[0].startTime,
            api: res ? res.responseEnd - res.requestStart : NaN,
            shown: document.querySelectorAll('[data-testid="session-row"]').length,
            // Where the time went: HTML in, script in, list request sent and answered.
            steps: [
              performance.getEntriesByType('navigation')[0].responseEnd,
              performance.getEntriesByType('resource').find((r) => r.name.includes('/dashboard.js'))?.responseEnd ?? NaN,
              res?.requestStart ?? NaN,
              res?.responseEnd ?? NaN,
            ],
          };
        });
        if (run < 2) continue;
        if (VERBOSE) console.log(`  ${view}: html ${m.steps.map((x) => x.toFixed(0)).join(', script ')} … first rows ${m.first.toFixed(0)}`.replace(/script (\d+), script (\d+)$/, 'api $1–$2'));
        rows.push(m.first);
        api.push(m.api);
        shown = m.shown;
      }
      rows.sort((a, b) => a - b);
      api.sort((a, b) => a - b);
      console.log(`${view.padEnd(44)} ${String(shown).padStart(4)} | ${fmt(pct(rows, 0.5))} ${fmt(pct(rows, 0.95))} ${fmt(rows[rows.length - 1])} | ${fmt(pct(api, 0.5))} ${fmt(pct(api, 0.95))}`);
    }
    console.log(`load average at the end: ${loadavg()[0].toFixed(1)}`);
    const errors = browser.errors.filter((e) => !/favicon/.test(e));
    if (errors.length) console.log(`page errors: ${errors.join('\n')}`);
  } finally {
    await browser.close();
    await hub.dispose();
    if (POSTGRES) execFileSync('psql', ['-q', POSTGRES, '-c', `DROP DATABASE IF EXISTS ${db.split('/').pop()}`]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
