import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Neatlogs } from 'neatlogs/browser';
import { setup } from './helpers.mjs';

const ID = 'neatlogs.end_user.id';
const META = 'neatlogs.end_user.metadata';
const SESSION = 'neatlogs.session.id';

test('the client default end-user and its metadata go on the root', async () => {
  const { options, calls } = setup({ endUser: 'u_812', endUserMetadata: { plan: 'pro' }, sessionId: 's_1' });
  const nl = new Neatlogs(options);
  await nl.trackAI({ name: 'chat', model: 'gpt-4o' });
  const attrs = calls[0].body.attributes;
  assert.equal(attrs[ID], 'u_812');
  assert.equal(attrs['enduser.id'], 'u_812');
  assert.deepEqual(JSON.parse(attrs[META]), { plan: 'pro' });
  assert.equal(attrs[SESSION], 's_1');
});

test('a per-call end-user wins, with its own metadata and never the default one', async () => {
  const { options, calls } = setup({ endUser: 'u_812', endUserMetadata: { plan: 'pro' } });
  const nl = new Neatlogs(options);
  await nl.trackAI({ name: 'chat', endUser: 'u_999' });
  await nl.trackAI({ name: 'chat', endUser: 'u_998', endUserMetadata: { plan: 'free' } });
  assert.equal(calls[0].body.attributes[ID], 'u_999');
  assert.equal(calls[0].body.attributes[META], undefined, "the default's metadata stays with the default");
  assert.equal(calls[1].body.attributes[ID], 'u_998');
  assert.deepEqual(JSON.parse(calls[1].body.attributes[META]), { plan: 'free' });
});

test('endUserMetadata on a call without endUser is ignored: the default user keeps its own', async () => {
  const { options, calls, errors } = setup({ endUser: 'u_812', endUserMetadata: { plan: 'pro' } });
  const nl = new Neatlogs(options);
  await nl.trackAI({ name: 'chat', endUserMetadata: { plan: 'free' } });
  assert.equal(calls[0].body.attributes[ID], 'u_812');
  assert.deepEqual(JSON.parse(calls[0].body.attributes[META]), { plan: 'pro' });

  const bare = setup();
  await new Neatlogs(bare.options).trackAI({ name: 'chat', endUserMetadata: { plan: 'free' } });
  assert.equal(bare.calls[0].body.attributes, undefined, 'no end-user, so no metadata either');
  assert.equal(errors.length + bare.errors.length, 0);
});

test('endUserId is an alias, on the client and per call; an empty id counts as not given', async () => {
  const { options, calls, errors } = setup({ endUserId: 'u_1' });
  const nl = new Neatlogs(options);
  await nl.trackAI({ name: 'a' });
  await nl.trackAI({ name: 'b', endUserId: 'u_2' });
  await nl.trackAI({ name: 'c', endUser: '' });
  assert.deepEqual(calls.map((c) => c.body.attributes[ID]), ['u_1', 'u_2', 'u_1']);
  assert.equal(errors.length, 0);

  await nl.trackAI({ name: 'd', endUser: 'u_3', endUserId: 'u_4' });
  assert.equal(calls.length, 3, 'conflicting aliases are not sent');
  assert.match(errors[0].message, /both endUser .* and endUserId/);
});

test('a per-call session wins over the default', async () => {
  const { options, calls } = setup({ sessionId: 's_default' });
  const nl = new Neatlogs(options);
  await nl.trackAI({ name: 'a' });
  await nl.trackAI({ name: 'b', sessionId: 's_call' });
  assert.deepEqual(calls.map((c) => c.body.attributes[SESSION]), ['s_default', 's_call']);
});

test("a child's end-user is ignored: one end-user per trace, on the root", async () => {
  const { options, calls, errors } = setup({ endUser: 'u_812' });
  const nl = new Neatlogs(options);
  await nl.trace({
    name: 'turn',
    endUser: 'u_1',
    children: [
      { name: 'llm', kind: 'llm', endUser: 'u_evil', endUserMetadata: { plan: 'x' }, attributes: { [ID]: 'u_evil', 'enduser.id': 'u_evil', keep: 1 } },
    ],
  });
  assert.equal(errors.length, 0);
  const root = calls[0].body;
  assert.equal(root.attributes[ID], 'u_1');
  const child = root.children[0];
  assert.deepEqual(child.attributes, { keep: 1 }, 'identity keys stripped from the child');
  assert.equal(child.endUser, undefined);
});

test('identity attributes given by hand on the root cannot bypass resolution', async () => {
  const { options, calls } = setup({ endUser: 'u_812' });
  const nl = new Neatlogs(options);
  await nl.trackAI({ name: 'chat', attributes: { [ID]: 'u_spoof', [META]: '{"plan":"x"}', other: 'y' } });
  const attrs = calls[0].body.attributes;
  assert.equal(attrs[ID], 'u_812');
  assert.equal(attrs[META], undefined);
  assert.equal(attrs.other, 'y');
});

test('no end-user anywhere sends no identity attributes', async () => {
  const { options, calls } = setup();
  const nl = new Neatlogs(options);
  await nl.trackAI({ name: 'chat' });
  assert.equal(calls[0].body.attributes, undefined);
});
