// The reference for ninecloud's benchmarks: Node.js socket.io 4 with its default settings,
// serving the NINE Cloud community-chat dialect as the original backend did (contract §5.3):
//   login(name, ack)       → broadcast the system join `message`, ack {ok:true, data:user}
//   sendMessage(text, ack) → broadcast `message` {_id, chat, user:{id,name}, __v} to everyone,
//                            ack {ok:true}
// Without a store (the original wrote to MongoDB first): the fan-out scenarios compare the
// Socket.IO servers; ninecloud's persisted path is measured on its own (scenario 4).
//   node server.mjs PORT
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Server } from 'socket.io';

const port = Number(process.argv[2] || 3100);
const http = createServer();
const io = new Server(http, { cors: { origin: '*' } });
const objectId = () => randomBytes(12).toString('hex');

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
});

http.listen(port, '127.0.0.1', () => console.log(`reference socket.io server on 127.0.0.1:${port}`));
