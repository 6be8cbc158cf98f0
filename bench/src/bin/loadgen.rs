//! `loadgen`: Socket.IO load over WebSocket (Engine.IO v4, Socket.IO protocol v5), in one of
//! ninecloud's two dialects:
//! - `nine` (the NINE Cloud community chat): `login(name)` and `sendMessage(text)` with
//!   acknowledgements, and the broadcast `message` `{chat, user, ...}` every client receives;
//! - `channels` (Everyone's friend): the handshake carries `auth: {token}`, each client sends
//!   `channel:join {channelId}` for one of `--channels` (client *i* takes the *i mod R*-th), and
//!   `channel:message {channelId, text}` is broadcast as `channel:message` to that room only;
//!
//! or `raw` WebSocket text frames for the baseline server (`wsbaseline`).
//!
//! Opens `--clients` connections at `--connect-rate` per second, logs or joins each in, lets the
//! first `--senders` of them send `--rate` messages per second in all (or `--burst` at once
//! every second), for `--duration` seconds, then waits `--drain` seconds for the last deliveries.
//! Every message carries its sender, its number and its send time (µs on this process's clock),
//! so each receiver measures delivery latency and notices missing and duplicate messages.
//! Prints one JSON object with the results. Bounded in clients and time; loopback only.
//! Written for ninecloud's benchmarks: no crate speaks Socket.IO as a load generator.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use ninecloud_bench::Report;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// The NINE Cloud dialect (`login`, `sendMessage`, broadcast `message`).
    #[value(alias = "socketio")]
    Nine,
    /// The channel dialect (`channel:join`, `channel:message`), one room per channel id.
    Channels,
    /// Plain WebSocket text frames, each broadcast to every client (`wsbaseline`).
    Raw,
}

#[derive(Parser, Debug, Clone)]
#[command(about = "Socket.IO load generator (NINE Cloud dialect) for scripts/bench.sh")]
struct Args {
    /// Server address, e.g. 127.0.0.1:3000 (loopback only).
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// Socket.IO path.
    #[arg(long, default_value = "/socket.io/")]
    path: String,
    /// Connections to open.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// New connections per second.
    #[arg(long, default_value_t = 500.0)]
    connect_rate: f64,
    /// How many of the clients send.
    #[arg(long, default_value_t = 1)]
    senders: usize,
    /// Messages per second, all senders together (ignored with --burst).
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Messages each sender sends at once, once a second, instead of a steady rate.
    #[arg(long, default_value_t = 0)]
    burst: usize,
    /// Seconds of sending (or of holding the connections when there are no senders).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds to wait for the last deliveries after the sending stops.
    #[arg(long, default_value_t = 3.0)]
    drain: f64,
    /// Seconds a connection and login may take before it counts as failed.
    #[arg(long, default_value_t = 10.0)]
    connect_timeout: f64,
    /// `nine` (the NINE Cloud dialect), `channels` (the channel dialect, rooms), or `raw`: plain
    /// WebSocket text frames, each one broadcast to every client, no acknowledgements (the
    /// baseline server, `wsbaseline`).
    #[arg(long, value_enum, default_value_t = Protocol::Nine)]
    protocol: Protocol,
    /// With `--protocol channels`: the channel ids, comma-separated; client *i* joins the
    /// *(i mod R)*-th, so the first R clients (the senders, with `--senders R`) cover every room.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    channels: Vec<i64>,
    /// With `--protocol channels`: the access token sent as the handshake's `auth.token`.
    #[arg(long, env = "LOADGEN_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Connect without `login` (the idle scenario: a login is broadcast to everyone, which
    /// with thousands of clients would be a storm, not idleness).
    #[arg(long)]
    no_login: bool,
    /// Print the JSON on one line.
    #[arg(long)]
    compact: bool,
    /// A file to create when every client has connected (or failed) and sending is about to
    /// start (half a second later): scripts/bench.sh reads the server's CPU time then, so the
    /// sending phase is measured apart from connecting and joining.
    #[arg(long)]
    phase_file: Option<std::path::PathBuf>,
}

/// The payload of one benchmark message: `b|<sender>|<number>|<send time µs>`.
fn payload(sender: usize, n: u64, t_us: u64) -> String {
    format!("b|{sender}|{n}|{t_us}")
}

fn parse_payload(chat: &str) -> Option<(usize, u64, u64)> {
    let mut it = chat.strip_prefix("b|")?.split('|');
    Some((
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    ))
}

/// Microseconds, 1 µs to 10 minutes, three significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds")
}

/// What one receiving client saw.
struct Seen {
    latency: Histogram<u64>,
    /// Per sender, a bit per message number.
    got: HashMap<usize, Vec<u64>>,
    delivered: u64,
    duplicates: u64,
}

impl Seen {
    fn new() -> Self {
        Seen {
            latency: histogram(),
            got: HashMap::new(),
            delivered: 0,
            duplicates: 0,
        }
    }

    fn record(&mut self, sender: usize, n: u64, latency_us: u64) {
        let bits = self.got.entry(sender).or_default();
        let (word, bit) = ((n / 64) as usize, n % 64);
        if bits.len() <= word {
            bits.resize(word + 1, 0);
        }
        if bits[word] & (1 << bit) != 0 {
            self.duplicates += 1;
            return;
        }
        bits[word] |= 1 << bit;
        self.delivered += 1;
        let _ = self.latency.record(latency_us.max(1));
    }

    #[cfg(test)]
    fn has(&self, sender: usize, n: u64) -> bool {
        self.got
            .get(&sender)
            .and_then(|bits| bits.get((n / 64) as usize))
            .is_some_and(|w| w & (1 << (n % 64)) != 0)
    }
}

#[derive(Default)]
struct Counters {
    connected: AtomicU64,
    /// When the last successful connection completed (µs since start).
    last_connected_us: AtomicU64,
    connect_failures: AtomicU64,
    sent: AtomicU64,
    acked: AtomicU64,
    send_failures: AtomicU64,
}

/// This process's CPU time (user + system), from /proc/self/stat (USER_HZ is 100 on Linux).
fn own_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // The fields after the parenthesised command name; utime and stime are 14 and 15.
            let rest = stat.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0)
}

struct Shared {
    args: Args,
    /// Clients that have connected or failed; the sending starts when all have.
    settled: std::sync::atomic::AtomicUsize,
    settled_notify: tokio::sync::Notify,
    start: Instant,
    counters: Counters,
    /// Acknowledged message numbers per sender (each sender numbers from 0).
    acked_upto: Vec<AtomicU64>,
    /// Connected clients per room (one room but for `--protocol channels`).
    in_room: Vec<AtomicU64>,
}

impl Shared {
    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// The room (an index into `--channels`) client `index` joins.
    fn room_of(&self, index: usize) -> usize {
        index % self.in_room.len()
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Opens the WebSocket, answers the Engine.IO open, connects to the `/` namespace, logs in.
async fn connect(shared: &Shared, index: usize) -> anyhow::Result<Ws> {
    let args = &shared.args;
    let url = format!(
        "ws://{}{}?EIO=4&transport=websocket",
        args.addr,
        if args.path.ends_with('/') {
            args.path.clone()
        } else {
            format!("{}/", args.path)
        }
    );
    let url = match args.protocol {
        Protocol::Nine | Protocol::Channels => url,
        Protocol::Raw => format!("ws://{}/", args.addr),
    };
    let stream = tokio::net::TcpStream::connect(args.addr).await?;
    stream.set_nodelay(true)?;
    let (mut ws, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .context("WebSocket handshake")?;
    if args.protocol == Protocol::Raw {
        return Ok(ws);
    }
    // 0{"sid":..} (Engine.IO open), then 40 → 40{"sid":..} (Socket.IO connect).
    let open = next_text(&mut ws).await?;
    if !open.starts_with('0') {
        bail!("expected the Engine.IO open packet, got {open:?}");
    }
    let connect = match &args.token {
        Some(token) if args.protocol == Protocol::Channels => {
            format!("40{}", serde_json::json!({ "token": token }))
        }
        _ => "40".to_string(),
    };
    ws.send(Message::text(connect)).await?;
    loop {
        let p = next_text(&mut ws).await?;
        if p.starts_with("40") {
            break;
        }
        if p.starts_with("44") {
            bail!("connect refused: {p}");
        }
    }
    if args.no_login {
        return Ok(ws);
    }
    // Ack id 0 for the login or join; messages use 1, 2, ...
    let hello = match args.protocol {
        Protocol::Channels => serde_json::json!([
            "channel:join",
            { "channelId": args.channels[shared.room_of(index)] }
        ]),
        _ => serde_json::json!(["login", format!("bench {index}")]),
    };
    ws.send(Message::text(format!("420{hello}"))).await?;
    loop {
        let p = next_text(&mut ws).await?;
        if let Some(ack) = p.strip_prefix("430") {
            if !ack.contains("\"ok\":true") {
                bail!("login or join refused: {ack}");
            }
            return Ok(ws);
        }
    }
}

/// The next text frame while connecting, answering the server's pings on the way.
async fn next_text(ws: &mut Ws) -> anyhow::Result<String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                ws.send(Message::text("3")).await?;
            }
            Some(Ok(Message::Text(t))) => return Ok(t.to_string()),
            Some(Ok(Message::Close(_))) | None => bail!("connection closed"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
        }
    }
}

/// One client: connect, wait for the start (when every client has connected or failed), then
/// read (and send, for a sender) until the sending stops, then drain.
async fn client(
    shared: Arc<Shared>,
    index: usize,
    mut start: tokio::sync::watch::Receiver<Option<Instant>>,
    totals: Arc<Mutex<Totals>>,
    connect_ms: Arc<Mutex<Histogram<u64>>>,
) {
    let began = Instant::now();
    let connected = tokio::time::timeout(
        Duration::from_secs_f64(shared.args.connect_timeout),
        connect(&shared, index),
    )
    .await;
    let mut ws = match connected {
        Ok(Ok(ws)) => ws,
        _ => {
            shared
                .counters
                .connect_failures
                .fetch_add(1, Ordering::Relaxed);
            shared.settled.fetch_add(1, Ordering::AcqRel);
            shared.settled_notify.notify_one();
            return;
        }
    };
    let _ = connect_ms
        .lock()
        .await
        .record(began.elapsed().as_micros().max(1) as u64);
    shared.counters.connected.fetch_add(1, Ordering::Relaxed);
    shared.in_room[shared.room_of(index)].fetch_add(1, Ordering::Relaxed);
    shared
        .counters
        .last_connected_us
        .fetch_max(shared.now_us(), Ordering::Relaxed);
    // What this client records, allocated now rather than at the start: 2,000 histograms
    // zeroed at once kept loadgen busy for most of the first second of sending, and the first
    // messages of every run measured loadgen's start-up instead of the server.
    let mut local = Seen::new();
    shared.settled.fetch_add(1, Ordering::AcqRel);
    shared.settled_notify.notify_one();
    let send_from = match start.wait_for(Option::is_some).await {
        Ok(at) => at.expect("set"),
        Err(_) => return,
    };
    let stop_at = send_from + Duration::from_secs_f64(shared.args.duration);
    let drain_until = stop_at + Duration::from_secs_f64(shared.args.drain);

    let is_sender = index < shared.args.senders;
    let args = &shared.args;
    let channel = args.channels[shared.room_of(index)];
    // A steady sender sends every `period`; a burst sender sends `burst` every second.
    let per_sender_rate = args.rate / args.senders.max(1) as f64;
    let period = if args.burst > 0 {
        Duration::from_secs(1)
    } else {
        Duration::from_secs_f64(1.0 / per_sender_rate.max(0.001))
    };
    let mut ticker = tokio::time::interval_at(send_from.into(), period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut n: u64 = 0;
    let mut sending = is_sender;
    loop {
        tokio::select! {
            _ = ticker.tick(), if sending => {
                if Instant::now() >= stop_at {
                    sending = false;
                    continue;
                }
                let count = if args.burst > 0 { args.burst } else { 1 };
                for _ in 0..count {
                    // Ack ids are the message numbers + 1 (login used 0).
                    let text = payload(index, n, shared.now_us());
                    let packet = match args.protocol {
                        Protocol::Nine => {
                            format!("42{}{}", n + 1, serde_json::json!(["sendMessage", text]))
                        }
                        Protocol::Channels => format!(
                            "42{}{}",
                            n + 1,
                            serde_json::json!([
                                "channel:message",
                                { "channelId": channel, "text": text }
                            ])
                        ),
                        Protocol::Raw => text,
                    };
                    if ws.send(Message::text(packet)).await.is_err() {
                        shared.counters.send_failures.fetch_add(1, Ordering::Relaxed);
                        sending = false;
                        break;
                    }
                    shared.counters.sent.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                    if args.protocol == Protocol::Raw {
                        // No acknowledgements in the raw protocol: sent is as good as it gets.
                        shared.counters.acked.fetch_add(1, Ordering::Relaxed);
                        shared.acked_upto[index].fetch_max(n, Ordering::Relaxed);
                    }
                }
            }
            _ = tokio::time::sleep_until(drain_until.into()) => break,
            msg = ws.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(_)) => continue,
                    _ => break,
                };
                let now = shared.now_us();
                if args.protocol == Protocol::Raw {
                    if let Some((sender, num, t)) = parse_payload(text.as_str()) {
                        local.record(sender, num, now.saturating_sub(t));
                    }
                } else if text.as_str() == "2" {
                    let _ = ws.send(Message::text("3")).await;
                } else if let Some(rest) = text.strip_prefix("42") {
                    if let Some((sender, num, t)) = delivered_message(args.protocol, rest) {
                        local.record(sender, num, now.saturating_sub(t));
                    }
                } else if let Some(rest) = text.strip_prefix("43") {
                    // 43<id>[{"ok":true}]
                    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                    if let Ok(id) = rest[..digits].parse::<u64>()
                        && id > 0
                        && rest[digits..].contains("\"ok\":true")
                    {
                        shared.counters.acked.fetch_add(1, Ordering::Relaxed);
                        shared.acked_upto[index].fetch_max(id, Ordering::Relaxed);
                    }
                }
            }
        }
    }
    let _ = ws.close(None).await;
    totals.lock().await.add(local);
}

/// `["message",{…,"chat":"b|..",…}]` (or `["channel:message",{…,"text":"b|..",…}]`) →
/// (sender, number, send time). Runs once per delivery, on the same machine as the server
/// under test: a scan for the field, not a JSON parse (both servers write compact JSON, and the
/// benchmark payload holds no escapes).
fn delivered_message(protocol: Protocol, rest: &str) -> Option<(usize, u64, u64)> {
    let (event, field) = match protocol {
        Protocol::Channels => ("[\"channel:message\",", "\"text\":\""),
        _ => ("[\"message\",", "\"chat\":\""),
    };
    let body = rest.strip_prefix(event)?;
    let value = &body[body.find(field)? + field.len()..];
    parse_payload(&value[..value.find('"')?])
}

/// Every client's view, added up: for each sender and message number, how many clients got it.
struct Totals {
    latency: Histogram<u64>,
    receivers: HashMap<usize, Vec<u32>>,
    delivered: u64,
    duplicates: u64,
}

impl Totals {
    fn new() -> Self {
        Totals {
            latency: histogram(),
            receivers: HashMap::new(),
            delivered: 0,
            duplicates: 0,
        }
    }

    fn add(&mut self, one: Seen) {
        self.latency.add(&one.latency).ok();
        self.delivered += one.delivered;
        self.duplicates += one.duplicates;
        for (sender, bits) in one.got {
            let counts = self.receivers.entry(sender).or_default();
            if counts.len() < bits.len() * 64 {
                counts.resize(bits.len() * 64, 0);
            }
            for (n, count) in counts.iter_mut().enumerate().take(bits.len() * 64) {
                if bits[n / 64] & (1 << (n % 64)) != 0 {
                    *count += 1;
                }
            }
        }
    }

    fn receivers_of(&self, sender: usize, n: u64) -> u64 {
        self.receivers
            .get(&sender)
            .and_then(|c| c.get(n as usize))
            .map_or(0, |&c| u64::from(c))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !matches!(args.addr.ip(), IpAddr::V4(ip) if ip.is_loopback())
        && !matches!(args.addr.ip(), IpAddr::V6(ip) if ip.is_loopback())
    {
        bail!("loadgen talks to loopback addresses only");
    }
    if args.clients == 0 || args.clients > 100_000 {
        bail!("--clients must be between 1 and 100000");
    }
    if args.senders > args.clients {
        bail!("--senders cannot exceed --clients");
    }
    if args.no_login && args.senders > 0 && args.protocol != Protocol::Raw {
        bail!("senders must log in: --no-login needs --senders 0");
    }
    if args.protocol == Protocol::Channels && args.channels.is_empty() {
        bail!("--protocol channels needs --channels");
    }
    if !(0.1..=3600.0).contains(&args.duration) {
        bail!("--duration must be between 0.1 and 3600 seconds");
    }
    let rooms = if args.protocol == Protocol::Channels {
        args.channels.len()
    } else {
        1
    };
    let shared = Arc::new(Shared {
        acked_upto: (0..args.senders).map(|_| AtomicU64::new(0)).collect(),
        in_room: (0..rooms).map(|_| AtomicU64::new(0)).collect(),
        args: args.clone(),
        settled: std::sync::atomic::AtomicUsize::new(0),
        settled_notify: tokio::sync::Notify::new(),
        start: Instant::now(),
        counters: Counters::default(),
    });
    let totals = Arc::new(Mutex::new(Totals::new()));
    let connect_ms = Arc::new(Mutex::new(histogram()));

    // Everyone is connected (or has failed) before anyone sends.
    let (start_tx, start_rx) = tokio::sync::watch::channel(None);

    let mut tasks = Vec::with_capacity(args.clients);
    let connect_began = Instant::now();
    for index in 0..args.clients {
        let at = connect_began + Duration::from_secs_f64(index as f64 / args.connect_rate);
        tokio::time::sleep_until(at.into()).await;
        tasks.push(tokio::spawn(client(
            shared.clone(),
            index,
            start_rx.clone(),
            totals.clone(),
            connect_ms.clone(),
        )));
    }
    while shared.settled.load(Ordering::Acquire) < args.clients {
        shared.settled_notify.notified().await;
    }
    if let Some(path) = &args.phase_file {
        std::fs::write(path, "sending\n").with_context(|| format!("{}", path.display()))?;
    }
    let _ = start_tx.send(Some(Instant::now() + Duration::from_millis(500)));
    for t in tasks {
        let _ = t.await;
    }
    let connect_hist = connect_ms.lock().await;
    let seen = totals.lock().await;
    let c = &shared.counters;
    let connected = c.connected.load(Ordering::Relaxed);
    // Every acknowledged message should reach every client connected to its room (the sender
    // too: both dialects broadcast to the whole room).
    let mut expected = 0;
    let mut missing = 0;
    for (sender, upto) in shared.acked_upto.iter().enumerate() {
        let upto = upto.load(Ordering::Relaxed);
        let receivers = shared.in_room[shared.room_of(sender)].load(Ordering::Relaxed);
        for n in 0..upto {
            expected += receivers;
            missing += receivers.saturating_sub(seen.receivers_of(sender, n));
        }
    }
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    // From the first connection attempt to the last completed one.
    let connect_span_s = c.last_connected_us.load(Ordering::Relaxed) as f64 / 1e6;
    let connects_per_s = if connected > 0 {
        connected as f64 / connect_span_s.max(0.001)
    } else {
        0.0
    };
    let report = Report {
        clients: args.clients,
        senders: args.senders,
        rooms,
        connected,
        connect_failures: c.connect_failures.load(Ordering::Relaxed),
        connect_ms_p50: ms(&connect_hist, 0.5),
        connect_ms_p99: ms(&connect_hist, 0.99),
        connect_ms_max: connect_hist.max() as f64 / 1000.0,
        connects_per_s,
        sent: c.sent.load(Ordering::Relaxed),
        acked: c.acked.load(Ordering::Relaxed),
        send_failures: c.send_failures.load(Ordering::Relaxed),
        expected_deliveries: expected,
        delivered: seen.delivered,
        missing,
        duplicates: seen.duplicates,
        deliveries_per_s: seen.delivered as f64 / args.duration,
        latency_ms_p50: ms(&seen.latency, 0.5),
        latency_ms_p99: ms(&seen.latency, 0.99),
        latency_ms_p999: ms(&seen.latency, 0.999),
        latency_ms_max: seen.latency.max() as f64 / 1000.0,
        send_seconds: args.duration,
        loadgen_cpu_s: own_cpu_seconds(),
    };
    let out = if args.compact {
        serde_json::to_string(&report)?
    } else {
        serde_json::to_string_pretty(&report)?
    };
    println!("{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trip() {
        assert_eq!(
            parse_payload(&payload(3, 17, 123456)),
            Some((3, 17, 123456))
        );
        assert_eq!(parse_payload("hello"), None);
        assert_eq!(parse_payload("b|x|1|2"), None);
    }

    #[test]
    fn duplicates_are_counted_once() {
        let mut s = Seen::new();
        s.record(1, 5, 100);
        s.record(1, 5, 100);
        s.record(1, 70, 100);
        assert_eq!((s.delivered, s.duplicates), (2, 1));
        assert!(s.has(1, 70) && !s.has(1, 6) && !s.has(2, 5));
        let mut t = Totals::new();
        t.add(s);
        let mut other = Seen::new();
        other.record(1, 5, 100);
        t.add(other);
        assert_eq!(
            (
                t.receivers_of(1, 5),
                t.receivers_of(1, 70),
                t.receivers_of(1, 6)
            ),
            (2, 1, 0)
        );
    }

    #[test]
    fn broadcast_frames_are_recognised() {
        let frame =
            r#"["message",{"_id":"x","chat":"b|2|9|500","user":{"id":"1","name":"a"},"__v":0}]"#;
        assert_eq!(delivered_message(Protocol::Nine, frame), Some((2, 9, 500)));
        assert_eq!(
            delivered_message(Protocol::Nine, r#"["message",{"chat":"hi"}]"#),
            None
        );
        let frame = r#"["channel:message",{"id":"x","channelId":4,"seq":1,"userId":1,"nickname":"n","text":"b|0|3|77","createdAt":"t"}]"#;
        assert_eq!(
            delivered_message(Protocol::Channels, frame),
            Some((0, 3, 77))
        );
        // The other dialect's event is not a delivery.
        assert_eq!(delivered_message(Protocol::Nine, frame), None);
    }
}
