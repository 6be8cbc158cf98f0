// `ninecloud import everyones-friend` into the running server(s), then the imported people
// through socket.io-client: an original-style client enters an imported channel by its old
// uuid and chats on after the imported log; an imported account signs in with its old password
// and joins the channel in the channel dialect, whose history is the imported log in date
// order. The original's data: a MariaDB database made from tests/import/everyones_friend.sql
// and a MongoDB `chats` collection, as the Rust tests (tests/api/import.rs) make them.
//
// Needs NC_BIN (the ninecloud binary), NC_DATA_DIR and, when the server has them,
// NC_DATABASE_URL and NC_MONGO_DB (its stores), TEST_MYSQL_URL and TEST_MONGO_URL.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { MongoClient, ObjectId } from 'mongodb';
import { URL, URL_2, ask, closeAll, connect, connectAs, record, until } from './helpers.mjs';

const run = promisify(execFile);
after(closeAll);
const OTHER = URL_2 || URL;
// bcrypt (cost 4, `$2b$`) of 'friend123!', as the original's bcrypt wrote it.
const PASSWORD = 'friend123!';
const HASH = '$2b$04$/H9hrqeN3z5yzv//AqSl4uYXh7hrMCwAq1kW5yPt1v0rznxjY68Bq';

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite through scripts/test.sh`);
  return v;
}

/** A fresh MariaDB database of the original, with `rows` (SQL) in it; its mysql:// URL. */
async function sourceDatabase(rows) {
  const admin = new globalThis.URL(need('TEST_MYSQL_URL'));
  const name = `nct_src_${randomUUID().replaceAll('-', '')}`;
  const ddl = await readFile(new globalThis.URL('../import/everyones_friend.sql', import.meta.url), 'utf8');
  const client = [
    `-h${admin.hostname}`, `-P${admin.port || 3306}`, `-u${decodeURIComponent(admin.username)}`,
    `-p${decodeURIComponent(admin.password)}`,
  ];
  await run('mariadb', [...client, '-e', `CREATE DATABASE ${name} CHARACTER SET utf8mb4`]);
  await run('mariadb', [...client, name, '-e', `${ddl}\n${rows}`]);
  admin.pathname = `/${name}`;
  return admin.toString();
}

/** The log as mongoose wrote it, in a fresh MongoDB database; its URL. */
async function sourceChats(docs) {
  const url = new globalThis.URL(need('TEST_MONGO_URL'));
  url.pathname = `/nct_src_${randomUUID().replaceAll('-', '')}`;
  const client = new MongoClient(url.toString());
  try {
    await client.db().collection('chats').insertMany(docs);
  } finally {
    await client.close();
  }
  return url.toString();
}

async function importFriend(from, mongo) {
  const env = { PATH: process.env.PATH, DATA_DIR: need('NC_DATA_DIR'), SECRET_KEY: 'import-test-secret-key-0123456789', RUST_LOG: 'warn' };
  if (process.env.NC_DATABASE_URL) env.DATABASE_URL = process.env.NC_DATABASE_URL;
  if (process.env.NC_MONGO_DB) env.MONGO_DB = process.env.NC_MONGO_DB;
  const { stdout } = await run(need('NC_BIN'), ['import', 'everyones-friend', '--from', from, '--mongo', mongo], { env });
  return stdout;
}

const long = (iso) => new Date(iso).toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) (.*) GMT$/, '$1 $3 $2 $4 $5 GMT+0000 (Coordinated Universal Time)');

test('an imported channel, account and log work through socket.io-client', async () => {
  const channel = randomUUID();
  const email = `${randomUUID().replaceAll('-', '')}@friend.test`;
  const from = await sourceDatabase(`
INSERT INTO \`User\` (id, nickname, email, password, createat) VALUES ('${randomUUID()}', '옛친구', '${email}', '${HASH}', '2022-06-01 10:00:00');
INSERT INTO channel (id, title, intro, description) VALUES ('${channel}', '옛 채널', '옮겨 온 방', NULL);
INSERT INTO channel_join (id, email, channelId) VALUES ('${randomUUID()}', '${email}', '${channel}');`);
  // Stored out of date order: the date decides the numbering.
  const at = ['2022-07-01T08:00:03Z', '2022-07-01T08:00:01Z', '2022-07-01T08:00:02Z'];
  const mongo = await sourceChats(['셋', '하나', '둘'].map((content, i) => ({
    _id: new ObjectId(), nickname: '옛친구', content, channel, date: long(at[i]), __v: 0,
  })));
  const out = await importFriend(from, mongo);
  assert.match(out, /imported 6 new rows of 6 read/);

  // An original-style client: no token, enterChannel by the old uuid, the log over REST.
  const ef = await connect(URL);
  const efGot = record(ef, 'sendMessage');
  ef.emit('enterChannel', channel);
  const log = await (await fetch(`${OTHER}/channel/${channel}/chats`)).json();
  assert.deepEqual(log.chats.map((c) => [c.seq, c.message]), [[3, '셋'], [2, '둘'], [1, '하나']]);
  assert.equal(log.chats[2].date, '2022-07-01T08:00:01.000Z');

  // The imported account signs in with its old password, finds its favourite, and joins in
  // the channel dialect: the history is the imported log; the next message follows it.
  const login = await fetch(`${OTHER}/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }),
  });
  assert.equal(login.status, 200);
  const token = login.headers.get('authorization').replace(/^Bearer /, '');
  const favourites = await (await fetch(`${URL}/channel/${email}`)).json();
  assert.deepEqual(favourites.map((c) => c.id), [channel]);
  const member = await connectAs({ token }, OTHER);
  const joined = await ask(member, 'channel:join', { channelId: channel });
  assert.equal(joined.ok, true, JSON.stringify(joined));
  assert.deepEqual(joined.messages.map((m) => [m.seq, m.text]), [[1, '하나'], [2, '둘'], [3, '셋']]);
  assert.equal(joined.lastSeq, 3);
  const sent = await ask(member, 'channel:message', { channelId: channel, text: '다시 왔어요' });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  assert.equal(sent.seq, 4);
  await until(() => efGot.some((m) => m.message === '다시 왔어요'), 'the original-style client gets the new message');
  assert.equal(efGot.find((m) => m.message === '다시 왔어요').nickname, '옛친구');
});
