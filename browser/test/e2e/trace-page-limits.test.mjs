// The trace view at its limits, in Chromium: a trace of 150,000 spans (a
// wide tree with a chain 10,000 deep in it) opens, and an address that is
// not valid percent-encoding says so instead of leaving the page blank.
// The time the big trace takes to show is printed, not asserted;
// BIG_TRACE_SPANS sets its size (150,000 by default).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startServer } from './harness.mjs';

const SPANS = Number(process.env.BIG_TRACE_SPANS || 150_000);
const CHAIN = 10_000;
const PER_REQUEST = 10_000;
const TRACE_ID = 'b16b16b16b16b16b16b16b16b16b16b1';
const T0 = 1_777_636_800_000_000_000n;

let server;
let browser;
let page;

const spanId = (n) => n.toString(16).padStart(16, '0');

/**
 * Span `n` (1-based) of the big trace: 1 is the root, 2..CHAIN+1 a chain
 * under it (each the child of the one before), the rest children of the
 * root in groups of 100 under "agent" spans.
 */
function bigSpan(n) {
  let parent;
  let name;
  if (n === 1) {
    name = 'big-root';
  } else if (n <= CHAIN + 1) {
    parent = n - 1;
    name = `chain-${n}`;
  } else if ((n - CHAIN - 2) % 100 === 0) {
    parent = 1;
    name = `agent-${n}`;
  } else {
    parent = n - ((n - CHAIN - 2) % 100);
    name = `tool-${n}`;
  }
  const start = T0 + BigInt(n) * 1000n;
  return {
    traceId: TRACE_ID,
    spanId: spanId(n),
    ...(parent ? { parentSpanId: spanId(parent) } : {}),
    name,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + (n === 1 ? BigInt(SPANS) * 1000n + 1000n : 500n)),
    attributes: n === 1 ? [{ key: 'neatlogs.end_user.id', value: { stringValue: 'u_big' } }] : [],
  };
}

before(async () => {
  server = await startServer();
  for (let from = 1; from <= SPANS; from += PER_REQUEST) {
    const spans = [];
    for (let n = from; n < from + PER_REQUEST && n <= SPANS; n++) spans.push(bigSpan(n));
    const body = JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'big' } }] }, scopeSpans: [{ spans }] }] });
    const response = await fetch(`${server.base}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(response.status, 200, await response.text());
  }
  browser = await launchBrowser();
  page = await browser.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test(`a trace of ${SPANS.toLocaleString('en-US')} spans opens, with its root and its span count`, async (t) => {
  const started = Date.now();
  await page.goto(`${server.base}/trace/${TRACE_ID}`);
  await page.waitForSelector('#span-tree tbody tr', { timeout: 240_000 });
  const elapsed = Date.now() - started;
  t.diagnostic(`${SPANS} spans: the span tree showed ${elapsed} ms after navigation`);
  console.log(`trace page: ${SPANS} spans shown in ${elapsed} ms`);

  const first = await page.$eval('#span-tree tbody tr', (tr) => [tr.querySelector('.span-button').textContent, Number(tr.dataset.depth)]);
  assert.deepEqual(first, ['big-root', 0]);
  assert.equal(await page.locator('#root-end-user').textContent(), 'u_big');
  const facts = await page.$$eval('.facts dt, .facts dd', (els) => els.map((e) => e.textContent));
  assert.equal(facts[facts.indexOf('Spans') + 1], '150,000');
  assert.match(await page.locator('#span-tree-shown').textContent(), /of 150,000 spans/);

  // More rows on request, in tree order: the chain comes first, one level
  // deeper each row.
  const shown = await page.locator('#span-tree tbody tr').count();
  await page.locator('#span-tree-more').click();
  await page.waitForFunction((n) => document.querySelectorAll('#span-tree tbody tr').length > n, shown);
  const depths = await page.$$eval('#span-tree tbody tr', (trs) => trs.map((tr) => Number(tr.dataset.depth)));
  assert.ok(depths.length > shown);
  assert.deepEqual(depths, depths.map((_, i) => i), 'the chain, in order');
  assert.deepEqual(browser.pageErrors, [], 'no script errors');
});

test('a trace address that is not valid percent-encoding says so', async () => {
  for (const path of ['/trace/%E0%A4%A', '/trace/%ZZ', '/trace/abc%']) {
    await page.goto(`${server.base}${path}`);
    const notice = page.locator('main .notice-error');
    await notice.waitFor({ timeout: 10_000 });
    assert.match(await notice.textContent(), /is not a valid trace id/, path);
    assert.equal(await page.locator('h1').textContent(), 'Trace not found', path);
  }
  assert.deepEqual(browser.pageErrors, [], 'no script errors');
});
