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
// Without a store or accounts (the original wrote to MongoDB first): the fan-out scenarios
// compare the Socket.IO servers; ninecloud's persisted path is measured on its own (scenario 4).
//   node server.mjs PORT
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Server } from 'socket.io';

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
  socket.on('sendMessage', (text, ack) => {
    if (!user) return ack?.({ ok: false, error: 'User not found' });
    io.emit('message', { _id: objectId(), chat: text, user: { id: user._id, name: user.name }, __v: 0 });
    ack?.({ ok: true });
  });

  socket.on('channel:join', (req, ack) => {
    const id = Number(req?.channelId);
    if (!Number.isInteger(id)) return ack?.({ ok: false, error: 'malformed payload' });
    socket.join(`room:${id}`);
    ack?.({ ok: true, channel: { id, room: `room:${id}` }, messages: [], hasMore: false, lastSeq: seqs.get(id) || 0 });
  });
  socket.on('channel:message', (req, ack) => {
    const id = Number(req?.channelId);
    if (!socket.rooms.has(`room:${id}`)) return ack?.({ ok: false, error: 'join the channel first' });
    if (typeof req.text !== 'string' || !req.text.trim()) return ack?.({ ok: false, error: '"text" is empty' });
    const seq = (seqs.get(id) || 0) + 1;
    seqs.set(id, seq);
    const message = {
      id: objectId(), channelId: id, seq, userId: 1, nickname: 'bench', text: req.text,
      createdAt: new Date().toISOString(),
    };
    io.to(`room:${id}`).emit('channel:message', message);
    ack?.({ ok: true, id: message.id, seq, createdAt: message.createdAt, duplicate: false });
  });
});

http.listen(port, '127.0.0.1', () => console.log(`reference socket.io server on 127.0.0.1:${port}`));
