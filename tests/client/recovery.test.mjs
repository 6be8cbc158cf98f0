// Recovery by sequence number: a client whose connection drops comes back and has every
// message it missed exactly once, in order, while the others kept talking.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { URL, URL_2, ChannelClient, ask, closeAll, connectAs, http, newUser, sleep, until } from './helpers.mjs';

after(closeAll);

async function setup() {
  const owner = await newUser('방장');
  const talker = await newUser('수다쟁이');
  const listener = await newUser('듣는귀');
  const r = await http(URL, 'POST', '/channels', owner.token, { name: `recovery-${Date.now()}` });
  return { owner, talker, listener, ch: r.body.channel };
}

test('a client cut off for 10 seconds gets every missed message exactly once, in order', async () => {
  const { talker, listener, ch } = await setup();
  const t = await connectAs(talker);
  await ask(t, 'channel:join', { channelId: ch.id });
  // The listener reconnects on its own (socket.io-client's default), ten seconds after the cut.
  const l = await connectAs(listener, URL, {
    reconnection: true,
    reconnectionDelay: 10000,
    reconnectionDelayMax: 10000,
    randomizationFactor: 0,
  });
  const client = new ChannelClient(l, ch.id);
  await client.join();

  const expected = [];
  const say = async (text) => {
    const ack = await ask(t, 'channel:message', { channelId: ch.id, text });
    assert.equal(ack.ok, true);
    expected.push(text);
  };
  for (let i = 0; i < 5; i++) await say(`before ${i}`);
  await until(() => client.bySeq.size === 5, 'live messages before the cut');

  // The network drops: the transport closes without a goodbye, as when Wi-Fi goes away.
  const cutAt = Date.now();
  l.io.engine.close();
  await until(() => !l.connected, 'disconnected');
  let i = 0;
  while (Date.now() - cutAt < 9000) {
    await say(`while away ${i++}`);
    await sleep(400);
  }
  await until(() => l.connected, 'reconnected', 8000);
  assert.ok(Date.now() - cutAt >= 9500, 'the client really was away for about 10 s');
  for (let j = 0; j < 3; j++) await say(`after ${j}`);

  await until(() => client.bySeq.size === expected.length, `all ${expected.length} messages`, 8000);
  assert.deepEqual(client.texts(), expected);
  const seqs = [...client.bySeq.keys()].sort((a, b) => a - b);
  assert.deepEqual(seqs, Array.from({ length: expected.length }, (_, k) => k + 1));
});

test('recovery pages through a gap longer than one page with channel:history', async () => {
  const { owner, talker, listener, ch } = await setup();
  const t = await connectAs(talker);
  const o = await connectAs(owner);
  await ask(t, 'channel:join', { channelId: ch.id });
  await ask(o, 'channel:join', { channelId: ch.id });
  const l = await connectAs(listener);
  const client = new ChannelClient(l, ch.id, { pageSize: 10 });
  await client.join();
  l.disconnect();
  const expected = [];
  for (let k = 0; k < 13; k++) {
    for (const [s, who] of [[t, 't'], [o, 'o']]) {
      const ack = await ask(s, 'channel:message', { channelId: ch.id, text: `${who}${k}` });
      assert.equal(ack.ok, true, JSON.stringify(ack));
      expected.push(`${who}${k}`);
    }
  }
  l.connect();
  await until(() => l.connected, 'reconnected');
  const ack = await client.join();
  assert.equal(ack.lastSeq, 26);
  assert.equal(ack.hasMore, true, 'the first page was not all of it');
  assert.deepEqual(client.texts(), expected);
  assert.equal(client.duplicatesSeen, 0);
});

test('a client recovers on the other instance', { skip: !URL_2 && 'NC_URL_2 not set' }, async () => {
  const { talker, listener, ch } = await setup();
  const t = await connectAs(talker, URL);
  await ask(t, 'channel:join', { channelId: ch.id });
  const first = await connectAs(listener, URL);
  const client = new ChannelClient(first, ch.id);
  await client.join();
  await ask(t, 'channel:message', { channelId: ch.id, text: 'one' });
  await until(() => client.bySeq.size === 1, 'first message');
  first.disconnect();
  await ask(t, 'channel:message', { channelId: ch.id, text: 'two' });
  await ask(t, 'channel:message', { channelId: ch.id, text: 'three' });
  // Same client state, new connection to instance 2 (as after a blue/green switch).
  const second = await connectAs(listener, URL_2);
  const moved = new ChannelClient(second, ch.id);
  moved.bySeq = client.bySeq;
  moved.lastSeq = client.lastSeq;
  moved.maxSeq = client.maxSeq;
  await moved.join();
  await ask(t, 'channel:message', { channelId: ch.id, text: 'four' });
  await until(() => moved.bySeq.size === 4, 'live on instance 2');
  assert.deepEqual(moved.texts(), ['one', 'two', 'three', 'four']);
});
