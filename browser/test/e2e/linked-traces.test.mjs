// Traces tied by an OTLP span link (a job the Rust SDK started with
// `neatlogs::new_trace` from inside a request) find each other in the
// traces page: the job says where it was started from, the request lists
// the traces started from it, and each is a link to the other.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startServer } from './harness.mjs';

const REQUEST = '4bf92f3577b34da6a3ce929d0e0e4736';
const JOB = '0af7651916cd43dd8448eb211c80319c';
const ELSEWHERE = '11111111111111111111111111111111';
let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** One OTLP/JSON request: a request trace and a job linked to it (and to a trace not stored here). */
function otlp() {
  const now = BigInt(Date.now()) * 1_000_000n;
  const span = (trace, id, name, user, links) => ({
    traceId: trace, spanId: id, name, kind: 1,
    startTimeUnixNano: String(now), endTimeUnixNano: String(now + 5_000_000n),
    attributes: [{ key: 'neatlogs.end_user.id', value: { stringValue: user } }],
    links,
  });
  return {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'linked-demo' } }] },
      scopeSpans: [{
        spans: [
          span(REQUEST, '00f067aa0ba902b7', 'request', 'u_1', []),
          span(JOB, 'b7ad6b7169203331', 'export-job', 'u_2', [
            { traceId: REQUEST, spanId: '00f067aa0ba902b7' },
            { traceId: ELSEWHERE, spanId: '2222222222222222' },
          ]),
        ],
      }],
    }],
  };
}

test('a job and the request it was started from link to each other', async () => {
  const response = await fetch(new URL('/v1/traces', server.base), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(otlp()),
  });
  assert.equal(response.status, 200, await response.text());

  const job = await server.api(`/api/traces/${JOB}`);
  assert.deepEqual(job.links.map((l) => [l.other_trace_id, l.stored]), [[ELSEWHERE, false], [REQUEST, true]]);
  const request = await server.api(`/api/traces/${REQUEST}`);
  assert.deepEqual(request.linked_from.map((l) => l.other_trace_id), [JOB]);

  const page = await browser.newPage();
  await page.goto(`${server.base}/trace/${JOB}`);
  await page.waitForSelector('#linked-traces');
  const from = await page.$$eval('#linked-from-here li', (lis) => lis.map((li) => li.textContent));
  assert.deepEqual(from, [`${ELSEWHERE} (not stored here)`, REQUEST]);
  assert.equal(await page.locator(`#linked-from-here a`).count(), 1, 'only a stored trace is a link');
  await page.locator('#linked-from-here a').click();
  await page.waitForFunction((id) => location.pathname === `/trace/${id}`, REQUEST);
  await page.waitForSelector('#linked-to-here');
  assert.deepEqual(await page.$$eval('#linked-to-here li', (lis) => lis.map((li) => li.textContent)), [JOB]);
  assert.equal(await page.locator('#root-end-user').textContent(), 'u_1');
  await page.close();
});
