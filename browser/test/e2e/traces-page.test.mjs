// The traces page end to end, in Chromium: the store is seeded from the
// SDK quickstart (and the browser SDK), then the page is used the way a
// person would: filters added through the UI, a reload, a trace opened,
// the Users and Sessions views. Screenshots go to the build directory
// (target/screenshots/), never into the source tree; scripts/screenshots.sh
// points NEATLOGS_SCREENSHOTS_DIR at docs/ to refresh the README's pictures.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, startServer, TARGET } from './harness.mjs';
import { seed, XSS } from './seed.mjs';

const SCREENSHOTS = process.env.NEATLOGS_SCREENSHOTS_DIR || join(TARGET, 'screenshots');
let server;
let browser;
let page;
let seeded;

before(async () => {
  server = await startServer();
  seeded = await seed(server.base);
  browser = await launchBrowser();
  page = await browser.newPage();
  mkdirSync(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The rows of the traces table: `{ id, name, endUser }`. */
function rows(p = page) {
  return p.$$eval('#traces tbody tr', (trs) => trs.map((tr) => ({
    id: tr.dataset.traceId,
    name: tr.querySelector('[data-col="name"]').textContent,
    endUser: tr.querySelector('[data-col="end_user"]').textContent,
  })));
}

/** Waits until the table shows exactly `ids`, in order. */
async function waitForRows(ids, p = page) {
  try {
    await p.waitForFunction((expected) => {
      const shown = [...document.querySelectorAll('#traces tbody tr')].map((tr) => tr.dataset.traceId);
      return JSON.stringify(shown) === JSON.stringify(expected);
    }, ids, { timeout: 10000 });
  } catch (e) {
    assert.deepEqual((await rows(p)).map((r) => r.id), ids, 'rows shown');
    throw e;
  }
}

async function apiIds(filter) {
  const { traces } = await server.api('/api/traces', { filter, limit: 50 });
  return traces.map((t) => t.trace_id);
}

async function addFilter({ field, key, op, value }) {
  await page.getByLabel('Field', { exact: true }).selectOption(field);
  if (key !== undefined) await page.getByLabel('Metadata key').fill(key);
  await page.getByLabel('Operator', { exact: true }).selectOption(op);
  if (value !== undefined) await page.getByLabel('Value', { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Add filter' }).click();
}

const chips = () => page.$$eval('.chip', (els) => els.map((el) => el.dataset.filter));

test('the quickstart seeded the store', async () => {
  const { traces } = await server.api('/api/traces', { filter: 'workflow is quickstart' });
  assert.deepEqual(traces.map((t) => [t.name, t.end_user]).sort(), [
    ['answer-question', 'u_812'], ['chat-completion', 'u_812'], ['support-escalation', 'u_8041'],
  ]);
});

test('an End-user filter added through the UI shows the matching rows and lives in the URL', async () => {
  await page.goto(`${server.base}/`);
  await waitForRows(await apiIds(''));
  await addFilter({ field: 'end_user', op: 'starts with', value: 'u_8' });
  const expected = await apiIds('end_user starts with u_8');
  await waitForRows(expected);
  const shown = await rows();
  assert.ok(shown.length >= 3);
  for (const row of shown) assert.match(row.endUser, /^u_8/);
  for (const name of ['answer-question', 'chat-completion', 'support-escalation']) {
    assert.ok(shown.some((r) => r.name === name), `${name} from the quickstart is listed`);
  }
  assert.deepEqual(new URL(page.url()).searchParams.getAll('f'), ['end_user starts with u_8']);
  assert.deepEqual(await chips(), ['end_user starts with u_8']);
  await page.screenshot({ path: join(SCREENSHOTS, 'traces.png') });
});

test('metadata:plan is pro narrows it; a reload and a fresh tab give the same rows', async () => {
  await addFilter({ field: 'metadata', key: 'plan', op: 'is', value: 'pro' });
  const expected = await apiIds('end_user starts with u_8 and metadata:plan is pro');
  await waitForRows(expected);
  const shown = await rows();
  assert.ok(shown.length >= 2);
  for (const row of shown) assert.equal(row.endUser, 'u_812', 'only the pro user among u_8*');
  assert.deepEqual(await chips(), ['end_user starts with u_8', 'metadata:plan is pro']);
  const url = page.url();
  assert.deepEqual(new URL(url).searchParams.getAll('f'), ['end_user starts with u_8', 'metadata:plan is pro']);

  await page.reload();
  await waitForRows(expected);
  assert.deepEqual(await chips(), ['end_user starts with u_8', 'metadata:plan is pro']);

  const shared = await browser.newPage();
  await shared.goto(url);
  await waitForRows(expected, shared);
  await shared.close();

  // Removing a chip goes back to the first filter's rows.
  await page.getByRole('button', { name: 'Remove filter: metadata:plan is pro' }).click();
  await waitForRows(await apiIds('end_user starts with u_8'));
});

test('the query box takes the filter language, and points at a mistake', async () => {
  await page.goto(`${server.base}/`);
  await page.locator('#filter-query').fill('end_user starts with u_8');
  await page.getByRole('button', { name: 'Apply' }).click();
  await waitForRows(await apiIds('end_user starts with u_8'));
  assert.deepEqual(await chips(), ['end_user starts with u_8']);

  await page.locator('#filter-query').fill('end_user strats with u_8');
  await page.getByRole('button', { name: 'Apply' }).click();
  const alert = page.locator('.query .field-error');
  await alert.waitFor({ state: 'visible' });
  assert.match(await alert.textContent(), /column 10/);
  assert.deepEqual(await chips(), ['end_user starts with u_8'], 'a bad query changes nothing');
});

test('a trace opens as a span tree with timings, its end-user and metadata on the root', async () => {
  await page.goto(`${server.base}/?f=${encodeURIComponent('workflow is quickstart')}`);
  await page.locator('#traces').getByRole('link', { name: 'answer-question' }).click();
  await page.waitForSelector('#span-tree');
  assert.match(page.url(), /\/trace\/[0-9a-f]{32}$/);
  const tree = await page.$$eval('#span-tree tbody tr', (trs) => trs.map((tr) => [tr.querySelector('.span-button').textContent, Number(tr.dataset.depth)]));
  assert.deepEqual(tree, [['answer-question', 0], ['search-docs', 1], ['chat-completion', 1]]);
  assert.equal(await page.locator('#root-end-user').textContent(), 'u_812');
  const metadata = await page.$$eval('#root-metadata dt, #root-metadata dd', (els) => els.map((e) => e.textContent));
  assert.deepEqual(metadata, ['plan', 'pro', 'region', 'eu']);
  assert.equal(await page.locator('#span-tree .bar').count(), 3, 'a timing bar per span');

  await page.getByRole('button', { name: 'chat-completion' }).click();
  const details = page.locator('#span-details');
  await details.getByRole('heading', { name: /chat-completion/ }).waitFor();
  const attrs = await details.locator('table.attrs tbody tr').evaluateAll((trs) => Object.fromEntries(trs.map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td').textContent])));
  assert.equal(attrs['neatlogs.llm.model_name'], 'gpt-4o-mini');
  assert.equal(attrs['neatlogs.llm.token_count.prompt'], '42');
});

test('errors are highlighted in the trace view', async () => {
  await page.goto(`${server.base}/trace/${seeded.failed}`);
  await page.waitForSelector('#span-tree');
  const errorRows = await page.$$eval('#span-tree tr.row-error .span-button', (els) => els.map((e) => e.textContent));
  assert.deepEqual(errorRows, ['issue-refund']);
  const tree = await page.$$eval('#span-tree tbody tr', (trs) => trs.map((tr) => [tr.querySelector('.span-button').textContent, Number(tr.dataset.depth)]));
  assert.deepEqual(tree, [
    ['refund-request', 0], ['classify-intent', 1], ['refund-agent', 1],
    ['search-orders', 2], ['issue-refund', 2], ['draft-reply', 2],
  ]);
  await page.getByRole('button', { name: 'issue-refund' }).click();
  const notice = page.locator('#span-details .notice-error');
  await notice.waitFor();
  assert.match(await notice.textContent(), /payments API timed out after 1200 ms/);
  await page.screenshot({ path: join(SCREENSHOTS, 'trace.png'), fullPage: true });
});

test('Users shows per-user numbers, sorts, links to the user\'s traces, and charts the top users', async () => {
  await page.goto(`${server.base}/`);
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Users' }).click();
  await page.waitForSelector('#users tbody tr');
  const report = await server.api('/api/end-users');
  const cells = await page.$$eval('#users tbody tr', (trs) => trs.map((tr) => Object.fromEntries(
    [...tr.querySelectorAll('td')].map((td) => [td.dataset.col, td.textContent]),
  )));
  assert.equal(cells.length, report.users.length);
  for (const user of report.users) {
    const row = cells.find((c) => c.end_user === user.end_user);
    assert.ok(row, `${user.end_user} listed`);
    assert.equal(row.traces, user.traces.toLocaleString('en-US'));
    assert.equal(row.sessions, String(user.sessions));
    // Tokens from the SDK's usage metrics are exact, and say so.
    const exact = user.usage_source === 'usage' ? ' exact' : '';
    assert.equal(row.tokens, (user.input_tokens + user.output_tokens).toLocaleString('en-US') + exact);
    assert.equal(row.errors, String(user.errors));
  }
  assert.ok(report.users.some((u) => u.usage_source === 'usage'), 'the quickstart sent its usage metrics');
  const top = [...report.users].sort((a, b) => b.traces - a.traces || a.end_user.localeCompare(b.end_user));
  assert.equal(cells[0].end_user, top[0].end_user, 'sorted by traces, most first');
  const u812 = cells.find((c) => c.end_user === 'u_812');
  assert.equal(u812.errors, '1');
  assert.match(u812.metadata, /plan: pro/);

  const strips = await page.$$eval('#daily-chart .strip-row[data-end-user]', (els) => els.map((e) => e.dataset.endUser));
  assert.deepEqual(strips, top.slice(0, 5).map((u) => u.end_user));
  assert.ok(await page.locator('#daily-chart svg rect').count() > 5, 'bars drawn');
  await page.screenshot({ path: join(SCREENSHOTS, 'users.png'), fullPage: true });

  await page.getByRole('button', { name: 'End-user' }).click();
  await page.waitForSelector('th[aria-sort="ascending"] [data-sort="end_user"]');
  const ids = await page.$$eval('#users tbody tr', (trs) => trs.map((tr) => tr.dataset.endUser));
  assert.deepEqual(ids, [...ids].sort((a, b) => a.localeCompare(b)));

  await page.locator('#users').getByRole('link', { name: 'u_8041', exact: true }).click();
  await waitForRows(await apiIds('end_user is u_8041'));
  assert.deepEqual(await chips(), ['end_user is u_8041']);
});

test('Sessions lists each session\'s turns in order, with its end-user', async () => {
  await page.goto(`${server.base}/sessions?f=${encodeURIComponent('session is chat-u_17-today')}`);
  const session = page.locator('details.session[data-session="chat-u_17-today"]');
  await session.locator('table tbody tr').first().waitFor();
  assert.match(await session.locator('summary').textContent(), /End-user: u_17/);
  assert.match(await session.locator('summary').textContent(), /3 turns/);
  const turns = await session.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.querySelector('[data-col="time"] time').getAttribute('datetime')));
  assert.equal(turns.length, 3);
  assert.deepEqual(turns, [...turns].sort(), 'oldest turn first');

  const { traces } = await server.api('/api/traces', { filter: 'workflow is quickstart' });
  const quickstartSession = traces[0].session;
  await page.goto(`${server.base}/sessions`);
  const qs = page.locator(`details.session[data-session="${quickstartSession}"]`);
  await qs.waitFor();
  if (!(await qs.evaluate((d) => d.open))) await qs.locator('summary').click();
  await qs.locator('table tbody tr').first().waitFor();
  const names = await qs.locator('tbody tr [data-col="name"]').allTextContents();
  assert.deepEqual(names, ['answer-question', 'chat-completion', 'support-escalation']);
});

test('past the count limit the page says "10,000+ traces" and keeps paging', async () => {
  // A store of its own: 10,050 one-span traces in one OTLP/JSON request.
  const big = await startServer();
  try {
    const t0 = 1_777_636_800_000_000_000n;
    const spans = Array.from({ length: 10_050 }, (_, i) => ({
      traceId: (i + 1).toString(16).padStart(32, '0'),
      spanId: (i + 1).toString(16).padStart(16, '0'),
      name: 'bulk',
      kind: 1,
      startTimeUnixNano: String(t0 + BigInt(i) * 1_000_000n),
      endTimeUnixNano: String(t0 + BigInt(i) * 1_000_000n + 5_000_000n),
      attributes: [{ key: 'neatlogs.end_user.id', value: { stringValue: `u_${i % 7}` } }],
    }));
    const response = await fetch(`${big.base}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] }),
    });
    assert.equal(response.status, 200, await response.text());
    const counted = await big.api('/api/traces', { count: 'true', limit: 1 });
    assert.equal(counted.total, 10_000);
    assert.equal(counted.total_is_lower_bound, true);

    const tab = await browser.newPage();
    await tab.goto(`${big.base}/`);
    const summary = tab.locator('#trace-count');
    await summary.waitFor();
    assert.equal(await summary.textContent(), '10,000+ traces, showing 1–50');
    const pager = tab.getByRole('navigation', { name: 'Pages' });
    assert.match(await pager.textContent(), /Page 1 of 200\+/);
    await pager.getByRole('link', { name: 'Older →' }).click();
    await tab.waitForFunction(() => document.querySelector('#trace-count')?.textContent.includes('showing 51–100'));
    assert.equal(await tab.locator('#trace-count').textContent(), '10,050 traces, showing 51–100');
    await tab.close();
  } finally {
    await big.stop();
  }
});

test('an XSS end-user id and metadata value render as text, and nothing runs', async () => {
  await page.goto(`${server.base}/`);
  const row = page.locator(`#traces tr[data-trace-id="${seeded.xss}"]`);
  await row.waitFor();
  assert.equal(await row.locator('[data-col="end_user"]').textContent(), XSS);
  assert.equal(await page.locator('img[src="x"]').count(), 0);

  await row.locator('[data-col="end_user"] a').click();
  await waitForRows([seeded.xss]);
  assert.deepEqual(await chips(), [`end_user is "${XSS}"`]);
  assert.equal(await page.locator('.chip-value').textContent(), XSS);

  await page.goto(`${server.base}/trace/${seeded.xss}`);
  await page.waitForSelector('#root-end-user');
  assert.equal(await page.locator('#root-end-user').textContent(), XSS);
  const metadata = await page.$$eval('#root-metadata dd', (els) => els.map((e) => e.textContent));
  assert.ok(metadata.includes(XSS), JSON.stringify(metadata));

  await page.goto(`${server.base}/users`);
  const user = page.locator('#users tbody tr').filter({ has: page.locator('[data-col="end_user"]', { hasText: XSS }) });
  await user.waitFor();
  assert.match(await user.locator('[data-col="metadata"]').textContent(), /note: <img src=x onerror=alert\(1\)>/);
  assert.equal(await page.locator('img[src="x"]').count(), 0);

  // The metadata-key picker offers the XSS value as text too.
  await page.goto(`${server.base}/`);
  await page.getByLabel('Field', { exact: true }).selectOption('metadata');
  await page.getByLabel('Metadata key').fill('note');
  await page.waitForFunction((xss) => [...document.querySelectorAll('#filter-values option')].some((o) => o.value === xss), XSS);

  assert.deepEqual(browser.dialogs, [], 'no dialog fired');
  assert.deepEqual(browser.pageErrors, [], 'no script errors');
});
