// A real Prometheus server (Debian's `prometheus`, started by scripts/test.sh with
// deploy/prometheus/prometheus.yml's job and a 1 s scrape interval) scrapes two ninecloud
// instances that share Redis, PostgreSQL and MongoDB. After a scripted chat session across both,
// PromQL over Prometheus' HTTP API shows what happened; and every metric the Grafana dashboard
// (deploy/grafana/ninecloud.json) queries exists.
//
// Needs NC_URL, NC_URL_2 (the instances) and PROM_URL (Prometheus).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { URL, URL_2, ask, closeAll, connectAs, http, newUser, record, sleep, until } from '../client/helpers.mjs';

const PROM = process.env.PROM_URL;
if (!PROM || !URL_2) throw new Error('PROM_URL and NC_URL_2 are needed: run through scripts/test.sh');
after(closeAll);

async function query(promql) {
  const res = await fetch(`${PROM}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = await res.json();
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data.result;
}

/** The one value of a PromQL expression that sums to a scalar-like vector (0 when empty). */
async function scalar(promql) {
  const r = await query(promql);
  return r.length ? Number(r[0].value[1]) : 0;
}

/** Polls the async `check` until it is true, or fails with `what`. */
async function eventually(check, what, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until Prometheus has scraped both instances after this moment. */
async function freshScrape() {
  const since = Date.now() / 1000;
  await eventually(async () => {
    const r = await query('timestamp(up{job="ninecloud"})');
    return r.length === 2 && r.every((s) => Number(s.value[1]) > since + 0.1);
  }, 'a scrape of both instances');
}

test('Prometheus scrapes both instances and counts a chat session', async () => {
  await eventually(async () => (await query('up{job="ninecloud"} == 1')).length === 2, 'both instances up');
  await freshScrape();
  const stored = 'sum(ninecloud_chat_appends_total{outcome="stored"})';
  const broadcasts = 'sum(ninecloud_broadcasts_total{event="channel:message"})';
  const dropped = 'sum(ninecloud_broadcast_dropped_total)';
  const signups = 'sum(ninecloud_http_requests_total{route="/complete-signup",status="201"})';
  const acked = 'sum(ninecloud_acks_total{outcome="ok"})';
  const channelDialect = 'sum(ninecloud_socket_dialects_total{dialect="channels"})';
  const before = {
    acked: await scalar(acked),
    channelDialect: await scalar(channelDialect),
    stored: await scalar(stored),
    signups: await scalar(signups),
    broadcasts: await scalar(broadcasts),
    dropped: await scalar(dropped),
  };

  // Two people on each instance, in one channel, ten messages each.
  const users = [await newUser('프로메1'), await newUser('프로메2', URL_2), await newUser('프로메3'), await newUser('프로메4', URL_2)];
  const made = await http(URL, 'POST', '/channels', users[0].token, { name: `metrics-${Date.now()}` });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const channelId = made.body.channel.id;
  const sockets = [];
  for (const [i, u] of users.entries()) {
    const s = await connectAs(u, i % 2 ? URL_2 : URL);
    assert.equal((await ask(s, 'channel:join', { channelId })).ok, true);
    sockets.push(s);
  }
  const seen = record(sockets[0], 'channel:message');
  for (let n = 0; n < 10; n++) {
    for (const s of sockets) {
      assert.equal((await ask(s, 'channel:message', { channelId, text: `m${n}` })).ok, true);
    }
  }
  await until(() => seen.length === 40, 'all 40 messages at the first client', 10000);
  await freshScrape();

  assert.equal(await scalar(stored) - before.stored, 40);
  assert.equal(await scalar(signups) - before.signups, 4);
  // Each message is broadcast once, by the instance that stored it; nobody missed one.
  assert.equal(await scalar(broadcasts) - before.broadcasts, 40);
  assert.equal(await scalar(dropped) - before.dropped, 0);
  // 4 joins and 40 sends, each answered {ok: true}; 4 sockets whose first event was the channel dialect's.
  assert.equal(await scalar(acked) - before.acked, 44);
  assert.equal(await scalar(channelDialect) - before.channelDialect, 4);
  // Each instance holds its own two sockets (at least: other suites may linger).
  const perInstance = await query('sum by (instance) (ninecloud_sockets)');
  assert.equal(perInstance.length, 2);
  for (const s of perInstance) assert.ok(Number(s.value[1]) >= 2, JSON.stringify(perInstance));
  // Latency histograms answer quantiles; the pool and process are there for each instance.
  // (Over the whole life of the series: the session may fit between two scrapes.)
  const p99 = await scalar('histogram_quantile(0.99, sum by (le) (ninecloud_chat_append_duration_seconds_bucket))');
  assert.ok(p99 > 0 && p99 < 30, `p99 ${p99}`);
  assert.equal((await query('ninecloud_db_pool_connections{state="max"}')).length, 2);
  assert.equal((await query('process_resident_memory_bytes{job="ninecloud"} > 0')).length, 2);
});

test('the Grafana dashboard queries only metrics that exist', async () => {
  const dash = JSON.parse(await readFile(new globalThis.URL('../../deploy/grafana/ninecloud.json', import.meta.url), 'utf8'));
  const exprs = [
    ...dash.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ...dash.templating.list.map((v) => v.definition),
  ];
  assert.ok(exprs.length >= 10);
  const res = await fetch(`${PROM}/api/v1/label/__name__/values`);
  const names = new Set((await res.json()).data);
  const used = new Set(exprs.flatMap((e) => e.match(/\b(?:ninecloud|process)_[a-z_]+|\bup\b/g) ?? []));
  assert.ok(used.size >= 10, [...used].join(' '));
  const missing = [...used].filter((n) => !names.has(n));
  assert.deepEqual(missing, [], `the dashboard queries metrics Prometheus has never seen: ${missing}`);
  // Every query parses and runs.
  for (const e of exprs) {
    const q = e.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*');
    if (q.startsWith('label_values(')) continue;
    await query(q);
  }
});
