// The browser SDK end to end: a page served by `neatlogs serve` loads the
// built SDK in Chromium, sends traces for three end-users, and the JSON API
// then shows them with the right end-users and metadata.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startServer } from './harness.mjs';

const KEY = 'nlw_e2e_key';
let server;
let browser;

before(async () => {
  server = await startServer({ apiKey: KEY });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('traces sent from a real page arrive with the right end-users and metadata', async () => {
  const page = await browser.newPage();
  const requests = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/v1/trace')) requests.push({ headers: request.headers(), body: request.postDataJSON() });
  });
  await page.goto(`${server.base}/__test/test/fixtures/sdk.html`);
  await page.waitForFunction(() => typeof window.runScenario === 'function');
  const { results, errors } = await page.evaluate((key) => window.runScenario(key), KEY);

  // What the page saw.
  for (const name of ['byDefault', 'perCall', 'nested', 'streamed']) {
    assert.equal(results[name].sent, true, `${name}: ${JSON.stringify(results[name])}`);
    assert.match(results[name].traceId, /^[0-9a-f]{32}$/);
  }
  for (const name of ['emptyName', 'badMetadata', 'wrongKey']) assert.deepEqual(results[name], { sent: false }, name);
  assert.deepEqual(errors.map((e) => [e.kind, e.status]), [['invalid_argument', null], ['invalid_argument', null], ['http', 401]]);
  assert.match(errors[0].message, /trace\.name must be a non-empty string/);
  assert.match(errors[1].message, /endUserMetadata must be a plain object, got a string/);

  // What went over the wire: bearer key, JSON, identity on the root only.
  assert.equal(requests.length, 5, 'four traces and the wrong-key attempt; invalid calls were not sent');
  for (const r of requests.slice(0, 4)) {
    assert.equal(r.headers.authorization, `Bearer ${KEY}`);
    assert.match(r.headers['content-type'], /application\/json/);
  }

  // What the collector stored.
  const { traces } = await server.api('/api/traces', { filter: 'workflow is browser-demo' });
  assert.equal(traces.length, 4);
  const byId = new Map(traces.map((t) => [t.trace_id, t]));
  const expect = (id, endUser, metadata, session) => {
    const t = byId.get(id);
    assert.ok(t, `trace ${id} stored`);
    assert.equal(t.end_user, endUser);
    assert.deepEqual(t.end_user_metadata, metadata);
    assert.equal(t.session, session);
  };
  expect(results.byDefault.traceId, 'u_812', { plan: 'pro', seats: 3 }, 'sess_browser');
  expect(results.perCall.traceId, 'u_999', { plan: 'enterprise' }, 'sess_browser');
  expect(results.nested.traceId, 'u_8041', { plan: 'free' }, 'sess_8041');
  expect(results.streamed.traceId, 'u_812', { plan: 'pro', seats: 3 }, 'sess_browser');

  const nested = await server.api(`/api/traces/${results.nested.traceId}`);
  assert.deepEqual(nested.spans.map((s) => s.name).sort(), ['gpt-4o', 'lookup-order', 'search-docs', 'support-turn']);
  const llm = nested.spans.find((s) => s.name === 'gpt-4o');
  assert.equal(llm.attributes['neatlogs.end_user.id'], undefined, "a child's end-user is not sent");
  assert.equal(nested.trace.status, 'error');
  assert.equal(nested.spans.find((s) => s.name === 'lookup-order').status_message, 'order service timed out');
  assert.equal(nested.trace.input_tokens, 50);

  const streamed = await server.api(`/api/traces/${results.streamed.traceId}`);
  // Timed by the SDK between startTrace and finish: inside the window the
  // page saw around those calls, and not empty (chunks were awaited).
  // The SDK and the page both read Date.now() (whole milliseconds). The
  // stored nanoseconds are exact, but a JSON number past 2^53 comes back
  // with up to 256 ns of float error: compare at the clock's own
  // resolution, whole milliseconds, never the raw quotient.
  const streamStart = Math.round(streamed.trace.start_unix_nano / 1e6);
  const streamEnd = Math.round((streamed.trace.start_unix_nano + streamed.trace.duration_ms * 1e6) / 1e6);
  const { streamWindow } = results;
  assert.ok(
    streamWindow.start <= streamStart && streamEnd <= streamWindow.end,
    JSON.stringify({ streamStart, streamEnd, streamWindow }),
  );
  assert.ok(streamEnd > streamStart, `streamed trace ${JSON.stringify(streamed.trace)}`);
  assert.equal(streamed.spans[0].attributes['output.value'], 'Once upon a time.');

  // The per-user view agrees, and the filter language finds them.
  const { users } = await server.api('/api/end-users', { filter: 'workflow is browser-demo', sort: 'end_user' });
  assert.deepEqual(users.map((u) => [u.end_user, u.traces, u.metadata]), [
    ['u_8041', 1, { plan: 'free' }],
    ['u_812', 2, { plan: 'pro', seats: 3 }],
    ['u_999', 1, { plan: 'enterprise' }],
  ]);
  const pro = await server.api('/api/traces', { filter: 'end_user starts with u_8 and metadata:plan is pro' });
  assert.deepEqual(pro.traces.map((t) => t.name).sort(), ['chat', 'stream-chat']);
  assert.deepEqual(browser.dialogs, []);
  assert.deepEqual(browser.pageErrors, []);
});
