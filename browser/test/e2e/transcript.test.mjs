// The trace page's transcript view, in Chromium: an LLM span recorded the
// way the official Python SDK writes it (`neatlogs.llm.*`) and one from an
// OpenInference instrumentation (`llm.*`) show their messages by role, the
// reply, the tool calls, model, tokens and TTFT; a tool span's JSON input
// is pretty-printed. The spans are posted as OTLP/JSON to a real
// `neatlogs serve`. The screenshot goes to the build directory
// (target/screenshots/transcript.png), never into the source tree;
// scripts/screenshots.sh points NEATLOGS_SCREENSHOTS_DIR at docs/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, startServer, TARGET } from './harness.mjs';

const SCREENSHOTS = process.env.NEATLOGS_SCREENSHOTS_DIR || join(TARGET, 'screenshots');
const XSS = '<img src=x onerror=alert(1)>';
const TRACE_ID = '5eed'.repeat(8);
const MS = 1_000_000n;
const T0 = BigInt(Date.now() - 60_000) * MS;

let server;
let browser;
let page;

/** An OTLP/JSON attribute. */
function attr(key, value) {
  if (typeof value === 'string') return { key, value: { stringValue: value } };
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  if (Number.isInteger(value)) return { key, value: { intValue: String(value) } };
  return { key, value: { doubleValue: value } };
}

function span(id, parent, name, kind, startMs, durationMs, attributes) {
  return {
    traceId: TRACE_ID,
    spanId: id,
    parentSpanId: parent || '',
    name,
    kind: 1,
    startTimeUnixNano: String(T0 + BigInt(startMs) * MS),
    endTimeUnixNano: String(T0 + BigInt(startMs + durationMs) * MS),
    attributes: [
      attr('openinference.span.kind', kind),
      attr('neatlogs.span.kind', kind.toLowerCase()),
      ...Object.entries(attributes).map(([k, v]) => attr(k, v)),
    ],
  };
}

/** The Python SDK's LLM span: what `neatlogs` 1.x writes for a wrapped OpenAI call. */
const PYTHON_LLM = {
  'neatlogs.llm.model_name': 'gpt-4o-mini',
  'neatlogs.llm.provider': 'openai',
  'neatlogs.llm.system': 'openai',
  'neatlogs.llm.token_count.prompt': 1200,
  'neatlogs.llm.token_count.completion': 300,
  'neatlogs.llm.token_count.total': 1500,
  'neatlogs.llm.input_messages.0.role': 'system',
  'neatlogs.llm.input_messages.0.content': 'You are a support agent for Acme.',
  'neatlogs.llm.input_messages.1.role': 'user',
  'neatlogs.llm.input_messages.1.content': `Where is order #1042? ${XSS}`,
  'neatlogs.llm.output_messages.0.role': 'assistant',
  'neatlogs.llm.output_messages.0.content': 'Let me look that up for you.',
  'neatlogs.llm.tool_calls.0.id': 'call_7',
  'neatlogs.llm.tool_calls.0.name': 'lookup_order',
  'neatlogs.llm.tool_calls.0.arguments': '{"order_id":1042,"fields":["status","eta"]}',
  'neatlogs.llm.finish_reason': 'tool_calls',
  'neatlogs.llm.metrics.ttft_ms': 212,
  'neatlogs.llm.is_streaming': true,
};

/** An OpenInference instrumentation's LLM span. */
const OPENINFERENCE_LLM = {
  'llm.model_name': 'claude-sonnet-4-5-20250929',
  'llm.provider': 'anthropic',
  'llm.token_count.prompt': 2000,
  'llm.token_count.completion': 150,
  'llm.token_count.total': 2150,
  'llm.input_messages.0.message.role': 'user',
  'llm.input_messages.0.message.content': 'And the weather in Paris?',
  'llm.input_messages.1.message.role': 'tool',
  'llm.input_messages.1.message.tool_call_id': 'call_7',
  'llm.input_messages.1.message.content': '{"status":"shipped"}',
  'llm.output_messages.0.message.role': 'assistant',
  'llm.output_messages.0.message.content': 'Checking the forecast.',
  'llm.output_messages.0.message.tool_calls.0.tool_call.id': 'toolu_1',
  'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'get_weather',
  'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"city":"Paris","unit":"celsius"}',
};

const TOOL_INPUT = '{"order_id":1042,"fields":["status","eta"]}';

before(async () => {
  server = await startServer();
  const body = {
    resourceSpans: [{
      resource: { attributes: [attr('service.name', 'support-chat'), attr('neatlogs.workflow_name', 'support-chat')] },
      scopeSpans: [{
        scope: { name: 'neatlogs' },
        spans: [
          span('1000000000000001', null, 'support-turn', 'WORKFLOW', 0, 3000, {
            'neatlogs.end_user.id': 'u_transcript',
            'enduser.id': 'u_transcript',
            'input.value': '{"question":"Where is order #1042?"}',
            'input.mime_type': 'application/json',
          }),
          span('1000000000000002', '1000000000000001', 'openai.chat', 'LLM', 100, 900, PYTHON_LLM),
          span('1000000000000003', '1000000000000001', 'lookup_order', 'TOOL', 1050, 300, {
            'input.value': TOOL_INPUT,
            'input.mime_type': 'application/json',
            'output.value': 'shipped, arrives Friday',
            'output.mime_type': 'text/plain',
          }),
          span('1000000000000004', '1000000000000001', 'anthropic.messages', 'LLM', 1400, 1400, OPENINFERENCE_LLM),
        ],
      }],
    }],
  };
  const response = await fetch(`${server.base}/v1/traces`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
  browser = await launchBrowser();
  page = await browser.newPage();
  mkdirSync(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openSpan(name) {
  await page.goto(`${server.base}/trace/${TRACE_ID}`);
  await page.waitForSelector('#span-tree');
  await page.getByRole('button', { name, exact: true }).click();
  await page.locator('#span-details').getByRole('heading', { name: new RegExp(name) }).waitFor();
}

const texts = (selector) => page.$$eval(selector, (els) => els.map((e) => e.textContent));
const facts = () => page.$$eval('#llm-facts dd[data-fact]', (dds) => Object.fromEntries(dds.map((d) => [d.dataset.fact, d.textContent])));

test('a Python-SDK LLM span reads as a transcript: messages by role, reply, tool call, model, tokens, TTFT', async () => {
  await openSpan('openai.chat');
  assert.deepEqual(await page.$$eval('#input-messages > li', (lis) => lis.map((li) => li.dataset.role)), ['system', 'user']);
  assert.deepEqual(await texts('#input-messages .message-content'), [
    'You are a support agent for Acme.', `Where is order #1042? ${XSS}`,
  ]);
  assert.deepEqual(await page.$$eval('#output-messages > li', (lis) => lis.map((li) => li.dataset.role)), ['assistant']);
  assert.deepEqual(await texts('#output-messages .message-content'), ['Let me look that up for you.']);
  assert.deepEqual(await texts('#tool-calls .tool-name'), ['lookup_order']);
  assert.equal((await texts('#tool-calls .tool-args'))[0], JSON.stringify(JSON.parse(PYTHON_LLM['neatlogs.llm.tool_calls.0.arguments']), null, 2));

  const shown = await facts();
  assert.equal(shown.model, 'gpt-4o-mini');
  assert.equal(shown.tokens, '1,200 prompt · 300 completion · 1,500 total');
  assert.equal(shown.ttft, '212ms');
  assert.equal(shown.finish, 'tool_calls');
  assert.match(shown.provider, /openai/);
  // The API's cost for this span, as the page formats it, from the price table.
  const { spans } = await server.api(`/api/traces/${TRACE_ID}`);
  const llm = spans.find((s) => s.name === 'openai.chat');
  assert.equal(llm.cost_source, 'table');
  assert.ok(llm.cost_usd > 0);
  assert.match(shown.cost, /^\$0\.\d+ \(price table\)$/);

  // The prompt's HTML is text: nothing ran, no image was made.
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  assert.deepEqual(browser.dialogs, []);
  await page.locator('#transcript').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SCREENSHOTS, 'transcript.png'), fullPage: true });
});

test('an OpenInference LLM span reads the same way, tool messages and tool calls included', async () => {
  await openSpan('anthropic.messages');
  assert.deepEqual(await page.$$eval('#input-messages > li', (lis) => lis.map((li) => li.dataset.role)), ['user', 'tool']);
  const contents = await texts('#input-messages .message-content');
  assert.equal(contents[0], 'And the weather in Paris?');
  assert.equal(contents[1], JSON.stringify({ status: 'shipped' }, null, 2), 'a JSON tool result is pretty-printed');
  assert.match((await texts('#input-messages .message-head'))[1], /answers call_7/);
  assert.deepEqual(await texts('#output-messages .message-content'), ['Checking the forecast.']);
  assert.deepEqual(await texts('#tool-calls .tool-name'), ['get_weather']);
  assert.equal((await texts('#tool-calls .tool-args'))[0], JSON.stringify({ city: 'Paris', unit: 'celsius' }, null, 2));
  const shown = await facts();
  assert.equal(shown.model, 'claude-sonnet-4-5-20250929');
  assert.equal(shown.tokens, '2,000 prompt · 150 completion · 2,150 total');
  assert.equal(shown.ttft, undefined, 'no TTFT recorded, none shown');
});

test('a tool span\'s JSON input is pretty-printed, its text output shown as text', async () => {
  await openSpan('lookup_order');
  assert.equal(await page.locator('#transcript').count(), 0, 'not an LLM span');
  const input = page.locator('#span-input');
  assert.equal(await input.getAttribute('data-format'), 'json');
  assert.equal(await input.textContent(), JSON.stringify(JSON.parse(TOOL_INPUT), null, 2));
  const output = page.locator('#span-output');
  assert.equal(await output.getAttribute('data-format'), 'text');
  assert.equal(await output.textContent(), 'shipped, arrives Friday');
});

test('the Users page shows the end-user\'s tokens and cost from both conventions', async () => {
  const report = await server.api('/api/end-users');
  const user = report.users.find((u) => u.end_user === 'u_transcript');
  assert.equal(user.input_tokens, 1200 + 2000);
  assert.equal(user.output_tokens, 300 + 150);
  assert.ok(user.cost_usd > 0, JSON.stringify(user));
  await page.goto(`${server.base}/users`);
  const row = page.locator('#users tbody tr[data-end-user="u_transcript"]');
  await row.waitFor();
  assert.equal(await row.locator('[data-col="tokens"]').textContent(), (3200 + 450).toLocaleString('en-US'));
  const cost = await row.locator('[data-col="cost"]').textContent();
  assert.match(cost, /^\$0\.\d+$/);
  assert.ok(Math.abs(Number(cost.slice(1)) - user.cost_usd) / user.cost_usd < 0.001, `${cost} vs ${user.cost_usd}`);
  assert.deepEqual(browser.pageErrors, [], 'no script errors');
});
