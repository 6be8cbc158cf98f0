// The Everyone's friend channel dialect with socket.io-client 4: handshake authentication,
// REST channels and favourites, join/leave/message/typing/presence, acknowledgements in one
// envelope, idempotent retries, limits and malformed payloads.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { io } from 'socket.io-client';
import { URL, ask, closeAll, connect, connectAs, http, newUser, record, sleep, until } from './helpers.mjs';

after(closeAll);

function jwt(claims) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  const sig = createHmac('sha256', process.env.NC_SECRET_KEY).update(body).digest('base64url');
  return `${body}.${sig}`;
}

async function channel(owner, name = `ch-${crypto.randomUUID().slice(0, 8)}`) {
  const r = await http(URL, 'POST', '/channels', owner.token, { name });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.channel;
}

test('a bad, expired or refresh token is refused at connect with a message', async () => {
  await assert.rejects(connect(URL, { auth: { token: 'not.a.token' } }), { message: '유효하지 않은 토큰입니다.' });
  const now = Math.floor(Date.now() / 1000);
  const user = await newUser('만료');
  await assert.rejects(
    connect(URL, { auth: { token: jwt({ userId: user.userId, iat: now - 7200, exp: now - 3600 }) } }),
    { message: 'AccessToken이 만료되었습니다.' },
  );
  await assert.rejects(
    connect(URL, { auth: { token: jwt({ userId: 987654321, iat: now, exp: now + 600 }) } }),
    { message: '토큰 사용자가 존재하지 않습니다.' },
  );
  // The same token works, with or without "Bearer ".
  const ok = await connect(URL, { auth: { token: `Bearer ${user.token}` } });
  assert.ok(ok.connected);
});

test('a guest may not use channels', async () => {
  const owner = await newUser('주인');
  const ch = await channel(owner);
  const guest = await connect(URL);
  const ack = await ask(guest, 'channel:join', { channelId: ch.id });
  assert.equal(ack.ok, false);
  assert.match(ack.error, /sign in/);
});

test('channels over REST: create, list with counts, favourites, owner-only rename and delete', async () => {
  const alice = await newUser('앨리스');
  const bob = await newUser('바비');
  const ch = await channel(alice, '  수다방  ');
  assert.equal(ch.name, '수다방');
  assert.equal(ch.ownerId, alice.userId);
  assert.equal(ch.members, 1, 'the creator joins it');
  assert.equal(ch.room, `room:${ch.id}`);

  assert.equal((await http(URL, 'POST', '/channels', alice.token, { name: ' ' })).status, 400);
  assert.equal((await http(URL, 'POST', '/channels', alice.token, { name: 'x'.repeat(51) })).status, 400);
  assert.equal((await http(URL, 'POST', '/channels', undefined, { name: 'x' })).status, 401);
  assert.equal((await http(URL, 'GET', '/channels/abc', alice.token)).status, 400);
  assert.equal((await http(URL, 'GET', '/channels/99999999', alice.token)).status, 404);
  assert.equal((await http(URL, 'GET', '/channels?page=0', alice.token)).status, 400);

  assert.equal((await http(URL, 'POST', `/channels/${ch.id}/join`, bob.token)).status, 201);
  assert.equal((await http(URL, 'POST', `/channels/${ch.id}/join`, bob.token)).status, 200);
  const joined = await http(URL, 'GET', '/channels/joined', bob.token);
  assert.deepEqual(joined.body.channels.map((c) => c.id), [ch.id]);

  // Online counts follow the sockets in the room.
  const s = await connectAs(bob);
  assert.equal((await ask(s, 'channel:join', { channelId: ch.id })).ok, true);
  const one = await http(URL, 'GET', `/channels/${ch.id}`, alice.token);
  assert.equal(one.body.channel.members, 2);
  assert.equal(one.body.channel.online, 1);
  const all = [];
  for (let page = 1; ; page++) {
    const r = await http(URL, 'GET', `/channels?page=${page}&limit=100`, alice.token);
    all.push(...r.body.channels);
    if (r.body.channels.length < 100) break;
  }
  assert.equal(all[0].lobby, true, 'the lobby comes first');
  assert.equal(all.find((c) => c.id === ch.id).online, 1);

  const updates = record(s, 'channel:updated');
  const deleted = record(s, 'channel:deleted');
  assert.equal((await http(URL, 'PATCH', `/channels/${ch.id}`, bob.token, { name: 'mine' })).status, 403);
  assert.equal((await http(URL, 'DELETE', `/channels/${ch.id}`, bob.token)).status, 403);
  const renamed = await http(URL, 'PATCH', `/channels/${ch.id}`, alice.token, { name: '새 이름' });
  assert.equal(renamed.status, 200);
  await until(() => updates.length === 1, 'channel:updated');
  assert.equal(updates[0].channel.name, '새 이름');

  const lobby = all[0];
  assert.equal((await http(URL, 'DELETE', `/channels/${lobby.id}`, alice.token)).status, 403);

  assert.equal((await http(URL, 'DELETE', `/channels/${ch.id}/join`, bob.token)).status, 200);
  assert.equal((await http(URL, 'DELETE', `/channels/${ch.id}/join`, bob.token)).status, 404);

  assert.equal((await http(URL, 'DELETE', `/channels/${ch.id}`, alice.token)).status, 200);
  await until(() => deleted.length === 1, 'channel:deleted');
  assert.deepEqual(deleted[0], { channelId: ch.id });
  const after = await ask(s, 'channel:message', { channelId: ch.id, text: 'anyone?' });
  assert.equal(after.ok, false);
  assert.equal((await http(URL, 'GET', `/channels/${ch.id}`, alice.token)).status, 404);
});

test('join, presence, typing, messages with sequence numbers, history and leave', async () => {
  const alice = await newUser('앨리스');
  const bob = await newUser('바비');
  const ch = await channel(alice);
  const a = await connectAs(alice);
  const b = await connectAs(bob);
  const presenceA = record(a, 'channel:presence');
  const typingA = record(a, 'channel:typing');
  const liveA = record(a, 'channel:message');
  const liveB = record(b, 'channel:message');

  const joinA = await ask(a, 'channel:join', { channelId: ch.id });
  assert.equal(joinA.ok, true);
  assert.deepEqual(joinA.messages, []);
  assert.equal(joinA.lastSeq, 0);
  assert.equal(joinA.hasMore, false);
  assert.deepEqual(joinA.online, [{ userId: alice.userId, username: '앨리스' }]);

  const joinB = await ask(b, 'channel:join', { channelId: ch.id });
  assert.deepEqual(joinB.online.map((u) => u.userId).sort(), [alice.userId, bob.userId].sort());
  const here = (p) => p.channelId === ch.id && p.userId === bob.userId;
  await until(() => presenceA.some((p) => here(p) && p.status === 'join'), 'presence join');
  assert.deepEqual(presenceA.find((p) => p.channelId === ch.id), {
    channelId: ch.id, userId: bob.userId, username: '바비', status: 'join',
  });

  assert.deepEqual(await ask(b, 'channel:typing', { channelId: ch.id, typing: true }), { ok: true });
  await until(() => typingA.length === 1, 'typing');
  assert.deepEqual(typingA[0], { channelId: ch.id, userId: bob.userId, username: '바비', typing: true });

  const sent = [];
  for (let i = 1; i <= 12; i++) {
    const ack = await ask(i % 2 ? a : b, 'channel:message', { channelId: ch.id, text: `m${i}` });
    assert.equal(ack.ok, true, JSON.stringify(ack));
    assert.equal(ack.seq, i);
    assert.match(ack.id, /^[0-9a-f]{24}$/);
    assert.equal(ack.duplicate, false);
    sent.push(ack);
  }
  await until(() => liveA.length === 12 && liveB.length === 12, 'all messages live at both');
  const m = liveB.find((x) => x.seq === 1);
  assert.deepEqual(Object.keys(m).sort(), ['channelId', 'createdAt', 'id', 'nickname', 'seq', 'text', 'userId']);
  assert.deepEqual(
    { channelId: m.channelId, userId: m.userId, nickname: m.nickname, text: m.text, id: m.id, createdAt: m.createdAt },
    { channelId: ch.id, userId: alice.userId, nickname: '앨리스', text: 'm1', id: sent[0].id, createdAt: sent[0].createdAt },
  );

  // History: the latest page on join, `since` to catch up, `before` to scroll back.
  const c = await connectAs(alice);
  const late = await ask(c, 'channel:join', { channelId: ch.id, limit: 5 });
  assert.deepEqual(late.messages.map((x) => x.seq), [8, 9, 10, 11, 12]);
  assert.equal(late.hasMore, true);
  assert.equal(late.lastSeq, 12);
  const older = await ask(c, 'channel:history', { channelId: ch.id, before: 8, limit: 5 });
  assert.deepEqual(older.messages.map((x) => x.seq), [3, 4, 5, 6, 7]);
  assert.equal(older.hasMore, true);
  const since = await ask(c, 'channel:history', { channelId: ch.id, since: 10 });
  assert.deepEqual(since.messages.map((x) => x.text), ['m11', 'm12']);
  assert.equal(since.hasMore, false);
  const rest = await http(URL, 'GET', `/channels/${ch.id}/messages?before=3&limit=10`, bob.token);
  assert.deepEqual(rest.body.messages.map((x) => x.seq), [1, 2]);
  assert.equal(rest.body.hasMore, false);
  const restAfter = await http(URL, 'GET', `/channels/${ch.id}/messages?after=9&limit=2`, bob.token);
  assert.deepEqual(restAfter.body.messages.map((x) => x.seq), [10, 11]);
  assert.equal(restAfter.body.hasMore, true);
  assert.equal((await http(URL, 'GET', `/channels/${ch.id}/messages?before=x`, bob.token)).status, 400);
  assert.equal((await http(URL, 'GET', `/channels/${ch.id}/messages?limit=0`, bob.token)).status, 400);

  // Leaving: bob's last socket in the room goes, alice hears it; bob gets nothing more.
  c.disconnect();
  assert.deepEqual(await ask(b, 'channel:leave', { channelId: ch.id }), { ok: true });
  await until(() => presenceA.some((p) => here(p) && p.status === 'leave'), 'presence leave');
  await ask(a, 'channel:message', { channelId: ch.id, text: 'after bob left' });
  await until(() => liveA.some((x) => x.text === 'after bob left'), 'own message');
  await sleep(100);
  assert.ok(!liveB.some((x) => x.text === 'after bob left'));
  assert.equal((await ask(b, 'channel:message', { channelId: ch.id, text: 'x' })).ok, false);
});

test('a retried send with the same clientId is stored and broadcast once', async () => {
  const alice = await newUser('재시도');
  const ch = await channel(alice);
  const a = await connectAs(alice);
  const live = record(a, 'channel:message');
  await ask(a, 'channel:join', { channelId: ch.id });
  const payload = { channelId: ch.id, text: 'only once', clientId: 'c-123' };
  const [first, second] = await Promise.all([ask(a, 'channel:message', payload), ask(a, 'channel:message', payload)]);
  const third = await ask(a, 'channel:message', payload);
  for (const ack of [first, second, third]) {
    assert.equal(ack.ok, true);
    assert.equal(ack.id, first.id);
    assert.equal(ack.seq, first.seq);
  }
  assert.deepEqual([first, second, third].map((x) => x.duplicate).sort(), [false, true, true]);
  await sleep(200);
  assert.equal(live.filter((m) => m.text === 'only once').length, 1);
  assert.equal(live[0].clientId, 'c-123');
  const log = await http(URL, 'GET', `/channels/${ch.id}/messages`, alice.token);
  assert.equal(log.body.messages.length, 1);
  // Another user may use the same client id: keys are per sender.
  const bob = await newUser('다른사람');
  const b = await connectAs(bob);
  await ask(b, 'channel:join', { channelId: ch.id });
  const other = await ask(b, 'channel:message', payload);
  assert.equal(other.duplicate, false);
  // Numbers only grow; on MongoDB a send racing its own retry may leave one unused.
  assert.ok(other.seq > first.seq);
});

test('malformed payloads, unknown channels and limits: a clear error, nothing stored', async () => {
  const alice = await newUser('검사');
  const ch = await channel(alice);
  const a = await connectAs(alice);
  for (const [event, payload, pattern] of [
    ['channel:join', 'lobby', /malformed payload/],
    ['channel:join', {}, /channelId/],
    ['channel:join', { channelId: 'abc' }, /channelId/],
    ['channel:join', { channelId: 99999999 }, /unknown channel/],
    ['channel:join', { channelId: ch.id, since: 'yesterday' }, /since/],
    ['channel:message', { channelId: ch.id, text: 'not joined yet' }, /join the channel/],
    ['channel:leave', { channelId: ch.id }, /not in this channel/],
    ['channel:typing', { channelId: ch.id }, /join the channel/],
    ['channel:history', { channelId: ch.id, since: 1, before: 2 }, /either/],
  ]) {
    const ack = await ask(a, event, payload);
    assert.equal(ack.ok, false, `${event} ${JSON.stringify(payload)}`);
    assert.match(ack.error, pattern);
  }
  // No payload at all still gets an answer.
  const bare = await a.timeout(5000).emitWithAck('channel:join');
  assert.equal(bare.ok, false);

  await ask(a, 'channel:join', { channelId: ch.id });
  for (const [payload, pattern] of [
    [{ channelId: ch.id, text: 5 }, /must be a string/],
    [{ channelId: ch.id }, /text/],
    [{ channelId: ch.id, text: '' }, /empty/],
    [{ channelId: ch.id, text: 'x'.repeat(1001) }, /longer than 1000/],
    [{ channelId: ch.id, text: 'ok', clientId: 'x'.repeat(65) }, /clientId/],
    [{ channelId: ch.id, text: 'ok', clientId: 7 }, /clientId/],
  ]) {
    const ack = await ask(a, 'channel:message', payload);
    assert.equal(ack.ok, false, JSON.stringify(payload));
    assert.match(ack.error, pattern);
  }
  assert.equal((await http(URL, 'GET', `/channels/${ch.id}/messages`, alice.token)).body.messages.length, 0);

  // The per-socket rate limit (burst 20): the rest are refused, the socket stays connected.
  const acks = await Promise.all(
    Array.from({ length: 30 }, (_, i) => ask(a, 'channel:message', { channelId: ch.id, text: `burst ${i}` })),
  );
  const accepted = acks.filter((x) => x.ok).length;
  const refused = acks.filter((x) => !x.ok);
  assert.ok(refused.length >= 5, `refused ${refused.length}`);
  assert.match(refused[0].error, /too many messages/);
  assert.ok(a.connected);
  const log = await http(URL, 'GET', `/channels/${ch.id}/messages?limit=100`, alice.token);
  assert.equal(log.body.messages.length, accepted);
  assert.deepEqual(log.body.messages.map((m) => m.seq), Array.from({ length: accepted }, (_, i) => i + 1));
});

test('an event sent the moment the socket connects is answered, every time', async () => {
  // socket.io-client sends an emit made in the 'connect' listener right behind the CONNECT
  // acknowledgement. ninecloud registers its handlers before it acknowledges (a handler
  // registered in the spawned connect handler could miss it, and the event would be dropped).
  const user = await newUser('성급한');
  const r = await http(URL, 'POST', '/channels', user.token, { name: `eager-${Date.now()}` });
  const channelId = r.body.channel.id;
  for (let round = 0; round < 4; round++) {
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        new Promise((resolve, reject) => {
          const socket = io(URL, {
            forceNew: true,
            reconnection: false,
            auth: { token: user.token },
            transports: i % 2 ? ['websocket'] : ['polling'],
          });
          socket.on('connect', () => {
            socket
              .timeout(5000)
              .emitWithAck('channel:join', { channelId })
              .then((ack) => {
                socket.disconnect();
                resolve(ack.ok);
              })
              .catch((e) => {
                socket.disconnect();
                reject(new Error(`socket ${i} of round ${round}: ${e.message}`));
              });
          });
          socket.on('connect_error', reject);
        }),
      ),
    );
    assert.deepEqual(answers, Array(50).fill(true));
  }
});

test('logging out disconnects the sockets of the user, and the token no longer connects', async () => {
  const user = await newUser('나가요');
  const socket = await connectAs(user);
  const gone = new Promise((resolve) => socket.once('disconnect', resolve));
  const out = await http(URL, 'POST', '/logout', user.token);
  assert.equal(out.status, 200);
  assert.equal(await gone, 'io server disconnect');
  await assert.rejects(connectAs(user), /만료/);
});

test('chat limits are per user across sockets and reconnects; typing is limited; far over is disconnected', async () => {
  // The servers under test run with the shipped limits: 120 a minute, burst 20.
  const spammer = await newUser('도배꾼');
  const reader = await newUser('독자');
  const r = await http(URL, 'POST', '/channels', spammer.token, { name: `limits-${Date.now()}` });
  const channelId = r.body.channel.id;
  const watcher = await connectAs(reader);
  await ask(watcher, 'channel:join', { channelId });
  const typed = record(watcher, 'channel:typing');

  // Five sockets of one user share one budget: about one burst gets through, not five.
  const sockets = await Promise.all(Array.from({ length: 5 }, () => connectAs(spammer)));
  for (const s of sockets) assert.equal((await ask(s, 'channel:join', { channelId })).ok, true);
  const acks = await Promise.all(
    sockets.flatMap((s, k) =>
      Array.from({ length: 8 }, (_, i) => ask(s, 'channel:message', { channelId, text: `spam ${k}.${i}` })),
    ),
  );
  const accepted = acks.filter((a) => a.ok).length;
  assert.ok(accepted >= 18 && accepted <= 22, `${accepted} of 40 accepted across 5 sockets`);
  // A new socket gets no fresh budget.
  const fresh = await connectAs(spammer);
  await ask(fresh, 'channel:join', { channelId });
  const again = await ask(fresh, 'channel:message', { channelId, text: 'after reconnect' });
  assert.equal(again.ok, false);
  assert.match(again.error, /too many messages/);

  // Typing notices: a few a second reach the others, not hundreds.
  const typer = await connectAs(spammer);
  await ask(typer, 'channel:join', { channelId });
  const typingAcks = await Promise.all(
    Array.from({ length: 30 }, () => ask(typer, 'channel:typing', { channelId, typing: true })),
  );
  assert.ok(typingAcks.filter((a) => a.ok).length <= 5);
  await sleep(300);
  assert.ok(typed.length <= 5, `${typed.length} typing notices delivered`);

  // A socket that keeps going far over its limit is told why and disconnected.
  const told = new Promise((resolve) => fresh.once('rate-limit', resolve));
  const gone = new Promise((resolve) => fresh.once('disconnect', resolve));
  for (let i = 0; i < 80 && fresh.connected; i++) {
    fresh.emit('channel:message', { channelId, text: `flood ${i}` });
  }
  assert.match((await told).error, /rate limits/);
  assert.equal(await gone, 'io server disconnect');
  // Everyone else is still served.
  const ok = await ask(watcher, 'channel:message', { channelId, text: 'still fine' });
  assert.equal(ok.ok, true);
  for (const s of [...sockets, typer]) s.disconnect();
});
