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
 * The client side of recovery, as docs/realtime.md shows it: keep one message per sequence
 * number and a watermark, the highest `seq` up to which nothing is missing. Rejoin with
 * `since: watermark` after every reconnect and page through `channel:history` while `hasMore`.
 * When a gap stays open for a second (a message lost with a connection, or stored late by
 * another instance), ask `channel:history` since the watermark; a gap that three such reads
 * do not fill is a sequence number that was never stored, and is skipped.
 * Not `since: highest seen`: messages arrive out of order across instances, and an older
 * one that was lost would be skipped for good.
 */
export class ChannelClient {
  constructor(socket, channelId, { pageSize, gapWaitMs = 1000 } = {}) {
    this.socket = socket;
    this.channelId = channelId;
    this.pageSize = pageSize;
    this.gapWaitMs = gapWaitMs;
    this.bySeq = new Map();
    this.lastSeq = 0; // the watermark
    this.maxSeq = 0;
    this.duplicatesSeen = 0;
    this.gapReads = 0;
    this.gapTimer = null;
    socket.on('channel:message', (m) => {
      if (m.channelId === this.channelId) this.keep(m);
    });
    this.joinErrors = []; // rejoins after a reconnect that failed (for a test's diagnostics)
    socket.io.on('reconnect', () => this.join().catch((e) => this.joinErrors.push(e.message)));
  }

  keep(m) {
    if (this.bySeq.has(m.seq)) {
      this.duplicatesSeen++;
      return;
    }
    this.bySeq.set(m.seq, m);
    this.maxSeq = Math.max(this.maxSeq, m.seq);
    this.advance();
  }

  advance() {
    const before = this.lastSeq;
    while (this.bySeq.has(this.lastSeq + 1)) this.lastSeq++;
    if (this.lastSeq !== before) this.gapReads = 0;
    if (this.maxSeq > this.lastSeq && !this.gapTimer) {
      this.gapTimer = setTimeout(() => this.fillGap(), this.gapWaitMs);
      this.gapTimer.unref();
    }
  }

  async fillGap() {
    this.gapTimer = null;
    if (!this.socket.connected) return; // the rejoin after the reconnect reads it
    const at = this.lastSeq;
    await this.readSince(at).catch(() => {});
    if (this.lastSeq === at && this.maxSeq > at) {
      if (++this.gapReads >= 3) {
        this.lastSeq++; // never stored: step over it
        this.gapReads = 0;
      }
    }
    this.advance();
  }

  /** Everything after `since`, page by page (the cursor is each page's last message). */
  async readSince(since) {
    let cursor = since;
    for (;;) {
      const page = await ask(this.socket, 'channel:history', {
        channelId: this.channelId,
        since: cursor,
        limit: this.pageSize,
      });
      if (!page.ok) throw new Error(page.error);
      page.messages.forEach((m) => this.keep(m));
      if (!page.hasMore || !page.messages.length) return;
      cursor = page.messages.at(-1).seq;
    }
  }

  async join() {
    const ack = await ask(this.socket, 'channel:join', {
      channelId: this.channelId,
      since: this.lastSeq,
      limit: this.pageSize,
    });
    if (!ack.ok) throw new Error(ack.error);
    ack.messages.forEach((m) => this.keep(m));
    if (ack.hasMore && ack.messages.length) await this.readSince(ack.messages.at(-1).seq);
    return ack;
  }

  texts() {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq).map((m) => m.text);
  }
}
