//! What slow, idle and greedy HTTP clients get: closed connections, clear refusals, and
//! everyone else still served. Raw TCP sockets, so the test controls every byte and pause.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::*;

impl TestApp {
    fn addr(&self) -> SocketAddr {
        self.base.trim_start_matches("http://").parse().unwrap()
    }

    /// A TCP connection to the server from `from` (any address of 127.0.0.0/8 works here).
    async fn connect_from(&self, from: &str) -> TcpStream {
        let socket = TcpSocket::new_v4().unwrap();
        socket
            .bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0))
            .unwrap();
        socket.connect(self.addr()).await.expect("connects")
    }

    /// `GET /health` from `from`, with its own connection: the status code.
    async fn health_from(&self, from: &str) -> u16 {
        let client = reqwest::Client::builder()
            .local_address(from.parse::<IpAddr>().unwrap())
            .build()
            .unwrap();
        client
            .get(self.url("/health"))
            .send()
            .await
            .expect("answered")
            .status()
            .as_u16()
    }
}

/// Reads until the server closes the connection (or `within` passes): what it sent.
async fn read_until_closed(conn: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, conn.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_slow_and_idle_connections_are_closed() {
    let app = spawn_with(&[
        ("HTTP_HEADER_TIMEOUT", "1"),
        ("HTTP_IDLE_TIMEOUT", "2"),
        ("HTTP_BODY_TIMEOUT", "1"),
    ])
    .await;
    let started = Instant::now();

    // Connects and says nothing.
    let mut silent = app.connect_from("127.0.0.1").await;
    // Sends its request head a header at a time, never finishing it.
    let mut slow_head = app.connect_from("127.0.0.1").await;
    slow_head
        .write_all(b"GET /health HTTP/1.1\r\n")
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        for i in 0..40 {
            if slow_head
                .write_all(format!("x-slow-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                return (i, slow_head);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        (40, slow_head)
    });
    // Declares a body and sends a little of it.
    let mut slow_body = app.connect_from("127.0.0.1").await;
    slow_body
        .write_all(
            b"POST /signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();
    // Asks once, then keeps the connection open and idle.
    let mut idle = app.connect_from("127.0.0.1").await;
    idle.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");

    assert_eq!(
        read_until_closed(&mut silent, Duration::from_secs(5)).await,
        Some(String::new()),
        "a silent connection is closed without an answer"
    );
    let answer = read_until_closed(&mut slow_body, Duration::from_secs(5))
        .await
        .expect("a slow body is answered and closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"message\""), "{answer}");
    assert!(
        read_until_closed(&mut idle, Duration::from_secs(5))
            .await
            .is_some(),
        "an idle keep-alive connection is closed"
    );
    let (headers_sent, _) = trickle.await.unwrap();
    assert!(
        headers_sent < 40,
        "a connection trickling its head was never closed"
    );
    assert!(started.elapsed() < Duration::from_secs(8));
    // Meanwhile, and after, everyone else is served.
    assert_eq!(app.health_from("127.0.0.1").await, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_caps_are_refused_and_others_still_served() {
    let app = spawn_with(&[
        ("HTTP_MAX_CONNECTIONS_PER_IP", "5"),
        ("HTTP_MAX_CONNECTIONS", "8"),
        ("HTTP_HEADER_TIMEOUT", "30"),
    ])
    .await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(app.connect_from("127.0.0.1").await);
    }
    // Give the server a moment to account for them.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut over = app.connect_from("127.0.0.1").await;
    let refused = read_until_closed(&mut over, Duration::from_secs(3))
        .await
        .expect("refused at once");
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    assert!(refused.contains("too many connections"), "{refused}");
    // Another address is served.
    assert_eq!(app.health_from("127.0.0.2").await, 200);
    // The server's total cap: with 5 held, at most 3 more from another address, then 503.
    let mut accepted = 0;
    let mut refusal = None;
    for _ in 0..6 {
        let mut conn = app.connect_from("127.0.0.3").await;
        // A refused connection is answered at once; an accepted one waits for its request.
        match read_until_closed(&mut conn, Duration::from_millis(700)).await {
            Some(answer) => {
                refusal = Some(answer);
                break;
            }
            None => {
                accepted += 1;
                held.push(conn);
            }
        }
    }
    let refused = refusal.expect("the total cap refused a connection");
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(accepted <= 3, "{accepted} accepted over a total cap of 8");
    // Places are given back when connections close.
    held.clear();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.health_from("127.0.0.1").await, 200);
}

/// Behind a trusted proxy the client's address is the right-most untrusted one: rotating
/// `X-Forwarded-For` from a client that reaches the server directly changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    // 127.0.0.9 is the "proxy"; this test's client on 127.0.0.1 is not.
    let app = spawn_with(&[
        ("TRUST_PROXY", "true"),
        ("TRUSTED_PROXIES", "127.0.0.9"),
        ("AUTH_RATE_LIMIT_PER_MINUTE", "3"),
    ])
    .await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let a = send(
            app.client
                .post(app.url("/signin"))
                .header("x-forwarded-for", format!("198.51.100.{i}"))
                .json(&serde_json::json!({"email": format!("nobody{i}@cloud.test"), "password": "x1234567!"})),
        )
        .await;
        statuses.push(a.status.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "the per-address limit held: {statuses:?}"
    );
}
