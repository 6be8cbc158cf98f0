// The NINE Cloud community chat (contract §5), exactly as the front end uses it: the legacy
// path, long-polling (production never upgraded) and websocket, `login` / `sendMessage` and the
// broadcast `message` shapes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { URL, ask, closeAll, connect, connectAs, http, newUser, record, until } from './helpers.mjs';

const LEGACY = { path: '/community/chat/socket.io' };
after(closeAll);

const name = (adj) => `${adj} 구름. ${crypto.randomUUID()}`;

for (const transports of [['polling'], ['websocket']]) {
  test(`login and sendMessage over ${transports[0]} at /community/chat/socket.io`, async () => {
    const a = await connect(URL, { ...LEGACY, transports });
    const b = await connect(URL, { ...LEGACY, transports });
    const seenA = record(a, 'message');
    const seenB = record(b, 'message');
    const nameA = name('행복한');

    const login = await ask(a, 'login', nameA);
    assert.equal(login.ok, true);
    assert.deepEqual(Object.keys(login.data).sort(), ['__v', '_id', 'name', 'online', 'token']);
    assert.equal(login.data.name, nameA);
    assert.equal(login.data.token, a.id, 'token is the socket id, as the original stored it');
    assert.equal(login.data.online, true);
    assert.match(login.data._id, /^[0-9a-f]{24}$/);
    // The join broadcast goes out before the acknowledgement, to everyone, sender included.
    assert.deepEqual(seenA.at(-1), {
      chat: `${nameA.split('.')[0]} has joined the chat room`,
      user: { id: null, name: 'system' },
    });
    await until(() => seenB.some((m) => m.chat?.startsWith('행복한 구름 has joined')), 'join seen by b');

    assert.deepEqual(await ask(a, 'sendMessage', '안녕하세요 <b>모두</b>'), { ok: true });
    await until(() => seenB.some((m) => m.chat === '안녕하세요 <b>모두</b>'), 'message at b');
    const got = seenB.find((m) => m.chat === '안녕하세요 <b>모두</b>');
    assert.deepEqual(Object.keys(got).sort(), ['__v', '_id', 'chat', 'user']);
    assert.match(got._id, /^[0-9a-f]{24}$/);
    assert.equal(got.__v, 0);
    assert.deepEqual(got.user, { id: login.data._id, name: nameA });
    assert.ok(seenA.some((m) => m._id === got._id), 'the sender gets its own message too');

    // Leaving: the others see "<name> has left the chat room".
    a.disconnect();
    await until(() => seenB.some((m) => m.chat === `${nameA.split('.')[0]} has left the chat room`), 'leave');
  });
}

test('browsers may long-poll across origins: CORS with credentials for the configured origins', async () => {
  const origin = 'http://localhost:3000';
  const preflight = await fetch(`${URL}/community/chat/socket.io/?EIO=4&transport=polling`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  assert.ok(preflight.status < 300, `preflight ${preflight.status}`);
  assert.equal(preflight.headers.get('access-control-allow-origin'), origin);
  assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
  const open = await fetch(`${URL}/community/chat/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
  assert.equal(open.status, 200);
  assert.equal(open.headers.get('access-control-allow-origin'), origin, 'one value, this origin');
  assert.equal(open.headers.get('access-control-allow-credentials'), 'true');
  assert.match(await open.text(), /^0\{"sid":/, 'an Engine.IO v4 open packet');
  const other = await fetch(`${URL}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://evil.example' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  // REST keeps exactly one CORS header too.
  const rest = await fetch(`${URL}/health`, { headers: { origin } });
  assert.equal(rest.headers.get('access-control-allow-origin'), origin);
  assert.match(rest.headers.get('access-control-expose-headers') ?? '', /refreshtoken/i);
});

test('a polling client upgrades to websocket at the legacy path', async () => {
  const s = await connect(URL, LEGACY);
  await until(() => s.io.engine.transport.name === 'websocket', 'upgrade');
  assert.equal((await ask(s, 'login', name('조용한'))).ok, true);
});

test('bad input is answered with ok:false and stores nothing', async () => {
  const s = await connect(URL, LEGACY);
  const seen = record(s, 'message');
  assert.deepEqual(await ask(s, 'sendMessage', 'before login'), {
    ok: false,
    error: "send 'login' with your name before 'sendMessage'",
  });
  assert.deepEqual(await ask(s, 'login', 42), { ok: false, error: 'User must type name' });
  assert.deepEqual(await ask(s, 'login', ''), { ok: false, error: 'User must type name' });
  assert.equal((await ask(s, 'login', 'x'.repeat(201))).ok, false);
  assert.equal((await ask(s, 'login', name('씩씩한'))).ok, true);
  const tooLong = await ask(s, 'sendMessage', '가'.repeat(1001));
  assert.equal(tooLong.ok, false);
  assert.match(tooLong.error, /longer than 1000/);
  assert.equal((await ask(s, 'sendMessage', { text: 'object' })).ok, false);
  assert.equal((await ask(s, 'sendMessage', '   ')).ok, false);
  await ask(s, 'sendMessage', 'the only one');
  await until(() => seen.some((m) => m.chat === 'the only one'), 'the valid message');
  assert.equal(seen.filter((m) => m._id).length, 1, 'refused messages were not broadcast');
});

test('the community chat is the lobby channel: stored, in its history, seen by both dialects', async () => {
  const user = await newUser('로비손님');
  const list = await http(URL, 'GET', '/channels', user.token);
  const lobby = list.body.channels.find((c) => c.lobby);
  assert.equal(lobby.room, 'room:lobby');

  const member = await connectAs(user);
  const live = record(member, 'channel:message');
  const guest = await connect(URL, LEGACY);
  const legacySeen = record(guest, 'message');
  const guestName = name('수줍은');
  await ask(guest, 'login', guestName);
  const text = `from the community chat ${crypto.randomUUID()}`;
  assert.deepEqual(await ask(guest, 'sendMessage', text), { ok: true });

  // The signed-in socket sits in room:lobby from connect and gets the channel shape live.
  await until(() => live.some((m) => m.text === text), 'lobby message in the channel dialect');
  const m = live.find((x) => x.text === text);
  assert.equal(m.channelId, lobby.id);
  assert.equal(m.userId, null);
  assert.equal(m.nickname, guestName);
  assert.ok(Number.isInteger(m.seq) && m.seq > 0);
  assert.ok(!Number.isNaN(Date.parse(m.createdAt)));

  // ...and it is in the lobby's stored history, with its time.
  const join = await ask(member, 'channel:join', { channelId: lobby.id });
  assert.equal(join.ok, true);
  assert.ok(join.messages.some((x) => x.id === m.id && x.text === text));
  const log = await http(URL, 'GET', `/channels/${lobby.id}/messages?limit=5`, user.token);
  assert.ok(log.body.messages.some((x) => x.id === m.id));

  // A channel-dialect message in the lobby reaches the NINE Cloud clients in their shape.
  const ack = await ask(member, 'channel:message', { channelId: lobby.id, text: 'hello guests' });
  assert.equal(ack.ok, true);
  await until(() => legacySeen.some((x) => x.chat === 'hello guests'), 'legacy shape of a member message');
  const legacy = legacySeen.find((x) => x.chat === 'hello guests');
  assert.equal(legacy._id, ack.id);
  assert.equal(legacy.user.name, '로비손님');
});

test('a guest cannot be "system" nor take the name another guest holds', async () => {
  const a = await connect(URL, LEGACY);
  const b = await connect(URL, LEGACY);
  for (const reserved of ['system', ' System ', 'SYSTEM. 1234']) {
    const r = await ask(a, 'login', reserved);
    assert.equal(r.ok, false, reserved);
    assert.match(r.error, /reserved/);
  }
  const taken = name('단짝');
  const first = await ask(a, 'login', taken);
  assert.equal(first.data.name, taken);
  const second = await ask(b, 'login', taken);
  assert.equal(second.ok, true);
  assert.equal(second.data.name, `${taken} (2)`);
  assert.notEqual(second.data._id, first.data._id, 'the second guest is someone else');
  // Logging in again under one's own name keeps it.
  assert.equal((await ask(a, 'login', taken)).data.name, taken);
  // Once the first guest leaves, the name is free again.
  a.disconnect();
  const c = await connect(URL, LEGACY);
  let again;
  for (let i = 0; i < 50; i++) {
    again = await ask(c, 'login', taken);
    if (again.data.name === taken) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(again.data.name, taken);
});
