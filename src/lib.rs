//! ninecloud: the NINE Cloud backend and a Socket.IO-compatible realtime server in one binary.
//! `ARCHITECTURE.md` is the map.

pub mod advice;
pub mod app;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod hub;
pub mod import;
pub mod jobs;
pub mod layers;
pub mod mail;
pub mod net;
pub mod oauth;
pub mod realtime;
pub mod serve;
pub mod store;
pub mod telemetry;
pub mod tokens;
pub mod views;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::{App, AppState};
use crate::config::Config;

/// A server bound to its port and serving.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// Where `/metrics` is served (`METRICS_ADDR`), unless off.
    pub metrics_addr: Option<SocketAddr>,
    pub app: Arc<App>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Starts draining, lets in-flight requests finish, and waits for the server to stop.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await.context("server task")?
    }
}

/// Binds `HOST:PORT` (port 0 picks a free one) and builds the application: connects the stores
/// and runs migrations. What `ninecloud serve` and the tests both start from.
pub async fn bind(mut config: Config) -> anyhow::Result<(TcpListener, Arc<App>)> {
    let listener = TcpListener::bind(config.listen_addr())
        .await
        .with_context(|| format!("cannot listen on {}", config.listen_addr()))?;
    let addr = listener.local_addr()?;
    if config.port == 0 {
        // Links to stored images must name the port that was actually picked.
        let default_url = format!("http://localhost:{}", config.port);
        if config.public_url == default_url {
            config.public_url = format!("http://{addr}");
        }
        config.port = addr.port();
    }
    let app = Arc::new(App::build(config).await?);
    app.bind_metrics().await?;
    Ok((listener, app))
}

/// `bind`, then serve in the background until `stop()`.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    let (tx, mut rx) = tokio::sync::watch::channel(false);
    let signal = async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let (listener, app) = bind(config).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(serve_on(listener, app.clone(), signal));
    Ok(RunningServer {
        addr,
        metrics_addr: app.metrics_addr(),
        app,
        shutdown: tx,
        task,
    })
}

/// Serves on `listener` until `shutdown` resolves, then drains: `/ready` turns 503 at once,
/// sockets are closed so their clients reconnect elsewhere, in-flight requests finish (bounded
/// by `SHUTDOWN_GRACE`), periodic jobs stop.
pub async fn serve_on(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState(app.clone());
    let router = realtime::attach(http::router(state), app.clone()).await?;
    let jobs = tokio::spawn(jobs::run_periodic(app.clone()));
    // Prometheus' own listener: it stops with the process (a scrape is short and idempotent).
    let metrics = app.take_metrics_listener().map(|listener| {
        crate::telemetry::handle();
        let router = crate::http::metrics::router(app.clone());
        tokio::spawn(async move {
            // Histogram samples wait in the recorder until upkeep folds them into buckets:
            // without it they would pile up whenever nobody scrapes.
            let upkeep = tokio::spawn(crate::telemetry::upkeep());
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
            upkeep.abort();
        })
    });
    let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
    let draining_app = app.clone();
    let graceful = async move {
        shutdown.await;
        draining_app.start_draining();
        tracing::info!("draining: not ready any more, finishing in-flight requests");
        // Close the sockets' transports: socket.io clients reconnect at once (to the other
        // colour behind Nginx) and catch up by sequence number.
        if let Some(hub) = draining_app.hub() {
            hub.close_all().await;
        }
        let _ = drained_tx.send(());
    };
    // TCP_NODELAY on every connection, as Node's http server sets by default: a small frame
    // (a chat message, an acknowledgement) goes out at once instead of waiting, under Nagle's
    // algorithm, for the client's ACK of the previous one. Timeouts and caps: `serve`.
    let server = serve::serve(
        listener,
        router,
        app.config.http.clone(),
        app.config.proxies.clone(),
        graceful,
    );
    let grace = app.config.shutdown_grace;
    let result = tokio::select! {
        _ = server => Ok(()),
        _ = async {
            let _ = drained_rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!(?grace, "in-flight requests did not finish within the grace period");
            Ok(())
        }
    };
    jobs.abort();
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    app.messages.close().await;
    tracing::info!("stopped");
    result
}

/// SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
