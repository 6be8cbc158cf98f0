// The load generator checked against the real socket.io-client (bench/src/bin/loadgen.rs):
// while loadgen's clients log in and send through the NINE Cloud dialect, a real
// socket.io-client 4 in the same room counts what it receives. Both must agree: every message
// loadgen had acknowledged reaches the real client exactly once, and loadgen itself reports
// every delivery to its own clients, none missing, none doubled. The same for the channel
// dialect and its rooms: a real client in the room loadgen sends to gets every acknowledged
// message once, a real client in another room gets none. A protocol mistake in loadgen
// (framing, acknowledgement ids, pings, rooms) shows up here, not as a wrong benchmark.
//   LOADGEN_BIN=… NC_URL=http://127.0.0.1:PORT node --test tests/bench/
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { io } from 'socket.io-client';
import { newUser, connectAs, ask, http, closeAll } from '../client/helpers.mjs';

const URL = process.env.NC_URL;
const BIN = process.env.LOADGEN_BIN;
const run = promisify(execFile);
const sockets = [];
after(() => {
  sockets.forEach((s) => s.disconnect());
  closeAll();
});

test('loadgen and socket.io-client see the same messages', { skip: !BIN && 'LOADGEN_BIN not set' }, async () => {
  const real = io(URL, { path: '/community/chat/socket.io', forceNew: true, reconnection: false });
  sockets.push(real);
  await new Promise((resolve, reject) => {
    real.once('connect', resolve);
    real.once('connect_error', reject);
  });
  const login = await real.timeout(5000).emitWithAck('login', '검증하는 구름');
  assert.equal(login.ok, true);
  const seen = new Map();
  real.on('message', (m) => {
    if (typeof m.chat === 'string' && m.chat.startsWith('b|')) seen.set(m.chat, (seen.get(m.chat) || 0) + 1);
  });

  const addr = new globalThis.URL(URL).host;
  // Within the default chat rate limit (120 a minute, bursts of 20, per socket).
  const { stdout } = await run(BIN, [
    '--addr', addr, '--path', '/community/chat/socket.io', '--clients', '20', '--senders', '4',
    '--rate', '8', '--duration', '2', '--drain', '2', '--compact',
  ]);
  const report = JSON.parse(stdout);
  assert.equal(report.connected, 20, stdout);
  assert.equal(report.connect_failures, 0);
  assert.ok(report.acked >= 12, `messages were acknowledged: ${stdout}`);
  assert.equal(report.acked, report.sent, 'every message acknowledged');
  assert.equal(report.expected_deliveries, report.acked * 20);
  assert.equal(report.delivered, report.expected_deliveries, 'every loadgen client got every message');
  assert.equal(report.missing, 0);
  assert.equal(report.duplicates, 0);
  assert.ok(report.latency_ms_p50 > 0 && report.latency_ms_p50 <= report.latency_ms_p99);

  // The real client saw the same messages, each once.
  assert.equal(seen.size, report.acked, 'the real client received every acknowledged message');
  assert.ok([...seen.values()].every((n) => n === 1), 'and each once');
  for (const chat of seen.keys()) assert.match(chat, /^b\|[0-3]\|\d+\|\d+$/);
});

test('loadgen speaks the channel dialect: rooms receive their own messages only', { skip: !BIN && 'LOADGEN_BIN not set' }, async () => {
  const owner = await newUser('벤치방장');
  const made = [];
  for (const name of ['bench room A', 'bench room B']) {
    const r = await http(URL, 'POST', '/channels', owner.token, { name });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    made.push(r.body.channel.id);
  }
  const [a, b] = made;
  const watchers = {};
  for (const [name, id] of [['a', a], ['b', b]]) {
    const socket = await connectAs(await newUser(`벤치관찰${name}`));
    const joined = await ask(socket, 'channel:join', { channelId: id });
    assert.equal(joined.ok, true, JSON.stringify(joined));
    const seen = new Map();
    socket.on('channel:message', (m) => {
      if (m.text.startsWith('b|')) seen.set(m.text, (seen.get(m.text) || 0) + 1);
    });
    watchers[name] = seen;
  }

  // One sender (client 0, room A); clients alternate between A and B. Within the default
  // chat rate limit (120 a minute, bursts of 20).
  const { stdout } = await run(BIN, [
    '--addr', new globalThis.URL(URL).host, '--protocol', 'channels', '--channels', `${a},${b}`,
    '--clients', '10', '--senders', '1', '--rate', '6', '--duration', '2', '--drain', '2', '--compact',
  ], { env: { ...process.env, LOADGEN_TOKEN: owner.token } });
  const report = JSON.parse(stdout);
  assert.equal(report.connected, 10, stdout);
  assert.equal(report.rooms, 2);
  assert.ok(report.acked >= 8, `messages were acknowledged: ${stdout}`);
  assert.equal(report.acked, report.sent, 'every message acknowledged');
  // Only room A's five loadgen clients should get them.
  assert.equal(report.expected_deliveries, report.acked * 5);
  assert.equal(report.delivered, report.expected_deliveries, 'every client in room A got every message');
  assert.equal(report.missing, 0);
  assert.equal(report.duplicates, 0);

  assert.equal(watchers.a.size, report.acked, 'the real client in room A received every acknowledged message');
  assert.ok([...watchers.a.values()].every((n) => n === 1), 'and each once');
  assert.equal(watchers.b.size, 0, 'the real client in room B received none of room A\'s messages');
});
