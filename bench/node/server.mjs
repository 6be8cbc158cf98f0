// The reference for ninecloud's benchmarks: Node.js socket.io 4 with its default settings,
// serving the two dialects ninecloud speaks, with the same payload shapes:
// - the NINE Cloud community chat, as the original backend did (contract §5.3):
//     login(name, ack)       → broadcast the system join `message`, ack {ok:true, data:user}
//     sendMessage(text, ack) → broadcast `message` {_id, chat, user:{id,name}, __v} to everyone,
//                              ack {ok:true}
// - the channel chat (docs/realtime.md), one Socket.IO room per channel:
//     channel:join({channelId}, ack)          → join `room:<id>`, ack {ok:true, channel, messages:[], ...}
//     channel:message({channelId, text}, ack) → broadcast `channel:message`
//                              {id, channelId, seq, userId, nickname, text, createdAt} to the room,
//                              ack {ok:true, id, seq, createdAt, duplicate:false}
// Without a store or accounts by default: the fan-out scenarios compare the Socket.IO servers.
// With PG_URL set it stores every message before broadcasting it, as the originals did (they
// wrote each chat to MongoDB first): one INSERT per message through the `pg` client's pool,
// a single statement that bumps the channel's counter and inserts the row (autocommit, so one
// transaction and one WAL flush per message), the same schema idea as ninecloud's chat log.
//   node server.mjs PORT               no store
//   PG_URL=postgres://… node server.mjs PORT   every message stored in PostgreSQL first
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Server } from 'socket.io';

const PG_URL = process.env.PG_URL;
let pool = null;
if (PG_URL) {
  const { default: pg } = await import('pg');
  pool = new pg.Pool({ connectionString: PG_URL, max: 10 });
  await pool.query(`CREATE TABLE IF NOT EXISTS ref_channels (id BIGINT PRIMARY KEY, last_seq BIGINT NOT NULL)`);
  await pool.query(`CREATE TABLE IF NOT EXISTS ref_messages (
    id TEXT PRIMARY KEY, channel_id BIGINT NOT NULL REFERENCES ref_channels (id), seq BIGINT NOT NULL,
    user_id BIGINT, nickname TEXT NOT NULL, body TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (channel_id, seq))`);
}
const STORE = `WITH c AS (
    INSERT INTO ref_channels (id, last_seq) VALUES ($1, 1)
    ON CONFLICT (id) DO UPDATE SET last_seq = ref_channels.last_seq + 1 RETURNING last_seq)
  INSERT INTO ref_messages (id, channel_id, seq, user_id, nickname, body, created_at)
  SELECT $2, $1, c.last_seq, $3, $4, $5, $6 FROM c RETURNING seq`;

// Stores the message (when PG_URL is set) and answers its sequence number; without a store,
// counts in memory.
async function store(channelId, id, userId, nickname, text, createdAt) {
  if (!pool) {
    const seq = (seqs.get(channelId) || 0) + 1;
    seqs.set(channelId, seq);
    return seq;
  }
  const r = await pool.query(STORE, [channelId, id, userId, nickname, text, createdAt]);
  return Number(r.rows[0].seq);
}

const port = Number(process.argv[2] || 3100);
const http = createServer();
const io = new Server(http, { cors: { origin: '*' } });
const objectId = () => randomBytes(12).toString('hex');
const seqs = new Map(); // channel id → last sequence number

io.on('connection', (socket) => {
  let user = null;
  socket.on('login', (name, ack) => {
    if (typeof name !== 'string' || !name) return ack?.({ ok: false, error: 'User must type name' });
    user = { _id: objectId(), name, token: socket.id, online: true, __v: 0 };
    io.emit('message', { chat: `${name.split('.')[0]} has joined the chat room`, user: { id: null, name: 'system' } });
    ack?.({ ok: true, data: user });
  });
  socket.on('sendMessage', async (text, ack) => {
    if (!user) return ack?.({ ok: false, error: 'User not found' });
    const id = objectId();
    if (pool) {
      try {
        await store(0, id, null, user.name, String(text), new Date());
      } catch (e) {
        return ack?.({ ok: false, error: 'could not store the message' });
      }
    }
    io.emit('message', { _id: id, chat: text, user: { id: user._id, name: user.name }, __v: 0 });
    ack?.({ ok: true });
  });

  socket.on('channel:join', (req, ack) => {
    const id = Number(req?.channelId);
    if (!Number.isInteger(id)) return ack?.({ ok: false, error: 'malformed payload' });
    socket.join(`room:${id}`);
    ack?.({ ok: true, channel: { id, room: `room:${id}` }, messages: [], hasMore: false, lastSeq: seqs.get(id) || 0 });
  });
  socket.on('channel:message', async (req, ack) => {
    const id = Number(req?.channelId);
    if (!socket.rooms.has(`room:${id}`)) return ack?.({ ok: false, error: 'join the channel first' });
    if (typeof req.text !== 'string' || !req.text.trim()) return ack?.({ ok: false, error: '"text" is empty' });
    const mid = objectId();
    const createdAt = new Date();
    let seq;
    try {
      seq = await store(id, mid, 1, 'bench', req.text, createdAt);
    } catch (e) {
      return ack?.({ ok: false, error: 'could not store the message' });
    }
    const message = {
      id: mid, channelId: id, seq, userId: 1, nickname: 'bench', text: req.text,
      createdAt: createdAt.toISOString(),
    };
    io.to(`room:${id}`).emit('channel:message', message);
    ack?.({ ok: true, id: message.id, seq, createdAt: message.createdAt, duplicate: false });
  });
});

http.listen(port, '127.0.0.1', () => console.log(`reference socket.io server on 127.0.0.1:${port}`));
