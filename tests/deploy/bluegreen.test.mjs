// Blue/green release through Nginx, end to end. scripts/test.sh starts nothing but the shared
// services; this suite makes the first release itself with scripts/deploy.sh --runtime process,
// then releases again under load and checks what users would notice:
//   - no HTTP request through Nginx fails while the colours switch;
//   - every socket (WebSocket and long-polling) is back within 10 s;
//   - every chat message (acknowledged, or retried with its clientId until acknowledged) reaches
//     every client exactly once, live or by recovery.
// Then three releases that must roll back: a colour that exits, one that never becomes ready,
// and a configuration Nginx rejects. The old colour keeps serving each time.
//
// Environment (set by scripts/test.sh): NC_URL (Nginx), DEPLOY_STATE_DIR, DEPLOY_ENV_FILE,
// NINECLOUD_BIN, BLUE_PORT, GREEN_PORT, INSTANCES, NGINX_LISTEN, TEST_MAIL_DIR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { URL, ChannelClient, ask, closeAll, connectAs, http, newUser, sleep, until } from '../client/helpers.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STATE = process.env.DEPLOY_STATE_DIR;
const SOCKETS = Number(process.env.DEPLOY_TEST_SOCKETS || 30);
const POLLING_SOCKETS = 8;
const RECONNECT_LIMIT_MS = 10000;

/** Runs scripts/deploy.sh; resolves with {code, output} (output is stdout and stderr). */
function deploy(args = [], env = {}) {
  return new Promise((resolve) => {
    const child = spawn('bash', [join(ROOT, 'scripts/deploy.sh'), '--runtime', 'process', ...args], {
      env: { ...process.env, ...env },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => {
      process.stdout.write(output.replace(/^/gm, '    | '));
      resolve({ code, output });
    });
  });
}

const active = () => readFileSync(join(STATE, 'active'), 'utf8').trim();

/** Which instance answers through Nginx, from /health's `instance`. */
async function servedBy() {
  const res = await fetch(`${URL}/health`);
  assert.equal(res.status, 200);
  return (await res.json()).instance;
}

/** GET /ready straight to one instance of a colour: true when it answers 200. */
async function colourAnswers(colour) {
  const base = Number(colour === 'blue' ? process.env.BLUE_PORT : process.env.GREEN_PORT);
  try {
    const res = await fetch(`http://127.0.0.1:${base}/ready`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

before(async () => {
  const first = await deploy();
  assert.equal(first.code, 0, 'the first release succeeds');
  assert.equal(active(), 'blue');
  assert.match(await servedBy(), /^blue-/);
});

// What a failed test leaves running (chat loops, HTTP workers) must not keep Node alive.
const running = [];
after(async () => {
  await Promise.all(running.map((r) => r.stop(true)));
  closeAll();
});

/** Requests users of the web app make, in a loop through Nginx, one worker per user; every
 *  answer is checked. */
function httpLoad(httpUsers, channelId) {
  const stats = { total: 0, resent: 0, failures: [] };
  let running = true;
  const callsOf = (user) => [
    ['GET', '/health', null, [200]],
    ['GET', '/ready', null, [200]],
    ['GET', '/myInfo', user.token, [200]],
    ['POST', `/channels/${channelId}/join`, user.token, [200, 201]],
    ['GET', '/channels/joined', user.token, [200]],
    ['DELETE', `/channels/${channelId}/join`, user.token, [200]],
  ];
  const worker = async (user) => {
    while (running) {
      for (const [method, path, token, ok] of callsOf(user)) {
        stats.total++;
        const headers = token ? { authorization: `Bearer ${token}` } : {};
        const send = () => fetch(URL + path, { method, headers, signal: AbortSignal.timeout(10000) });
        try {
          let res;
          try {
            res = await send();
          } catch (e) {
            // Nginx's old workers close idle keep-alive connections when it reloads; a request
            // written at that instant meets a closed socket before any answer. Browsers resend
            // such a request once on a new connection (Chromium and Firefox do, for a reused
            // connection that closed without a response byte), and so does this user. A
            // refused connection, a timeout or any answer is never resent.
            if (!['UND_ERR_SOCKET', 'ECONNRESET'].includes(e.cause?.code)) throw e;
            stats.resent++;
            res = await send();
          }
          await res.arrayBuffer();
          if (!ok.includes(res.status)) stats.failures.push(`${method} ${path}: ${res.status}`);
        } catch (e) {
          stats.failures.push(`${method} ${path}: ${e.cause?.code || e.message}`);
        }
        await sleep(10);
      }
    }
  };
  const done = Promise.all(httpUsers.map(worker));
  return {
    stats,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** A chat user's socket: joins the channel, recovers after every reconnect, and sends one
 *  message every `every` ms, resending one that got no acknowledgement with the same clientId
 *  (as a client that cares about its messages does). */
function chatter(socket, channelId, name, every) {
  const client = new ChannelClient(socket, channelId);
  const me = {
    name,
    client,
    acked: new Map(), // clientId -> seq
    disconnects: 0,
    reconnectMs: [],
    duplicatesAcked: 0,
  };
  let downAt = null;
  socket.on('disconnect', () => {
    me.disconnects++;
    downAt = Date.now();
  });
  socket.io.on('reconnect', () => {
    if (downAt !== null) me.reconnectMs.push(Date.now() - downAt);
    downAt = null;
  });
  let running = true;
  let abandon = false;
  let n = 0;
  const loop = (async () => {
    let pending = null;
    while (running || (pending && !abandon)) {
      if (!pending && running) pending = { clientId: `${name}-${n}`, text: `${name} says ${n++}` };
      if (socket.connected && pending) {
        try {
          const ack = await socket
            .timeout(3000)
            .emitWithAck('channel:message', { channelId, text: pending.text, clientId: pending.clientId });
          if (ack.ok) {
            if (ack.duplicate) me.duplicatesAcked++;
            me.acked.set(pending.clientId, { seq: ack.seq, text: pending.text });
            pending = null;
          }
        } catch {
          // No acknowledgement (the connection went away): send it again once reconnected.
        }
      }
      await sleep(every);
    }
  })();
  // Stops sending; a message still unacknowledged gets 15 s more to go through.
  me.stop = async (abandonPending = false) => {
    running = false;
    abandon = abandonPending;
    const late = setTimeout(() => {
      abandon = true;
      me.abandoned = true;
    }, 15000);
    await loop;
    clearTimeout(late);
  };
  return me;
}

test('a release under load: no failed request, sockets back within 10 s, no message lost or doubled', async () => {
  const owner = await newUser('배포방장');
  const users = [owner];
  for (let i = 0; i < 4; i++) users.push(await newUser(`손님${i}`));
  const made = await http(URL, 'POST', '/channels', owner.token, { name: `bluegreen-${Date.now()}` });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const channelId = made.body.channel.id;
  const httpUsers = [];
  for (let i = 0; i < 3; i++) httpUsers.push(await newUser(`요청꾼${i}`));

  const chatters = [];
  for (let i = 0; i < SOCKETS; i++) {
    const polling = i < POLLING_SOCKETS;
    const socket = await connectAs(users[i % users.length], URL, {
      reconnection: true,
      transports: polling ? ['polling'] : ['websocket'],
    });
    const c = chatter(socket, channelId, `${polling ? 'p' : 'w'}${i}`, 700);
    running.push(c);
    const t0 = Date.now();
    const ack = await c.client.join().catch((e) => {
      throw new Error(
        `${c.name} (${socket.id}, connected ${socket.connected}, ${socket.io.engine?.transport?.name}) ` +
          `could not join after ${Date.now() - t0} ms: ${e.message}`,
      );
    });
    assert.equal(ack.ok, true);
    chatters.push(c);
  }
  const load = httpLoad(httpUsers, channelId);
  running.push(load);
  await sleep(3000);
  const before = load.stats.total;
  assert.ok(before > 0, 'the HTTP load is running');

  const release = await deploy();
  assert.equal(release.code, 0, 'the release succeeds');
  assert.equal(active(), 'green');
  await sleep(12000); // keep talking on the new colour
  await Promise.all(chatters.map((c) => c.stop()));
  await load.stop();

  assert.match(await servedBy(), /^green-/, 'Nginx sends requests to green');
  assert.equal(await colourAnswers('blue'), false, 'blue is stopped');
  assert.ok(load.stats.total - before > 100, `HTTP requests kept flowing (${load.stats.total})`);
  assert.deepEqual(load.stats.failures, [], `failed HTTP requests out of ${load.stats.total}`);

  for (const c of chatters) {
    assert.ok(!c.abandoned, `${c.name}: a message never got an acknowledgement`);
    assert.ok(c.disconnects >= 1, 'the old colour closed every socket');
    assert.ok(c.client.socket.connected, `${c.name} is connected again`);
    assert.equal(c.reconnectMs.length, c.disconnects, 'every disconnect was followed by a reconnect');
    for (const ms of c.reconnectMs) assert.ok(ms <= RECONNECT_LIMIT_MS, `reconnected after ${ms} ms`);
  }

  // Every message each chatter had acknowledged, by sequence number.
  const sent = new Map();
  for (const c of chatters) for (const { seq, text } of c.acked.values()) sent.set(seq, text);
  assert.ok(sent.size > SOCKETS * 10, `messages were sent throughout (${sent.size})`);
  const texts = [...sent.values()];
  const ackedTexts = new Set(texts);
  assert.equal(ackedTexts.size, texts.length, 'no message was stored twice');

  // Each client ends with every acknowledged message exactly once, in sequence order.
  await until(
    () => chatters.every((c) => [...sent.keys()].every((seq) => c.client.bySeq.has(seq))),
    'every client to have every acknowledged message',
    10000,
  ).catch((e) => {
    for (const c of chatters) {
      const missing = [...sent.keys()].filter((seq) => !c.client.bySeq.has(seq)).sort((a, b) => a - b);
      if (missing.length)
        console.log(`    ${c.name}: ${missing.length} missing (${missing.slice(0, 5)}…), joins failed: ${c.client.joinErrors}, reconnects ${c.reconnectMs}`);
    }
    throw e;
  });
  const expected = [...sent.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
  for (const c of chatters) {
    const seen = c.client.texts();
    assert.equal(new Set(seen).size, seen.length, 'a client saw a message twice');
    assert.deepEqual(seen.filter((t) => ackedTexts.has(t)), expected);
  }
  const reconnects = chatters.flatMap((c) => c.reconnectMs);
  console.log(
    `    ${load.stats.total} HTTP requests (${load.stats.resent} resent after a keep-alive close), ${sent.size} messages, ${reconnects.length} reconnects ` +
      `(slowest ${Math.max(...reconnects)} ms), ${chatters.reduce((n, c) => n + c.duplicatesAcked, 0)} resends ` +
      'recognised by clientId',
  );
});

/** A rolled-back release: non-zero exit, the old colour active and serving, the new one gone. */
async function assertRolledBack(result, reason) {
  assert.notEqual(result.code, 0, 'the release fails');
  assert.match(result.output, /rolling back/);
  assert.match(result.output, reason);
  assert.equal(active(), 'green', 'green stays the active colour');
  assert.match(await servedBy(), /^green-/, 'Nginx still sends requests to green');
  assert.equal(await colourAnswers('blue'), false, 'the failed colour is stopped');
  const r = await fetch(`${URL}/ready`);
  assert.equal(r.status, 200);
}

test('a colour that exits at start is rolled back', async () => {
  const env = mkdtempSync(join(tmpdir(), 'nc-deploy-'));
  const file = join(env, 'broken.env');
  writeFileSync(
    file,
    readFileSync(process.env.DEPLOY_ENV_FILE, 'utf8') + '\nDATABASE_URL=postgres://nobody:wrong@127.0.0.1:9/none\n',
  );
  await assertRolledBack(await deploy(['--env-file', file]), /blue exited before it became ready/);
});

test('a colour that never becomes ready is rolled back at the deadline', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nc-deploy-'));
  const stuck = join(dir, 'stuck-server');
  writeFileSync(stuck, '#!/bin/sh\nexec sleep 600\n', { mode: 0o755 });
  const started = Date.now();
  const result = await deploy(['--ready-timeout', '4'], { NINECLOUD_BIN: stuck });
  await assertRolledBack(result, /blue was not ready within 4s/);
  assert.ok(Date.now() - started < 30000, 'the deadline holds');
});

test('a configuration Nginx rejects is put back and the release rolled back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nc-nginx-'));
  cpSync(join(ROOT, 'nginx'), dir, { recursive: true });
  const conf = join(dir, 'ninecloud.conf');
  writeFileSync(conf, readFileSync(conf, 'utf8').replace('proxy_read_timeout 75s;', 'proxy_read_timeout seventy-five;'));
  await assertRolledBack(await deploy(['--nginx-dir', dir]), /Nginx rejected the new configuration/);
  // The configuration in use is the good one again: a later release goes through.
  const next = await deploy();
  assert.equal(next.code, 0, 'the next release succeeds');
  assert.equal(active(), 'blue');
  assert.match(await servedBy(), /^blue-/);
});
