// The Socket.IO Admin UI's protocol (@socket.io/admin-ui 0.5) with socket.io-client 4, as the
// UI speaks it: login and session ids, the features, server_stats from every instance, the
// commands on sockets of any instance, development mode's socket list and live events, and
// the login limit. scripts/test.sh runs the servers with ADMIN_USERNAME / ADMIN_PASSWORD_HASH:
// the single instance in production mode, the two sharing Redis in development mode
// (NC_ADMIN_MODE says which). tests/admin-ui drives the real UI in Chromium.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { URL, URL_2, ask, closeAll, connect, connectAs, http, newUser, sleep, until } from './helpers.mjs';

const USER = process.env.NC_ADMIN_USER;
const PASSWORD = process.env.NC_ADMIN_PASSWORD;
const DEVELOPMENT = process.env.NC_ADMIN_MODE === 'development';
const LOGIN_LIMIT = Number(process.env.NC_ADMIN_LOGIN_LIMIT || 0);
// The instance the commanded sockets are on: the other one when there are two.
const OTHER = URL_2 ?? URL;
const skip = !USER && 'the servers run without ADMIN_USERNAME';

const admins = new Set();
after(() => {
  for (const a of admins) a.disconnect();
  closeAll();
});

/** An admin socket as the UI opens it; its first events are recorded from the start. */
function admin(base, auth) {
  const socket = io(`${base}/admin`, { forceNew: true, reconnection: false, timeout: 5000, auth });
  admins.add(socket);
  const seen = { session: [], config: [], stats: [], all: [], live: [] };
  socket.on('session', (s) => seen.session.push(s));
  socket.on('config', (c) => seen.config.push(c));
  socket.on('server_stats', (s) => seen.stats.push(s));
  socket.on('all_sockets', (l) => seen.all.push(l));
  for (const ev of ['socket_connected', 'socket_updated', 'socket_disconnected', 'room_joined', 'room_left']) {
    socket.on(ev, (...args) => seen.live.push({ ev, args }));
  }
  socket.seen = seen;
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (e) => reject(e));
  });
}

const login = (base = URL) => admin(base, { username: USER, password: PASSWORD });
const once = (socket, ev, ms = 5000) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${ev} within ${ms} ms`)), ms);
    socket.once(ev, (...args) => {
      clearTimeout(t);
      resolve(args);
    });
  });

test('wrong credentials are refused with the text the UI looks for', { skip }, async () => {
  await assert.rejects(admin(URL, { username: USER, password: 'not-the-password' }), {
    message: 'invalid credentials',
  });
  await assert.rejects(admin(URL, { username: 'root', password: PASSWORD }), { message: 'invalid credentials' });
  await assert.rejects(admin(URL, {}), { message: 'invalid credentials' });
  await assert.rejects(admin(URL, { sessionId: 'forged.session.id' }), { message: 'invalid credentials' });
});

test('a login gets a session id, the features, and statistics from every instance', { skip }, async () => {
  const chat = await connect(OTHER);
  const a = await login(URL);
  await until(() => a.seen.session.length && a.seen.config.length, 'session and config');
  const features = a.seen.config[0].supportedFeatures;
  for (const f of ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS']) {
    assert.ok(features.includes(f), `${f} in ${features}`);
  }
  assert.equal(features.includes('ALL_EVENTS'), DEVELOPMENT);

  // Every 2 s from each instance, to an admin connected to either.
  const instances = URL_2 ? 2 : 1;
  await until(() => new Set(a.seen.stats.map((s) => s.serverId)).size === instances, `stats from ${instances}`, 7000);
  for (const s of a.seen.stats) {
    assert.equal(typeof s.hostname, 'string');
    assert.ok(Number.isInteger(s.pid) && s.pid > 0);
    assert.ok(s.uptime > 0);
    assert.ok(s.clientsCount >= 1, 'the admin or the chat client is an Engine.IO client');
    assert.ok(s.pollingClientsCount >= 0 && s.pollingClientsCount <= s.clientsCount);
    assert.deepEqual(s.namespaces.map((n) => n.name).sort(), ['/', '/admin']);
    assert.ok(Array.isArray(s.aggregatedEvents));
  }
  // The chat client is counted on its instance; when it leaves, its disconnection is counted.
  const socketsOnOther = () =>
    a.seen.stats.filter((s) => s.namespaces.find((n) => n.name === '/').socketsCount >= 1).length;
  await until(() => socketsOnOther() > 0, 'the chat socket in the stats', 5000);
  const before = a.seen.stats.length;
  chat.disconnect();
  const counted = (type, subType) =>
    a.seen.stats
      .slice(before)
      .flatMap((s) => s.aggregatedEvents)
      .some((e) => e.type === type && (!subType || e.subType === subType) && e.count >= 1);
  await until(() => counted('rawDisconnection', 'client namespace disconnect'), 'the disconnection counted', 7000);
  const fresh = await connect(OTHER);
  await until(() => counted('rawConnection'), 'a connection counted', 7000);
  fresh.disconnect();

  // The session id logs in on any instance, without the password, and is not renewed.
  const session = a.seen.session[0];
  const b = await admin(OTHER, { sessionId: session });
  await until(() => b.seen.config.length, 'config after a session login');
  await sleep(200);
  assert.equal(b.seen.session.length, 0);
  await assert.rejects(admin(OTHER, { sessionId: session.slice(0, -2) + 'xx' }), { message: 'invalid credentials' });
});

test('commands reach a socket by id, a room and a namespace, on any instance', { skip }, async () => {
  const a = await login(URL);
  await until(() => a.seen.config.length, 'config');
  const target = await connect(OTHER);
  const bystander = await connect(OTHER);
  const got = (socket, ev) => {
    const list = [];
    socket.on(ev, (...args) => list.push(args));
    return list;
  };
  const direct = got(target, 'admin:direct');
  const roomed = got(target, 'admin:room');
  const roomedBystander = got(bystander, 'admin:room');

  // emit to one socket, with several arguments.
  a.emit('emit', '/', target.id, 'admin:direct', 'hello', { n: 1 }, [2, 3]);
  await until(() => direct.length === 1, 'the direct emit');
  assert.deepEqual(direct[0], ['hello', { n: 1 }, [2, 3]]);

  // join a room (by socket id), emit to the room: only that socket is in it.
  const room = `ops-${crypto.randomUUID().slice(0, 8)}`;
  a.emit('join', '/', room, target.id);
  await sleep(300);
  a.emit('emit', '/', room, 'admin:room', 1);
  await until(() => roomed.length === 1, 'the room emit');
  // leave it: the next room emit does not arrive (a direct emit after it shows the order).
  a.emit('leave', '/', room, target.id);
  await sleep(300);
  a.emit('emit', '/', room, 'admin:room', 2);
  a.emit('emit', '/', target.id, 'admin:direct', 'after');
  await until(() => direct.length === 2, 'the second direct emit');
  await sleep(300);
  assert.deepEqual(roomed, [[1]]);
  assert.deepEqual(roomedBystander, []);

  // A reserved event name or an unknown namespace changes nothing.
  a.emit('emit', '/', target.id, 'disconnect');
  a.emit('emit', '/nowhere', null, 'admin:direct', 'x');
  a.emit('emit', '/', target.id, 'admin:direct', 'still here');
  await until(() => direct.length === 3, 'the third direct emit');
  assert.ok(target.connected);

  // _disconnect by id: the client hears the server disconnect it; the bystander stays.
  const reason = once(target, 'disconnect');
  a.emit('_disconnect', '/', false, target.id);
  assert.equal((await reason)[0], "io server disconnect");
  // close: the whole connection (the UI's "disconnect client").
  const whole = await connect(OTHER);
  const closed = once(whole, 'disconnect');
  a.emit('_disconnect', '/', true, whole.id);
  assert.equal((await closed)[0], 'io server disconnect');
  await sleep(300);
  assert.ok(bystander.connected);
  assert.ok(a.connected, 'the admin socket stays connected');
});

test('development mode lists every socket and shows them live; production does not', { skip }, async () => {
  const user = await newUser('관찰대상');
  const listed = await connect(OTHER, { extraHeaders: { authorization: 'Bearer kept-secret', 'x-probe': 'yes' } });
  const a = await login(URL);
  await until(() => a.seen.config.length, 'config');
  if (!DEVELOPMENT) {
    const s = await connectAs(user, OTHER);
    await sleep(1000);
    assert.deepEqual(a.seen.all, [], 'no socket list in production mode');
    assert.deepEqual(a.seen.live, [], 'no live events in production mode');
    s.disconnect();
    return;
  }
  await until(() => a.seen.all.length, 'all_sockets');
  const me = a.seen.all[0].find((s) => s.id === listed.id);
  assert.ok(me, 'the chat socket is listed');
  assert.equal(me.nsp, '/');
  assert.ok(Array.isArray(me.rooms));
  assert.ok(a.seen.all[0].some((s) => s.nsp === '/admin' && s.id === a.id), 'the admin socket too');
  if (!URL_2) {
    // This instance's own sockets in full; credentials are left out of the headers.
    assert.equal(me.transport === 'polling' || me.transport === 'websocket', true);
    assert.equal(me.handshake.headers['x-probe'], 'yes');
    assert.equal(me.handshake.headers.authorization, undefined);
    assert.equal(me.clientId.length, 12);
  }

  // Live: a signed-in socket connects (on either instance), joins a channel, leaves.
  const owner = await newUser('방장');
  const made = await http(URL, 'POST', '/channels', owner.token, { name: `adm-${crypto.randomUUID().slice(0, 8)}` });
  assert.equal(made.status, 201);
  const s = await connectAs(user, OTHER);
  await until(() => a.seen.live.some((e) => e.ev === 'socket_connected' && e.args[0].id === s.id), 'socket_connected');
  const connected = a.seen.live.find((e) => e.ev === 'socket_connected' && e.args[0].id === s.id);
  assert.deepEqual(connected.args[0].data, { userId: user.userId, username: user.username });
  assert.ok(!Number.isNaN(Date.parse(connected.args[1])), 'a timestamp');
  // It opened by long-polling; an upgrade to WebSocket after its CONNECT is shown too (the
  // upgrade may also win the race and finish before the CONNECT: then it says websocket).
  assert.ok(['polling', 'websocket'].includes(connected.args[0].transport), connected.args[0].transport);
  if (connected.args[0].transport === 'polling') {
    await until(
      () => a.seen.live.some((e) => e.ev === 'socket_updated' && e.args[0].id === s.id && e.args[0].transport === 'websocket'),
      'socket_updated',
    );
  }
  assert.equal((await ask(s, 'channel:join', { channelId: made.body.channel.id })).ok, true);
  const room = `room:${made.body.channel.id}`;
  await until(
    () => a.seen.live.some((e) => e.ev === 'room_joined' && e.args[1] === room && e.args[2] === s.id),
    'room_joined',
  );
  const id = s.id; // socket.io-client forgets it on disconnect
  s.disconnect();
  await until(
    () =>
      a.seen.live.some(
        (e) => e.ev === 'socket_disconnected' && e.args[1] === id && e.args[2] === 'client namespace disconnect',
      ),
    'socket_disconnected',
  );
});

// Last: it spends this address' login budget for the minute.
test('logins over the limit are refused; sessions and chat clients are still served', { skip }, async () => {
  assert.ok(LOGIN_LIMIT > 0, 'NC_ADMIN_LOGIN_LIMIT names the servers\' ADMIN_LOGIN_ATTEMPTS_PER_MINUTE');
  const a = await login(URL).catch(() => null);
  let refusedFor = null;
  for (let i = 0; i <= LOGIN_LIMIT; i++) {
    try {
      const s = await admin(URL, { username: USER, password: 'guess' + i });
      s.disconnect();
    } catch (e) {
      if (e.message !== 'invalid credentials') {
        refusedFor = e.message;
        break;
      }
    }
  }
  assert.match(refusedFor ?? 'never refused', /too many login attempts/);
  // Even the right password, for the rest of the minute.
  await assert.rejects(login(URL), /too many login attempts/);
  // A session id from before still logs in, and chat clients connect as ever.
  if (a) {
    await until(() => a.seen.session.length, 'session');
    const again = await admin(URL, { sessionId: a.seen.session[0] });
    assert.ok(again.connected);
  }
  const chat = await connect(URL);
  assert.ok(chat.connected);
});
