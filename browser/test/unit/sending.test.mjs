import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Neatlogs, NeatlogsError } from 'neatlogs/browser';
import { setup, stubFetch } from './helpers.mjs';

test('trackAI POSTs the simple-trace JSON with the bearer key and keepalive', async () => {
  const { options, calls, errors } = setup({ project: 'my-app', endUser: 'u_812' });
  const nl = new Neatlogs(options);
  const before = Date.now();
  const result = await nl.trackAI({
    name: 'chat', model: 'gpt-4o', input: 'hi', output: { text: 'hello' }, tokens: { prompt: 3, completion: 5 }, durationMs: 40,
    metadata: { feature: 'support' },
  });
  assert.deepEqual(result, { sent: true, traceId: 'ab'.repeat(16) });
  assert.equal(errors.length, 0);
  assert.equal(calls.length, 1);
  const { url, init, body } = calls[0];
  assert.equal(url, 'http://127.0.0.1:4318/v1/trace');
  assert.equal(init.method, 'POST');
  assert.equal(init.keepalive, true);
  assert.equal(init.headers.authorization, 'Bearer nlw_test');
  assert.equal(init.headers['content-type'], 'application/json');
  assert.equal(body.name, 'chat');
  assert.equal(body.kind, 'llm');
  assert.equal(body.model, 'gpt-4o');
  assert.equal(body.input, 'hi');
  assert.deepEqual(body.output, { text: 'hello' });
  assert.deepEqual(body.tokens, { prompt: 3, completion: 5, total: 8 });
  assert.deepEqual(body.metadata, { feature: 'support' });
  assert.equal(body.project, 'my-app');
  assert.equal(body.duration_ms, 40);
  assert.equal(body.end - body.start, 40);
  assert.ok(body.end >= before && body.end <= Date.now());
});

test('trace() sends nested children; children without times run one after another', async () => {
  const { options, calls } = setup();
  const nl = new Neatlogs(options);
  await nl.trace({
    name: 'answer',
    children: [
      { name: 'search', kind: 'retriever', durationMs: 10 },
      { name: 'llm', kind: 'llm', durationMs: 30, children: [{ name: 'tool', kind: 'tool', durationMs: 5, error: new Error('timeout') }] },
    ],
  });
  const root = calls[0].body;
  assert.equal(root.kind, 'workflow');
  assert.equal(root.duration_ms, 40, 'the root lasts as long as its children');
  const [search, llm] = root.children;
  assert.equal(search.start, root.start);
  assert.equal(llm.start, search.end);
  assert.equal(llm.children[0].status, 'error');
  assert.equal(llm.children[0].error, 'timeout');
});

test('startTrace(..).finish(..) times a streamed call and sends it once', async (t) => {
  // A clock the test moves by hand: the SDK reads Date.now() at startTrace
  // and at finish, so the trace must span exactly the time in between.
  let clock = 1_780_000_000_000;
  t.mock.method(Date, 'now', () => clock);
  const { options, calls, errors } = setup({ endUser: 'u_812' });
  const nl = new Neatlogs(options);
  const handle = nl.startTrace({ name: 'stream', model: 'gpt-4o', input: 'hi', endUser: 'u_1' });
  handle.addChild({ name: 'tool', kind: 'tool', durationMs: 1 });
  clock += 25;
  const result = await handle.finish({ output: 'hello there', tokens: { prompt: 2, completion: 9 } });
  assert.equal(result.sent, true);
  assert.equal(handle.finished, true);
  const body = calls[0].body;
  assert.equal(body.kind, 'llm');
  assert.equal(body.output, 'hello there');
  assert.equal(body.start, 1_780_000_000_000);
  assert.equal(body.end, 1_780_000_000_025);
  assert.equal(body.duration_ms, 25);
  assert.equal(body.children[0].name, 'tool');
  assert.equal(body.attributes['neatlogs.end_user.id'], 'u_1');

  assert.deepEqual(await handle.finish(), { sent: false });
  assert.equal(calls.length, 1);
  assert.match(errors[0].message, /finish called twice/);
});

test('invalid arguments are reported through onError and not sent', async () => {
  const cases = [
    [{ name: '' }, /trace\.name must be a non-empty string/],
    [{ name: '   ' }, /trace\.name must be a non-empty string/],
    [{}, /trace\.name/],
    [null, /trace must be an object/],
    [{ name: 'x', endUserMetadata: 'plan=pro', endUser: 'u_1' }, /endUserMetadata must be a plain object, got a string/],
    [{ name: 'x', endUserMetadata: ['pro'], endUser: 'u_1' }, /got an array/],
    [{ name: 'x', endUserMetadata: null, endUser: 'u_1' }, /got null/],
    [{ name: 'x', metadata: 'oops' }, /trace\.metadata must be a plain object/],
    [{ name: 'x', children: [{ name: '' }] }, /trace\.children\[0\]\.name/],
    [{ name: 'x', children: [{ name: 'y', metadata: [1] }] }, /children\[0\]\.metadata must be a plain object/],
    [{ name: 'x', endUser: 'u'.repeat(257) }, /257 characters long; the maximum is 256/],
    [{ name: 'x', endUser: 'u_1\u0000' }, /control character at position 3/],
    [{ name: 'x', endUser: 'u_\u202eevil' }, /bidirectional-text control character \(U\+202E\) at position 2/],
    [{ name: 'x', endUser: 'u\u2066' }, /U\+2066/],
    [{ name: 'x', endUser: '   ' }, /blank or starts or ends with whitespace/],
    [{ name: 'x', endUser: ' u_pad ' }, /blank or starts or ends with whitespace/],
    [{ name: 'x', endUserId: 'u_pad\u00a0' }, /blank or starts or ends with whitespace/],
    [{ name: 'x', sessionId: ' s_1' }, /sessionId is blank or starts or ends with whitespace/],
    [{ name: 'x', endUser: 'u_1', endUserMetadata: { blob: 'x'.repeat(17000) } }, /bytes of JSON; the maximum is 16384/],
    [{ name: 'x', tokens: { prompt: -1 } }, /tokens\.prompt must be a non-negative number/],
    [{ name: 'x', durationMs: Number.NaN }, /durationMs/],
    [{ name: 'x', start: 'yesterday' }, /trace\.start must be a Date/],
  ];
  for (const [input, message] of cases) {
    const { options, calls, errors } = setup();
    const nl = new Neatlogs(options);
    const result = await nl.trackAI(input);
    assert.deepEqual(result, { sent: false }, JSON.stringify(input)?.slice(0, 80));
    assert.equal(calls.length, 0, 'nothing sent');
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof NeatlogsError);
    assert.equal(errors[0].kind, 'invalid_argument');
    assert.match(errors[0].message, message);
  }
});

test('a value that is not JSON is reported, not thrown', async () => {
  const { options, calls, errors } = setup();
  const nl = new Neatlogs(options);
  const circular = {};
  circular.self = circular;
  assert.deepEqual(await nl.trackAI({ name: 'x', input: circular }), { sent: false });
  assert.equal(calls.length, 0);
  assert.match(errors[0].message, /cannot be turned into JSON/);
});

test('transport errors go to onError and the call resolves', async () => {
  const { options, errors } = setup({}, () => { throw new TypeError('Failed to fetch'); });
  const nl = new Neatlogs(options);
  assert.deepEqual(await nl.trackAI({ name: 'chat' }), { sent: false });
  assert.equal(errors[0].kind, 'transport');
  assert.match(errors[0].message, /cannot reach http:\/\/127\.0\.0\.1:4318\/v1\/trace: Failed to fetch/);
});

test('an HTTP error status goes to onError with the status and the server message', async () => {
  const { options, errors } = setup({}, () => new Response(JSON.stringify({ error: 'missing or wrong API key' }), { status: 401 }));
  const nl = new Neatlogs(options);
  assert.deepEqual(await nl.trackAI({ name: 'chat' }), { sent: false });
  assert.equal(errors[0].kind, 'http');
  assert.equal(errors[0].status, 401);
  assert.match(errors[0].message, /answered 401: missing or wrong API key/);
});

test('an onError that throws does not break the app', async () => {
  const { options } = setup({ onError: () => { throw new Error('bad handler'); } }, () => { throw new Error('offline'); });
  const nl = new Neatlogs(options);
  assert.deepEqual(await nl.trackAI({ name: 'chat' }), { sent: false });
  assert.deepEqual(await nl.trackAI({ name: '' }), { sent: false });
});

test('without onError, errors are logged with console.warn', async (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  const { fetch } = stubFetch();
  const nl = new Neatlogs({ apiKey: 'k', endpoint: 'http://127.0.0.1:1', fetch });
  await nl.trackAI({ name: '' });
  assert.equal(warn.mock.callCount(), 1);
  assert.match(warn.mock.calls[0].arguments[0], /neatlogs: trace\.name/);
});

test('the global fetch is used when none is given', async (t) => {
  const { fetch, calls } = stubFetch();
  t.mock.method(globalThis, 'fetch', fetch);
  const nl = new Neatlogs({ apiKey: 'k', endpoint: 'http://127.0.0.1:1' });
  assert.equal((await nl.trackAI({ name: 'chat' })).sent, true);
  assert.equal(calls.length, 1);
});

test('bodies over the keepalive limit are sent without keepalive', async () => {
  const { options, calls } = setup();
  const nl = new Neatlogs(options);
  await nl.trackAI({ name: 'big', input: 'x'.repeat(70 * 1024) });
  assert.equal(calls[0].init.keepalive, false);
});

test('flush waits for traces in flight', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const { options, calls } = setup({}, async () => {
    await gate;
    return new Response('{}', { status: 200 });
  });
  const nl = new Neatlogs(options);
  let done = false;
  nl.trackAI({ name: 'slow' }).then(() => { done = true; });
  const flushed = nl.flush();
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(done, false);
  release();
  await flushed;
  assert.equal(done, true);
  assert.equal(calls.length, 1);
});
