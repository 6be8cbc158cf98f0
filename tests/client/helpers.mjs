// Shared helpers for the socket.io-client suites. They talk to running ninecloud servers
// (started by scripts/test.sh): NC_URL is one instance; NC_URL_2, when set, is a second
// instance sharing Redis and the stores with the first. Accounts are made the way a user
// makes one: sign-up, the code from the SMTP sink (TEST_MAIL_DIR), sign-in.
import { readdir, readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { io } from 'socket.io-client';

export const URL = process.env.NC_URL;
export const URL_2 = process.env.NC_URL_2;
const MAIL_DIR = process.env.TEST_MAIL_DIR;
const PASSWORD = 'cloud9pw!';

if (!URL) throw new Error('NC_URL is not set: run the suite through scripts/test.sh');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function post(base, path, body) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json().catch(() => null) };
}

export async function http(base, method, path, token, body) {
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function mailedCode(email) {
  if (!MAIL_DIR) throw new Error('TEST_MAIL_DIR is not set');
  for (let i = 0; i < 100; i++) {
    const names = (await readdir(MAIL_DIR)).filter((n) => n.startsWith(`${email}-`)).sort();
    if (names.length) {
      const mail = JSON.parse(await readFile(join(MAIL_DIR, names.at(-1)), 'utf8'));
      return mail.text.split(': ').at(-1).trim();
    }
    await sleep(50);
  }
  throw new Error(`no mail for ${email}`);
}

/** A new account; returns {userId, username, token} with a fresh access token. */
export async function newUser(username, base = URL) {
  const email = `${randomUUID().replaceAll('-', '')}@nine.test`;
  let r = await post(base, '/signup', { email, password: PASSWORD, username });
  if (r.status !== 201) throw new Error(`signup: ${r.status} ${JSON.stringify(r.body)}`);
  const code = await mailedCode(email);
  r = await post(base, '/complete-signup', { email, password: PASSWORD, username, Authenticationcode: code });
  if (r.status !== 201) throw new Error(`complete-signup: ${r.status} ${JSON.stringify(r.body)}`);
  r = await post(base, '/signin', { email, password: PASSWORD });
  if (r.status !== 200) throw new Error(`signin: ${r.status}`);
  const token = r.headers.get('authorization').replace(/^Bearer /, '');
  const me = await http(base, 'GET', '/myInfo', token);
  if (me.status !== 200) throw new Error(`myInfo: ${me.status}`);
  return { userId: me.body.data.userId, username, token, email };
}

const open = new Set();

/** Connects and resolves once connected (rejects with the connect_error). */
export function connect(base = URL, opts = {}) {
  const socket = io(base, { forceNew: true, reconnection: false, timeout: 5000, ...opts });
  open.add(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  });
}

/** Connects as a signed-in user of the channel dialect. */
export const connectAs = (user, base = URL, opts = {}) =>
  connect(base, { auth: { token: user.token }, ...opts });

export function closeAll() {
  for (const s of open) s.disconnect();
  open.clear();
}

/** Emits and resolves with the acknowledgement (rejects after 5 s without one). */
export const ask = (socket, event, ...args) =>
  socket
    .timeout(5000)
    .emitWithAck(event, ...args)
    .catch((e) => {
      throw new Error(`${event} ${JSON.stringify(args[0])}: ${e.message}`);
    });

/** Records every `event` the socket receives. */
export function record(socket, event) {
  const list = [];
  socket.on(event, (m) => list.push(m));
  return list;
}

/** Waits until `check()` is truthy (polling), or fails with `what`. */
export async function until(check, what, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * The client side of recovery, as the README shows it: keep the last sequence number seen per
 * channel, rejoin with `since` after every reconnect, page through `channel:history` while
 * `hasMore`, and keep one message per sequence number.
 */
export class ChannelClient {
  constructor(socket, channelId, { pageSize } = {}) {
    this.socket = socket;
    this.channelId = channelId;
    this.pageSize = pageSize;
    this.bySeq = new Map();
    this.lastSeq = 0;
    this.duplicatesSeen = 0;
    socket.on('channel:message', (m) => {
      if (m.channelId === this.channelId) this.keep(m);
    });
    socket.io.on('reconnect', () => this.join().catch(() => {}));
  }

  keep(m) {
    if (this.bySeq.has(m.seq)) {
      this.duplicatesSeen++;
      return;
    }
    this.bySeq.set(m.seq, m);
    this.lastSeq = Math.max(this.lastSeq, m.seq);
  }

  async join() {
    const since = this.lastSeq;
    const ack = await ask(this.socket, 'channel:join', { channelId: this.channelId, since, limit: this.pageSize });
    if (!ack.ok) throw new Error(ack.error);
    ack.messages.forEach((m) => this.keep(m));
    let more = ack.hasMore;
    while (more) {
      const page = await ask(this.socket, 'channel:history', {
        channelId: this.channelId,
        since: this.lastSeq,
        limit: this.pageSize,
      });
      page.messages.forEach((m) => this.keep(m));
      more = page.hasMore;
    }
    return ack;
  }

  texts() {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq).map((m) => m.text);
  }
}
