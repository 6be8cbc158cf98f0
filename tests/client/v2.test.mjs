// socket.io-client 2.x (Engine.IO v3): the NINE Cloud dialect and, with the token in the query
// string, the channel dialect.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import ioV2 from 'socket.io-client-v2';
import { URL, http, newUser, until } from './helpers.mjs';

const sockets = [];
after(() => sockets.forEach((s) => s.close()));

function connectV2(opts) {
  const s = ioV2(URL, { forceNew: true, reconnection: false, ...opts });
  sockets.push(s);
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('error', (e) => reject(new Error(typeof e === 'string' ? e : e?.message ?? JSON.stringify(e))));
    s.once('connect_error', (e) => reject(e));
  });
}

const ask = (s, event, ...args) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), 5000);
    s.emit(event, ...args, (answer) => {
      clearTimeout(timer);
      resolve(answer);
    });
  });

for (const transports of [['polling'], ['websocket']]) {
  test(`v2 client: community chat over ${transports[0]}`, async () => {
    const s = await connectV2({ path: '/community/chat/socket.io', transports });
    const seen = [];
    s.on('message', (m) => seen.push(m));
    const login = await ask(s, 'login', `v2 구름. ${crypto.randomUUID()}`);
    assert.equal(login.ok, true);
    assert.equal(login.data.online, true);
    assert.deepEqual(await ask(s, 'sendMessage', 'from socket.io 2'), { ok: true });
    await until(() => seen.some((m) => m.chat === 'from socket.io 2'), 'own message');
    assert.deepEqual(seen.find((m) => m._id).user, { id: login.data._id, name: login.data.name });
  });
}

test('v2 client: channels with the token in the query string', async () => {
  const user = await newUser('브이투');
  const ch = (await http(URL, 'POST', '/channels', user.token, { name: 'v2 room' })).body.channel;
  const s = await connectV2({ query: { token: user.token }, transports: ['websocket'] });
  const live = [];
  s.on('channel:message', (m) => live.push(m));
  const join = await ask(s, 'channel:join', { channelId: ch.id });
  assert.equal(join.ok, true);
  const ack = await ask(s, 'channel:message', { channelId: ch.id, text: 'old client, new dialect' });
  assert.equal(ack.seq, 1);
  await until(() => live.length === 1, 'live message');
  assert.equal(live[0].nickname, '브이투');
});

test('v2 client: a bad token is refused with a message', async () => {
  await assert.rejects(connectV2({ query: { token: 'forged' } }), /유효하지 않은 토큰입니다/);
});
