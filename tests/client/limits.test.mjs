// What a client over the Socket.IO limits gets, and that everyone else keeps being served:
// WebSocket frames and messages over SOCKET_MAX_PAYLOAD close that connection, and the
// server's memory (its RSS, read from /proc) stays bounded while many clients send maximum-size
// and oversize messages at once; a long-polling POST over the limit is answered 413 and its
// session lives on; an address over SOCKET_MAX_PER_IP is refused new sessions.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { URL, ask, closeAll, connect, sleep } from './helpers.mjs';

after(closeAll);

const PID = process.env.NC_PID;
const MAX_PAYLOAD = Number(process.env.NC_SOCKET_MAX_PAYLOAD ?? 1_000_000);
const MAX_PER_IP = Number(process.env.NC_SOCKET_MAX_PER_IP ?? 100);
const WS_URL = `${URL.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
const MiB = 1024 * 1024;

function rss() {
  const status = readFileSync(`/proc/${PID}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

/** Samples the server's RSS every 10 ms while `work` runs: [result, peak RSS]. */
async function peakRssDuring(work) {
  let peak = rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 10);
  try {
    const result = await work();
    await sleep(200);
    peak = Math.max(peak, rss());
    return [result, peak];
  } finally {
    clearInterval(timer);
  }
}

/** An Engine.IO WebSocket session, optionally Socket.IO-connected to `/`. */
function engineSocket({ connectNamespace }) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(WS_URL);
    ws.once('error', reject);
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('0')) {
        if (!connectNamespace) resolve(ws);
        else ws.send('40');
      } else if (text.startsWith('40')) {
        resolve(ws);
      } else if (text === '2') {
        ws.send('3');
      }
    });
  });
}

/** Resolves with the close code once the server has closed `ws` (rejects after `ms`). */
function closedBy(ws, ms) {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve('closed');
    const t = setTimeout(() => reject(new Error('the server kept an oversize connection open')), ms);
    ws.once('close', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

/** A guest in the NINE Cloud chat that can still log in and send: "everyone else". */
async function chatStillWorks() {
  const guest = await connect(URL, { path: '/community/chat/socket.io', transports: ['websocket'] });
  assert.equal((await ask(guest, 'login', `멀쩡한 구름. ${crypto.randomUUID()}`)).ok, true);
  assert.deepEqual(await ask(guest, 'sendMessage', 'still here'), { ok: true });
  guest.disconnect();
}

test('oversize WebSocket frames close their connections and memory stays bounded', { skip: !PID && 'NC_PID not set' }, async () => {
  const CLIENTS = 40;
  const before = rss();
  // Half only opened an Engine.IO session (no token, no CONNECT), half are connected sockets;
  // each sends a 15 MB message, fifteen times the limit.
  const sockets = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => engineSocket({ connectNamespace: i % 2 === 1 })),
  );
  const huge = `42["sendMessage","${'x'.repeat(15_000_000)}"]`;
  const [codes, peak] = await peakRssDuring(() =>
    Promise.all(
      sockets.map((ws) => {
        const closed = closedBy(ws, 15_000);
        ws.send(huge);
        return closed;
      }),
    ),
  );
  assert.equal(codes.length, CLIENTS, 'every oversize connection was closed');
  const grew = peak - before;
  // 40 × 15 MB would be 600 MB buffered; the frame header alone is refused now.
  assert.ok(grew < 64 * MiB, `RSS grew by ${(grew / MiB).toFixed(1)} MiB under oversize frames`);
  await chatStillWorks();
});

test('many maximum-size WebSocket messages at once keep memory within the documented bound', { skip: !PID && 'NC_PID not set' }, async () => {
  const CLIENTS = 40;
  const sockets = await Promise.all(
    Array.from({ length: CLIENTS }, () => engineSocket({ connectNamespace: true })),
  );
  const before = rss();
  // Just inside the limit: accepted (an unknown event, dropped), the connection stays open.
  const filler = 'y'.repeat(MAX_PAYLOAD - 64);
  const message = `42["noSuchEvent","${filler}"]`;
  const [, peak] = await peakRssDuring(async () => {
    for (let round = 0; round < 3; round++) {
      for (const ws of sockets) ws.send(message);
      await sleep(300);
    }
  });
  for (const ws of sockets) assert.equal(ws.readyState, WebSocket.OPEN, 'a message within the limit is accepted');
  const grew = peak - before;
  // docs/realtime.md: at most about 3 × SOCKET_MAX_PAYLOAD per connection in flight.
  const bound = CLIENTS * 3 * MAX_PAYLOAD;
  assert.ok(grew < bound, `RSS grew by ${(grew / MiB).toFixed(1)} MiB, over ${(bound / MiB).toFixed(0)} MiB`);
  for (const ws of sockets) ws.close();
  await chatStillWorks();
});

async function pollingHandshake() {
  const res = await fetch(`${URL}/socket.io/?EIO=4&transport=polling`);
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, text };
  return { status: 200, sid: JSON.parse(text.slice(1)).sid };
}

const post = (sid, body) =>
  fetch(`${URL}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8' },
    body,
  });

test('a long-polling POST over the limit is answered 413 and its session lives on', async () => {
  const { sid } = await pollingHandshake();
  const over = await post(sid, `42["sendMessage","${'z'.repeat(MAX_PAYLOAD + 10)}"]`);
  assert.equal(over.status, 413);
  assert.match((await over.json()).message, /SOCKET_MAX_PAYLOAD/);
  // The same session still takes packets (an unknown session would answer 400).
  const next = await post(sid, '40');
  assert.equal(next.status, 200);
  assert.equal(await next.text(), 'ok');
  await post(sid, '1');
});

test('an address over SOCKET_MAX_PER_IP is refused new sessions; others go on', async () => {
  const sids = [];
  let refused = null;
  // Sessions of earlier tests may still count: stop at the first refusal.
  for (let i = 0; i <= MAX_PER_IP; i++) {
    const h = await pollingHandshake();
    if (h.status !== 200) {
      refused = h;
      break;
    }
    sids.push(h.sid);
  }
  assert.ok(refused, `${sids.length} sessions from one address and none refused`);
  assert.equal(refused.status, 429);
  assert.match(JSON.parse(refused.text).message, /too many Socket\.IO sessions/);
  // Closing sessions gives their places back. (One that never sent CONNECT keeps its place
  // until the 45 s connect timeout, as in Node; these connect first.)
  for (const sid of sids) await post(sid, '40');
  await Promise.all(sids.map((sid) => post(sid, '1')));
  await sleep(200);
  const again = await pollingHandshake();
  assert.equal(again.status, 200);
  await post(again.sid, '1');
});
