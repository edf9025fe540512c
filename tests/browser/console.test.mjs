// The operator console in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; nothing downloads a browser), on the demo's data: `clientsync demo` runs
// and serves the console, and these scenarios use it as an operator would. Screenshots of
// each page go to target/console-screenshots/, first-render timings to
// target/console-screenshots/timings.json.
//
// Run from the repository root after `cargo build --locked`:
//   (cd tests/browser && npm ci && npm test)
// CLIENTSYNC_BIN and CHROMIUM override the binary and the browser.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = process.env.CLIENTSYNC_BIN || join(root, 'target/debug/clientsync');
// Not passed on to the binary: its configuration refuses unknown `CLIENTSYNC_*` keys (`bin`).
delete process.env.CLIENTSYNC_BIN;
const shots = join(root, 'target/console-screenshots');
const dir = mkdtempSync(join(tmpdir(), 'clientsync-console-'));
const database = join(dir, 'demo.db');

let demo;
let base;
let adminToken;
let browser;
let admin; // the admin's page, signed in by the first scenario
const pageErrors = []; // console errors on any page: a CSP refusal shows up here

/** Starts the demo and waits for the line that says where the console is. */
function startDemo() {
  return new Promise((resolve, reject) => {
    demo = spawn(bin, ['demo', '--clients', '300', '--arrivals', '10', '--seed', '11', '--port', '0',
      '--database', database], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the demo did not serve the console in time:\n${out}`)), 300_000);
    demo.stdout.on('data', (chunk) => {
      out += chunk.toString();
      const url = out.match(/serving this database at (http:\/\/[^\s]+\/console)/);
      const token = out.match(/\n\s+(cs_[A-Za-z0-9_-]{43})\n/);
      if (url && token) {
        clearTimeout(timer);
        resolve({ url: url[1].replace(/\/console$/, ''), token: token[1] });
      }
    });
    demo.on('exit', (code) => reject(new Error(`the demo exited (${code}) before serving:\n${out}`)));
  });
}

async function shot(page, name, mask = []) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true, mask });
}

/** Every visible form control has a label a screen reader can announce. */
async function assertLabelled(page) {
  const unlabelled = await page.$$eval('input:not([type=hidden]), select, textarea',
    (els) => els.filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label')).map((el) => el.outerHTML));
  assert.deepEqual(unlabelled, [], `unlabelled controls on ${page.url()}`);
}

/** POSTs from inside the page, as a script on it would (same origin, the session's cookie). */
function postFromPage(page, path, fields) {
  return page.evaluate(async ([path, fields]) => {
    const response = await fetch(path, { method: 'POST', body: new URLSearchParams(fields) });
    return response.status;
  }, [path, fields]);
}

function watch(page) {
  page.on('console', (msg) => { if (msg.type() === 'error') pageErrors.push(`${page.url()}: ${msg.text()}`); });
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  return page;
}

async function signInWithToken(context, token) {
  const page = watch(await context.newPage());
  await page.goto(`${base}/console/login`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/console/attention');
  return page;
}

before(async () => {
  mkdirSync(shots, { recursive: true });
  const started = await startDemo();
  base = started.url;
  adminToken = started.token;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  await browser?.close();
  demo?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('an admin signs in with the token the demo printed, by keyboard alone', async () => {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = watch(await context.newPage());
  await page.goto(`${base}/console/login`);
  await assertLabelled(page);
  await shot(page, 'login');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'name', 'the name field has focus');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'token');
  await page.keyboard.type(adminToken);
  await page.keyboard.press('Enter');
  await page.waitForURL('**/console/attention');
  await assertLabelled(page);
  const mismatches = Number(await page.locator('#group-field_mismatch td[data-count]').getAttribute('data-count'));
  assert.ok(mismatches > 50, `the demo leaves field mismatches to review (${mismatches})`);
  await shot(page, 'attention');
  admin = page;
});

test('resolving a field mismatch takes it out of the list', async () => {
  const page = admin;
  await page.goto(`${base}/console/conflicts?kind=field_mismatch`);
  await assertLabelled(page);
  await shot(page, 'conflicts');
  const row = page.locator('tbody tr').first();
  const id = await row.getAttribute('id');
  await row.getByRole('button', { name: 'Accept ClickUp' }).click();
  await page.locator(`#${id}`).waitFor({ state: 'detached' });
  await page.locator('#flash .flash.ok').waitFor();
  assert.match(await page.locator('#flash').innerText(), /Resolved/);
  await page.reload();
  assert.equal(await page.locator(`#${id}`).count(), 0, 'still gone after a reload');
  await page.goto(`${base}/console/audit?action=conflict.resolve`);
  await assertLabelled(page);
  assert.equal(await page.locator('tbody tr').count(), 1, 'one audit row for the decision');
  assert.match(await page.locator('tbody tr').first().innerText(), /console/);
  await shot(page, 'audit');
});

test('replaying a dead event from the Events page queues it once and the worker applies it', async () => {
  // The demo's story ends with nothing dead; one of its processed events is made dead as a
  // failed delivery would leave it (status, attempts, last error), in the demo's database.
  const id = execFileSync('sqlite3', ['-cmd', '.timeout 10000', database,
    "UPDATE inbox_events SET status = 'dead', attempts = 5, last_error = 'browser test: <poisoned>' "
    + "WHERE id = (SELECT id FROM inbox_events WHERE status = 'processed' AND source = 'hubspot' ORDER BY id LIMIT 1) "
    + 'RETURNING id;'], { encoding: 'utf8' }).trim();
  assert.ok(id, 'a processed HubSpot event to make dead');
  const page = admin;
  await page.goto(`${base}/console/events`);
  await assertLabelled(page);
  const row = page.locator(`tr[data-id="${id}"]`);
  assert.match(await row.innerText(), /browser test: <poisoned>/, 'the last error, as text');
  await shot(page, 'events-dead');
  await row.getByRole('link', { name: id }).click();
  await page.waitForURL('**/console/events/show?id=*');
  assert.match(await page.locator('#payload').innerText(), /"objectId"/);
  assert.equal(await page.locator('#event-status').innerText(), 'dead');
  await shot(page, 'event-payload');

  await page.goto(`${base}/console/events`);
  await page.locator(`tr[data-id="${id}"]`).getByRole('button', { name: `Replay ${id}` }).click();
  await page.locator(`tr[data-id="${id}"]`).waitFor({ state: 'detached' });
  assert.match(await page.locator('#flash').innerText(), /on the work queue again/);
  const deadline = Date.now() + 30_000;
  let status = 'dead';
  while (status === 'dead' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    await page.goto(`${base}/console/events/show?id=${encodeURIComponent(id)}`);
    status = await page.locator('#event-status').innerText();
  }
  assert.notEqual(status, 'dead', 'the worker applied the replayed event');
  await page.goto(`${base}/console/audit?action=event.replay`);
  assert.equal(await page.locator('tbody tr').count(), 1, 'one audit row for the replay');
  assert.match(await page.locator('tbody tr').first().innerText(), /console/);

  // Many by filter: two more made dead, counted first, then a job the page polls until it ends.
  execFileSync('sqlite3', ['-cmd', '.timeout 10000', database,
    "UPDATE inbox_events SET status = 'dead', attempts = 5, last_error = 'browser test: bulk' "
    + "WHERE id IN (SELECT id FROM inbox_events WHERE status = 'processed' AND source = 'clickup' ORDER BY id LIMIT 2);"]);
  await page.goto(`${base}/console/events?reason=${encodeURIComponent('browser test: bulk')}`);
  await page.getByRole('button', { name: /Replay all matching/ }).click();
  await page.locator('#dry-run [data-count="2"]').waitFor();
  await shot(page, 'events-bulk-dry-run');
  await page.getByRole('button', { name: 'Start: 2 dead events' }).click();
  await page.waitForURL('**/console/jobs/*');
  await page.locator('#job-status', { hasText: 'finished' }).waitFor({ timeout: 30_000 });
  assert.match(await page.locator('#job').innerText(), /2 done, 0 failed of 2/);
  await shot(page, 'events-bulk-job');

  await page.goto(`${base}/console/events/recent`);
  await assertLabelled(page);
  await shot(page, 'events-recent');
  await page.goto(`${base}/console/outbox`);
  await assertLabelled(page);
  await shot(page, 'events-outbox');
});

/** One row of the demo's database, through the sqlite3 CLI. */
function sql(query) {
  return execFileSync('sqlite3', ['-cmd', '.timeout 10000', database, query], { encoding: 'utf8' }).trim();
}

test('typing part of an email finds the client as you type, and its page shows where each value came from', async () => {
  const email = sql("SELECT c.email FROM clients c JOIN source_records r ON r.client_id = c.id "
    + "WHERE c.email IS NOT NULL GROUP BY c.id HAVING count(DISTINCT r.source) = 2 AND count(*) = 2 "
    + 'ORDER BY c.email LIMIT 1');
  assert.ok(email, 'a demo client held by both systems');
  const page = admin;
  await page.goto(`${base}/console/clients`);
  await assertLabelled(page);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'q', 'the search box has focus');
  await page.keyboard.type(email, { delay: 15 });
  const hit = page.locator('#results a[href^="/console/clients/"]');
  await hit.first().waitFor();
  assert.equal(await hit.count(), 1, 'one client has that email');
  assert.match(page.url(), /\/console\/clients$/, 'found without submitting the form');
  await shot(page, 'clients');
  await hit.first().click();
  await page.waitForURL('**/console/clients/*');
  await assertLabelled(page);
  assert.match(await page.locator('#golden-email').innerText(), new RegExp(email.replace(/[.]/g, '\\.')));
  assert.equal(await page.locator('#records tbody tr').count(), 2, 'a HubSpot and a ClickUp record');
  assert.ok(await page.locator('#timeline tbody tr.entry-event').count() > 0, 'the timeline lists its events');
  await shot(page, 'client');
});

test('a record split off from the client page is undone from the new client\'s timeline', async () => {
  const page = admin; // on the client page of the scenario above
  const shared = page.url().split('/').pop();
  const task = await page.locator('#records tr[data-record^="clickup/"]').getAttribute('data-record');
  await page.locator(`#records tr[data-record="${task}"]`).getByRole('button', { name: 'Split off' }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/console/clients/') && !url.pathname.endsWith(shared));
  const apart = page.url().split('/').pop();
  assert.equal(await page.locator('#records tbody tr').count(), 1, 'the task alone on a client of its own');
  const [source, externalId] = task.split('/');
  const onApart = sql(`SELECT lower(hex(client_id)) FROM source_records WHERE source = '${source}' AND external_id = '${externalId}'`);
  assert.equal(onApart, apart.replaceAll('-', ''), 'the store agrees');
  await shot(page, 'client-split');
  const move = page.locator('#timeline tr[data-what="record.move"]');
  await move.getByRole('button', { name: 'Undo' }).click();
  await page.waitForURL(`**/console/clients/${shared}`);
  assert.equal(await page.locator('#records tbody tr').count(), 2, 'the task is back');
  const back = sql(`SELECT lower(hex(client_id)) FROM source_records WHERE source = '${source}' AND external_id = '${externalId}'`);
  assert.equal(back, shared.replaceAll('-', ''));
  assert.equal(sql(`SELECT count(*) FROM clients WHERE lower(hex(id)) = '${apart.replaceAll('-', '')}'`), '0', 'the split-off client is gone');
  assert.equal(await page.locator('#timeline tr[data-what="audit.undo"]').count(), 1, 'the undo is on the timeline');
});

test('conflicts are reviewed by keyboard: j/k through the queue, ? for help, n then Enter decides', async () => {
  const page = admin;
  await page.goto(`${base}/console/conflicts?kind=field_mismatch`);
  const first = (await page.locator('tbody tr').first().getAttribute('id')).replace('conflict-', '');
  await page.goto(`${base}/console/review/${first}`);
  await assertLabelled(page);
  await page.keyboard.press('j');
  await page.waitForURL((url) => url.pathname.startsWith('/console/review/') && !url.pathname.endsWith(first));
  await page.keyboard.press('k');
  await page.waitForURL(`**/console/review/${first}`);

  await page.goto(`${base}/console/conflicts?kind=key_collision`);
  await page.getByRole('link', { name: /Review/ }).first().click();
  await page.waitForURL('**/console/review/*');
  const id = page.url().split('/').pop();
  assert.ok(await page.locator('section.side.candidate').count() >= 2, 'the colliding clients side by side');
  await page.keyboard.press('?');
  assert.equal(await page.locator('#help').isVisible(), true, '? shows the keys');
  await shot(page, 'review');
  await page.keyboard.press('?');
  await page.keyboard.press('n');
  await page.locator('#confirm').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'confirm', 'Confirm has focus');
  await shot(page, 'review-preview');
  assert.equal(sql(`SELECT status FROM conflicts WHERE lower(hex(id)) = '${id.replaceAll('-', '')}'`), 'open',
    'a preview decides nothing');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/console/conflicts?kind=key_collision');
  assert.equal(sql(`SELECT status FROM conflicts WHERE lower(hex(id)) = '${id.replaceAll('-', '')}'`), 'resolved');
  assert.equal(sql("SELECT count(*) FROM audit_log WHERE action = 'conflict.resolve' AND via = 'console' "
    + `AND target_id = '${id}'`), '1', 'one audit row');
});

/** A value the store accepts for `field`, unlike any a source sent. */
function pinnable(field) {
  return {
    email: 'pinned.by.browser.test@example.com',
    phone: '+34 699 000 999',
    date_of_birth: '1980-02-03',
    document_key: 'X9999999Z',
  }[field] ?? 'Pinned by the browser test';
}

test('a value pinned on the review page is previewed as the golden client, then Confirm makes it golden', async () => {
  const page = admin;
  await page.goto(`${base}/console/conflicts?kind=field_mismatch`);
  const id = (await page.locator('tbody tr').first().getAttribute('id')).replace('conflict-', '');
  const field = sql(`SELECT field FROM conflicts WHERE lower(hex(id)) = '${id.replaceAll('-', '')}'`);
  await page.goto(`${base}/console/review/${id}`);
  await assertLabelled(page);
  const row = page.locator(`#golden-${field}`);
  assert.equal(await row.getAttribute('class'), 'disputed', 'the disputed field stands out');
  const before = (await row.locator('td').nth(2).innerText()).trim();
  assert.match(await row.innerText(), /HubSpot wins over ClickUp|HubSpot's value|pinned by an operator/, 'the rule that won');
  await page.keyboard.press('p');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'pin-value', 'p goes to the pin field');
  await page.keyboard.type(pinnable(field));
  await page.keyboard.press('Enter');
  await page.locator('#confirm').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'confirm', 'Confirm has focus');
  const pinned = await page.locator('#preview input[name=value]').getAttribute('value');
  const change = page.locator('#preview table.preview tbody tr')
    .filter({ has: page.locator('th', { hasText: new RegExp(`^${field}$`) }) });
  assert.equal(await change.count(), 1, 'the golden client\'s field changes in the preview');
  const [now, after, from] = await change.locator('td').allInnerTexts();
  assert.deepEqual([now.trim(), after.trim(), from.trim()], [before, pinned, 'pinned']);
  await shot(page, 'review-pin-preview');
  assert.equal(sql(`SELECT status FROM conflicts WHERE lower(hex(id)) = '${id.replaceAll('-', '')}'`), 'open',
    'a preview decides nothing');
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => !url.pathname.endsWith(id));
  assert.equal(sql(`SELECT status FROM conflicts WHERE lower(hex(id)) = '${id.replaceAll('-', '')}'`), 'resolved');
  await page.goto(`${base}/console/review/${id}`);
  await page.locator('#review-client').click();
  await page.waitForURL('**/console/clients/*');
  const golden = await page.locator(`#golden-${field}`).innerText();
  assert.ok(golden.includes(pinned) && /pinned/.test(golden), `the client's ${field} is the pinned value: ${golden}`);
});

test('the events-per-day report shows, day by day, what a direct SQL count over the same window gives', async () => {
  // The demo's events all arrived today: some are moved back 2 days, and some 12 days, beyond
  // a 7-day window, as a longer-running service would have received them.
  const back = (days, source, limit) => sql(`UPDATE inbox_events SET received_at = `
    + `date(substr(received_at, 1, 10), '-${days} days') || substr(received_at, 11) `
    + `WHERE id IN (SELECT id FROM inbox_events WHERE source = '${source}' AND substr(received_at, 1, 10) = date('now') ORDER BY id LIMIT ${limit});`);
  back(2, 'hubspot', 40);
  back(2, 'clickup', 7);
  back(12, 'hubspot', 5);
  const counted = new Map(sql("SELECT substr(received_at, 1, 10) || '|' || count(*) FROM inbox_events "
    + "WHERE substr(received_at, 1, 10) >= date('now', '-6 days') GROUP BY substr(received_at, 1, 10)").split('\n').filter(Boolean)
    .map((line) => { const [day, n] = line.split('|'); return [day, Number(n)]; }));
  assert.equal(counted.size, 2, 'events on two days of the window');
  const page = admin;
  await page.goto(`${base}/console/reports?name=events-per-day&days=7`);
  await assertLabelled(page);
  const rows = await page.$$eval('#report-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.innerText)));
  const totals = rows.filter((r) => r[1] === 'all');
  assert.equal(totals.length, 7, 'every day of the window, zeros included');
  for (const [day, , , count] of totals) {
    assert.equal(Number(count), counted.get(day) ?? 0, `events received on ${day}`);
  }
  const twoDaysAgo = sql("SELECT date('now', '-2 days')");
  const hubspotThen = rows.filter((r) => r[0] === twoDaysAgo && r[1] === 'hubspot')
    .reduce((sum, r) => sum + Number(r[3]), 0);
  assert.equal(hubspotThen, 40, 'by source too');
  assert.equal(await page.locator('#report-chart polyline').count() > 0, true, 'a chart of the same series');
  await shot(page, 'reports');
});

test('a POST without the CSRF token is refused and changes nothing', async () => {
  const page = admin;
  await page.goto(`${base}/console/conflicts?kind=field_mismatch`);
  const id = (await page.locator('tbody tr').first().getAttribute('id')).replace('conflict-', '');
  const status = await postFromPage(page, `/console/conflicts/${id}/resolve`, { action: 'keep_hubspot' });
  assert.equal(status, 403);
  await page.reload();
  assert.equal(await page.locator(`#conflict-${id}`).count(), 1, 'the conflict is still open');
});

test('a viewer sees no action buttons and their POST is 403', async () => {
  await admin.goto(`${base}/console/operators`);
  await assertLabelled(admin);
  await admin.getByLabel('Name', { exact: true }).fill('vera');
  await admin.getByLabel('Role', { exact: true }).selectOption('viewer');
  await admin.getByRole('button', { name: 'Add and show token' }).click();
  const token = (await admin.locator('#new-token').innerText()).trim();
  assert.match(token, /^cs_/);
  await shot(admin, 'operators', [admin.locator('#new-token')]);

  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const viewer = await signInWithToken(context, token);
  await viewer.goto(`${base}/console/conflicts?kind=field_mismatch`);
  assert.ok(await viewer.locator('tbody tr').count() > 0, 'the viewer sees the conflicts');
  assert.equal(await viewer.locator('main form[method=post], main table button').count(), 0, 'but no actions');
  assert.equal(await viewer.getByRole('link', { name: 'Operators' }).count(), 0);
  await shot(viewer, 'conflicts-as-viewer');
  const id = (await viewer.locator('tbody tr').first().getAttribute('id')).replace('conflict-', '');
  const csrf = await viewer.locator('meta[name=csrf-token]').getAttribute('content');
  const status = await postFromPage(viewer, `/console/conflicts/${id}/resolve`, { csrf, action: 'keep_hubspot' });
  assert.equal(status, 403);
  await viewer.reload();
  assert.equal(await viewer.locator(`#conflict-${id}`).count(), 1, 'nothing changed');
  await context.close();
});

test('an operator signs in with the password set by `clientsync operators passwd`', async () => {
  execFileSync(bin, ['operators', 'passwd', 'vera'], {
    env: { ...process.env, CLIENTSYNC_DATABASE__URL: `sqlite://${database}`, CLIENTSYNC_PASSWORD: 'correct horse battery staple' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/console/login`);
  await page.getByLabel('Name').fill('vera');
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByLabel('Password').press('Enter');
  await page.waitForURL('**/console/attention');
  assert.match(await page.locator('.who').innerText(), /vera/);
  await context.close();
});

test('first render of a page of 50 conflicts', async () => {
  const page = admin;
  const runs = [];
  for (let i = 0; i < 21; i++) {
    await page.goto(`${base}/console/conflicts`);
    runs.push(await page.evaluate(() => {
      const [nav] = performance.getEntriesByType('navigation');
      return {
        server: nav.responseEnd - nav.requestStart,
        parsed: nav.domInteractive - nav.startTime,
        ready: nav.domContentLoadedEventEnd - nav.startTime,
        load: nav.loadEventEnd - nav.startTime,
      };
    }));
  }
  assert.equal(await page.locator('tbody tr').count(), 50);
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const timing = {
    rows: 50,
    runs: runs.length,
    median_response_ms: median(runs.map((r) => r.server)),
    median_html_parsed_ms: median(runs.map((r) => r.parsed)),
    median_dom_content_loaded_ms: median(runs.map((r) => r.ready)),
    median_load_ms: median(runs.map((r) => r.load)),
    max_load_ms: Math.max(...runs.map((r) => r.load)),
  };
  writeFileSync(join(shots, 'timings.json'), JSON.stringify(timing, null, 2));
  console.log(`first render of 50 conflicts: ${JSON.stringify(timing)}`);
});

test('bulk resolve by filter: a dry-run count, then a job that runs to completion, and the conflicts leave the inbox', async () => {
  // After the first-render scenario, which needs a full page; the field with the fewest open
  // mismatches, so the count is small and exact.
  const [field, n] = sql("SELECT field || '|' || count(*) FROM conflicts WHERE status = 'open' AND kind = 'field_mismatch' "
    + 'GROUP BY field ORDER BY count(*), field LIMIT 1').split('|');
  const open = () => sql("SELECT count(*) FROM conflicts WHERE status = 'open' AND kind = 'field_mismatch' "
    + `AND field = '${field}'`);
  const resolutions = () => sql("SELECT count(*) FROM audit_log WHERE action = 'conflict.resolve' AND via = 'console'");
  const resolvedBefore = Number(resolutions());
  const page = admin;
  await page.goto(`${base}/console/conflicts?kind=field_mismatch&field=${field}`);
  await assertLabelled(page);
  assert.equal(await page.locator('tbody tr').count(), Math.min(Number(n), 50), `the ${field} mismatches listed`);
  await page.getByLabel('Resolve all matching').selectOption('keep_hubspot');
  await page.getByRole('button', { name: /Count first/ }).click();
  await page.locator(`#dry-run [data-count="${n}"]`).waitFor();
  assert.equal(open(), n, 'a dry run resolves nothing');
  await shot(page, 'conflicts-bulk-dry-run');
  await page.locator('#dry-run').getByRole('button', { name: /^Start: / }).click();
  await page.waitForURL('**/console/jobs/*');
  await page.locator('#job-status', { hasText: 'finished' }).waitFor({ timeout: 30_000 });
  assert.match(await page.locator('#job').innerText(), new RegExp(`${n} done, 0 failed of ${n}`));
  await shot(page, 'conflicts-bulk-job');
  assert.equal(open(), '0', 'the store has none open');
  assert.equal(Number(resolutions()) - resolvedBefore, Number(n), 'one audit row per conflict');
  await page.getByRole('link', { name: 'Open conflicts' }).click();
  await page.waitForURL('**/console/conflicts');
  await page.goto(`${base}/console/conflicts?kind=field_mismatch&field=${field}`);
  assert.equal(await page.locator('tbody tr').count(), 0, 'and the list shows none');
});

test('no page logged an error (a CSP refusal of htmx or the stylesheet would)', () => {
  // The refused POSTs of the scenarios above are the only expected failures.
  const unexpected = pageErrors.filter((e) => !/status of 403/.test(e) && !/status of 409/.test(e));
  assert.deepEqual(unexpected, []);
});

test('signing out ends the session', async () => {
  const page = admin;
  await page.goto(`${base}/console/attention`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/console/login');
  await page.goto(`${base}/console/attention`);
  assert.match(page.url(), /\/console\/login$/, 'back to sign-in');
});
