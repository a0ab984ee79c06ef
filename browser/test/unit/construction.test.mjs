import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Neatlogs, NeatlogsError, DEFAULT_ENDPOINT } from 'neatlogs/browser';
import { setup } from './helpers.mjs';

test('a missing apiKey is a clear error at construction', () => {
  for (const options of [{}, { apiKey: '' }, { apiKey: '   ' }, { apiKey: 42 }]) {
    assert.throws(() => new Neatlogs(options), (e) => {
      assert.ok(e instanceof NeatlogsError);
      assert.equal(e.kind, 'config');
      assert.match(e.message, /apiKey is required/);
      return true;
    });
  }
  assert.throws(() => new Neatlogs(), /options are required/);
});

test('enabled: false needs no key and sends nothing', async () => {
  const { options, calls, errors } = setup({ apiKey: undefined, enabled: false });
  const nl = new Neatlogs(options);
  assert.deepEqual(await nl.trackAI({ name: 'chat' }), { sent: false });
  assert.deepEqual(await nl.trace({ name: '' }), { sent: false });
  assert.equal(calls.length, 0);
  assert.equal(errors.length, 0);
});

test('endpoints become {endpoint}/v1/trace', () => {
  const url = (endpoint) => new Neatlogs({ apiKey: 'k', endpoint }).url;
  assert.equal(url('http://127.0.0.1:4318'), 'http://127.0.0.1:4318/v1/trace');
  assert.equal(url('http://127.0.0.1:4318/'), 'http://127.0.0.1:4318/v1/trace');
  assert.equal(url('https://host/v1/trace'), 'https://host/v1/trace');
  assert.equal(url('https://host/proxy/neatlogs/'), 'https://host/proxy/neatlogs/v1/trace');
  assert.equal(new Neatlogs({ apiKey: 'k' }).url, `${DEFAULT_ENDPOINT}/v1/trace`);
  assert.equal(DEFAULT_ENDPOINT, 'https://ingest.neatlogs.com');
});

test('a bad endpoint is a clear error at construction', () => {
  assert.throws(() => new Neatlogs({ apiKey: 'k', endpoint: 'not a url' }), /endpoint is not a URL/);
  assert.throws(() => new Neatlogs({ apiKey: 'k', endpoint: 'ftp://host' }), /http or https/);
});

test('a bad default identity is reported and dropped, never guessed at', async () => {
  const { options, calls, errors } = setup({ endUser: 'u_1', endUserMetadata: ['pro'] });
  const nl = new Neatlogs(options);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].kind, 'invalid_argument');
  assert.match(errors[0].message, /options\.endUserMetadata must be a plain object, got an array/);
  await nl.trackAI({ name: 'chat' });
  const attrs = calls[0].body.attributes;
  assert.equal(attrs['neatlogs.end_user.id'], 'u_1', 'the id is kept');
  assert.equal(attrs['neatlogs.end_user.metadata'], undefined, 'the bad metadata is not');

  const bad = setup({ endUser: 'u\n1', endUserMetadata: { plan: 'pro' } });
  const nl2 = new Neatlogs(bad.options);
  assert.match(bad.errors[0].message, /control character/);
  await nl2.trackAI({ name: 'chat' });
  const attrs2 = bad.calls[0].body.attributes ?? {};
  assert.equal(attrs2['neatlogs.end_user.id'], undefined, 'no default end-user at all');
  assert.equal(attrs2['neatlogs.end_user.metadata'], undefined, "and so none of its metadata");

  // Blank, padded and bidi-override defaults are invalid the same way.
  for (const endUser of ['   ', ' u_pad ', 'u_\u202eevil']) {
    const b = setup({ endUser });
    const client = new Neatlogs(b.options);
    assert.equal(b.errors.length, 1, JSON.stringify(endUser));
    await client.trackAI({ name: 'chat' });
    assert.equal((b.calls[0].body.attributes ?? {})['neatlogs.end_user.id'], undefined, JSON.stringify(endUser));
  }
});

test('the package exports neatlogs/browser as ESM with type declarations', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(pkg.name, 'neatlogs');
  assert.equal(pkg.type, 'module');
  assert.deepEqual(pkg.exports['./browser'], { types: './dist/browser.d.ts', import: './dist/browser.js' });
  assert.deepEqual(Object.keys(pkg.dependencies ?? {}), [], 'zero runtime dependencies');
  const dts = readFileSync(new URL('../../dist/browser.d.ts', import.meta.url), 'utf8');
  assert.match(dts, /Neatlogs/);
  assert.match(dts, /NeatlogsOptions/);
});
