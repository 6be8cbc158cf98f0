//! `wsbaseline`: the ceiling for ninecloud's benchmarks. A minimal WebSocket broadcast server
//! with no Socket.IO framing, no acknowledgements, no store: every text frame a client sends
//! goes to every connected client. What tokio and tungstenite do on this machine, for
//! `loadgen --protocol raw`.
//!   wsbaseline 127.0.0.1:3200

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3200".into())
        .parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // Deep enough that a receiver falls behind only under real overload (then it misses
    // messages, which loadgen counts).
    let (tx, _) = broadcast::channel::<Utf8Bytes>(1 << 16);
    // engineioxide's read buffer (4 KiB), not tungstenite's default 128 KiB, so that the
    // baseline's memory per connection compares with ninecloud's.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    println!("raw WebSocket broadcast server on {addr}");
    loop {
        // Out of file descriptors (or another passing error): say so and keep serving.
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let tx = tx.clone();
        tokio::spawn(async move {
            let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await
            else {
                return;
            };
            let (mut sink, mut source) = ws.split();
            let mut rx = tx.subscribe();
            let forward = tokio::spawn(async move {
                loop {
                    match rx.recv().await {
                        Ok(text) => {
                            if sink.send(Message::Text(text)).await.is_err() {
                                break;
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
            while let Some(Ok(msg)) = source.next().await {
                match msg {
                    Message::Text(text) => {
                        let _ = tx.send(text);
                    }
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            forward.abort();
        });
    }
}
