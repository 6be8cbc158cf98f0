// The Everyone's friend dialect, with clients written the way the original's users wrote
// theirs: no token, `enterChannel(roomId)`, `getMessage(message, nickname)` (two plain
// arguments, no acknowledgement) and a `sendMessage` listener; channels made and found over
// its REST routes. They share channels with channel-dialect and NINE Cloud clients, each of
// which gets every message once, in its own shape. With NC_URL_2 set, half of the clients
// are on the second instance (Redis adapter).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { URL, URL_2, ask, closeAll, connect, connectAs, newUser, record, sleep, until } from './helpers.mjs';

after(closeAll);
const OTHER = URL_2 || URL;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function rest(base, method, path, body, token) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* a text answer */ }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** A channel made as the original's clients make one, found by listing (no id comes back). */
async function newChannel(title) {
  const made = await rest(URL, 'POST', '/channel/create', { title, intro: 'hello' });
  assert.equal(made.status, 200);
  assert.equal(made.body, '채널 생성 완료');
  const all = await rest(OTHER, 'GET', '/channel/findAll');
  const found = all.body.find((c) => c.title === title);
  assert.ok(found, 'the new channel is listed');
  return found.id;
}

const texts = (list) => list.map((m) => m.message ?? m.text ?? m.chat);

test('original-style clients chat in the lobby and in channels beside the other dialects', async () => {
  const title = `friends-${randomUUID()}`;
  const room = await newChannel(title);

  // Two Everyone's friend clients (no token), a channel-dialect client, a NINE Cloud client.
  const ef1 = await connect(URL);
  const ef2 = await connect(OTHER);
  const got1 = record(ef1, 'sendMessage');
  const got2 = record(ef2, 'sendMessage');
  const legacy1 = record(ef1, 'message');
  const user = await newUser('채널족', OTHER);
  const ch = await connectAs(user, OTHER);
  const chLive = record(ch, 'channel:message');
  const chFriendShape = record(ch, 'sendMessage');
  const nine = await connect(URL, { path: '/community/chat/socket.io' });
  const nineLive = record(nine, 'message');
  const nineFriendShape = record(nine, 'sendMessage');
  await ask(nine, 'login', `구름. ${randomUUID()}`);
  await ask(ch, 'channel:join', { channelId: room });

  // In the lobby: a message from ef1 reaches ef2 (not ef1) and the NINE Cloud client.
  const hello = `lobby ${randomUUID()}`;
  ef1.emit('getMessage', hello, '철수');
  await until(() => texts(got2).includes(hello), 'sendMessage at the other client');
  const m = got2.find((x) => x.message === hello);
  assert.deepEqual(Object.keys(m).sort(), ['date', 'message', 'nickname']);
  assert.equal(m.nickname, '철수');
  assert.match(m.date, ISO);
  await until(() => nineLive.some((x) => x.chat === hello), 'the NINE Cloud lobby sees it');
  assert.equal(nineLive.find((x) => x.chat === hello).user.name, '철수');
  // And the NINE Cloud client's message reaches both original-style clients.
  const fromNine = `from nine ${randomUUID()}`;
  assert.deepEqual(await ask(nine, 'sendMessage', fromNine), { ok: true });
  await until(() => texts(got1).includes(fromNine) && texts(got2).includes(fromNine), 'NINE Cloud → Everyone\'s friend');
  assert.ok(!texts(got1).includes(hello), 'the sender gets no echo');
  // Until its first event a socket's dialect is unknown and the lobby reaches it in every
  // shape (the NINE Cloud client's join notice did); since then, only in its own.
  assert.ok(!legacy1.some((x) => x.chat === fromNine), 'fromNine came once, as sendMessage');
  const legacyBefore = legacy1.length;

  // Into the channel, then at once a message: no acknowledgement in between.
  const inChannel = `channel ${randomUUID()}`;
  ef1.emit('enterChannel', room);
  ef1.emit('getMessage', inChannel, '철수');
  await ask(ef2, 'enterChannel', room); // the test's own certainty; ef1 stays original-style
  await until(() => chLive.some((x) => x.text === inChannel), 'the channel dialect gets it');
  const stored = chLive.find((x) => x.text === inChannel);
  assert.equal(stored.nickname, '철수');
  assert.equal(stored.userId, null);
  assert.ok(!nineLive.some((x) => x.chat === inChannel), 'not in the lobby');

  // The channel dialect's message reaches both in their shape, with its sender's name.
  const fromChannel = `from channel ${randomUUID()}`;
  const ack = await ask(ch, 'channel:message', { channelId: room, text: fromChannel });
  assert.equal(ack.seq, stored.seq + 1, 'one sequence for every dialect');
  await until(() => texts(got1).includes(fromChannel) && texts(got2).includes(fromChannel), 'channel → Everyone\'s friend');
  assert.equal(got1.find((x) => x.message === fromChannel).nickname, '채널족');

  // Entering really left the lobby (the original kept every room it ever entered).
  const lobbyAgain = `lobby again ${randomUUID()}`;
  await ask(nine, 'sendMessage', lobbyAgain);
  const marker = `marker ${randomUUID()}`;
  await ask(ch, 'channel:message', { channelId: room, text: marker });
  await until(() => texts(got1).includes(marker) && texts(got2).includes(marker), 'the marker');
  assert.ok(!texts(got1).includes(lobbyAgain) && !texts(got2).includes(lobbyAgain), 'no lobby messages in a channel');

  // Each client got each message in one shape only.
  assert.equal(chFriendShape.length, 0, 'the channel dialect client gets no sendMessage');
  assert.equal(nineFriendShape.length, 0, 'the NINE Cloud client gets no sendMessage');
  assert.equal(legacy1.length, legacyBefore, 'the Everyone\'s friend client gets no NINE Cloud message');

  // Entering the channel loads its log: newest first, the channel dialect's seq numbers.
  const log = await rest(OTHER, 'GET', `/channel/${room}/chats?limit=10`);
  assert.equal(log.status, 200);
  assert.deepEqual(log.body.chats.slice(0, 3).map((c) => c.message), [marker, fromChannel, inChannel]);
  const history = await ask(ch, 'channel:history', { channelId: room });
  const bySeq = new Map(history.messages.map((x) => [x.seq, x.text]));
  for (const c of log.body.chats) assert.equal(bySeq.get(c.seq), c.message);

  // Back to the lobby by its room id.
  ef2.emit('enterChannel', 'room:lobby');
  const back = `back ${randomUUID()}`;
  ef2.emit('getMessage', back, '영희');
  await until(() => nineLive.some((x) => x.chat === back), 'the lobby again');
  await sleep(100);
  assert.ok(!texts(got1).includes(back), 'ef1, still in the channel, does not get it');
});

test('bad events change nothing and answer when the client asked for an answer', async () => {
  const room = await newChannel(`bad-${randomUUID()}`);
  const ef = await connect(URL);
  const peer = await connect(OTHER);
  const got = record(peer, 'sendMessage');
  ef.emit('enterChannel', room);
  await ask(peer, 'enterChannel', room);
  const unknown = await ask(ef, 'enterChannel', randomUUID());
  assert.equal(unknown.ok, false);
  assert.match(unknown.error, /unknown channel/);
  ef.emit('enterChannel', 'not a room');
  assert.equal((await ask(ef, 'getMessage', '', 'x')).ok, false, 'an empty message is refused');
  assert.equal((await ask(ef, 'getMessage', 'no name')).ok, false, 'a guest must give a nickname');
  assert.equal((await ask(ef, 'getMessage', { text: 'object' }, 'x')).ok, false);
  const long = 'x'.repeat(5_000);
  assert.equal((await ask(ef, 'getMessage', long, 'x')).ok, false, 'over CHAT_MAX_MESSAGE_CHARS');
  // Still in the channel, still served.
  const ok = await ask(ef, 'getMessage', 'still here', '철수');
  assert.equal(ok.ok, true);
  assert.match(ok.date, ISO);
  await until(() => texts(got).includes('still here'), 'the channel still works');
  assert.equal(got.length, 1, 'none of the refused messages was sent');
});

test('a token makes the nickname the account\'s', async () => {
  const email = `${randomUUID().replaceAll('-', '')}@friend.test`;
  const made = await rest(URL, 'POST', '/user/create', { email, password: 'friendly-pass', nickname: '본명' });
  assert.equal(made.status, 200);
  assert.equal(made.body, '유저 생성 성공');
  const login = await rest(URL, 'POST', '/login', { email, password: 'friendly-pass' });
  assert.equal(login.status, 200);
  assert.equal(login.body, true);
  const token = login.headers.get('authorization').replace(/^Bearer /, '');
  const room = await newChannel(`token-${randomUUID()}`);
  const me = await connectAs({ token }, URL);
  const peer = await connect(OTHER);
  const got = record(peer, 'sendMessage');
  me.emit('enterChannel', room);
  await ask(peer, 'enterChannel', room);
  me.emit('getMessage', 'who am i', '가짜이름');
  await until(() => texts(got).includes('who am i'), 'the message');
  assert.equal(got[0].nickname, '본명');
});

test('a channel deleted under its clients sends them back to the lobby', async () => {
  const owner = await newUser('방장', URL);
  const made = await rest(URL, 'POST', '/channels', { name: `gone-${randomUUID()}` }, owner.token);
  assert.equal(made.status, 201);
  const room = made.body.channel.uuid;
  const ef = await connect(OTHER);
  assert.equal((await ask(ef, 'enterChannel', room)).ok, true);
  assert.equal((await rest(URL, 'DELETE', `/channels/${room}`, undefined, owner.token)).status, 200);
  const lost = await ask(ef, 'getMessage', 'into the void', '철수');
  assert.deepEqual(lost, { ok: false, error: 'the channel was deleted; you are back in the lobby' });
  const nine = await connect(URL, { path: '/community/chat/socket.io' });
  const lobby = record(nine, 'message');
  await ask(nine, 'login', `로비. ${randomUUID()}`);
  const again = `lobby after delete ${randomUUID()}`;
  assert.equal((await ask(ef, 'getMessage', again, '철수')).ok, true);
  await until(() => lobby.some((m) => m.chat === again), 'the message in the lobby');
});
