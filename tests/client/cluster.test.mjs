// Two server processes sharing Redis (socketioxide-redis) and the stores: clients on different
// instances share rooms, messages, presence, typing, online counts and the community chat.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { URL, URL_2, ask, closeAll, connect, connectAs, http, newUser, record, until } from './helpers.mjs';

after(closeAll);
const skip = !URL_2 && 'NC_URL_2 not set: no second instance';

test('a channel spans two instances', { skip }, async () => {
  const alice = await newUser('일번', URL);
  const bob = await newUser('이번', URL_2);
  const ch = (await http(URL, 'POST', '/channels', alice.token, { name: 'cluster' })).body.channel;
  const a = await connectAs(alice, URL);
  const b = await connectAs(bob, URL_2);
  const liveA = record(a, 'channel:message');
  const liveB = record(b, 'channel:message');
  const presenceA = record(a, 'channel:presence');
  const typingA = record(a, 'channel:typing');

  await ask(a, 'channel:join', { channelId: ch.id });
  const joinB = await ask(b, 'channel:join', { channelId: ch.id });
  assert.deepEqual(joinB.online.map((u) => u.userId).sort(), [alice.userId, bob.userId].sort(), 'online spans instances');
  const here = (p) => p.channelId === ch.id && p.userId === bob.userId;
  await until(() => presenceA.some((p) => here(p) && p.status === 'join'), 'presence across');

  for (const [url, token] of [[URL, alice.token], [URL_2, bob.token]]) {
    const r = await http(url, 'GET', `/channels/${ch.id}`, token);
    assert.equal(r.body.channel.online, 2, `online count at ${url}`);
  }

  await ask(b, 'channel:typing', { channelId: ch.id, typing: true });
  await until(() => typingA.some((t) => t.userId === bob.userId), 'typing across');

  const acks = [];
  for (let i = 0; i < 6; i++) {
    acks.push(await ask(i % 2 ? b : a, 'channel:message', { channelId: ch.id, text: `x${i}` }));
  }
  assert.deepEqual(acks.map((x) => x.seq), [1, 2, 3, 4, 5, 6], 'one sequence across instances');
  await until(() => liveA.length === 6 && liveB.length === 6, 'every message at both');
  assert.deepEqual(liveA.map((m) => m.text).sort(), liveB.map((m) => m.text).sort());

  b.disconnect();
  await until(() => presenceA.some((p) => here(p) && p.status === 'leave'), 'leave across');
  const r = await http(URL, 'GET', `/channels/${ch.id}`, alice.token);
  assert.equal(r.body.channel.online, 1);
});

test('the community chat spans two instances', { skip }, async () => {
  const legacy = { path: '/community/chat/socket.io' };
  const one = await connect(URL, legacy);
  const two = await connect(URL_2, legacy);
  const seenOne = record(one, 'message');
  await ask(one, 'login', `첫째. ${crypto.randomUUID()}`);
  await ask(two, 'login', `둘째. ${crypto.randomUUID()}`);
  await until(() => seenOne.some((m) => m.chat === '둘째 has joined the chat room'), 'join from instance 2');
  assert.deepEqual(await ask(two, 'sendMessage', 'across the cluster'), { ok: true });
  await until(() => seenOne.some((m) => m.chat === 'across the cluster'), 'message from instance 2');
});
