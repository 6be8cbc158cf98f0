//! `GET /metrics` on the metrics listener (`METRICS_ADDR`): the states read at each scrape
//! (database pool, chat write queue, process), then everything `telemetry` recorded, in the
//! Prometheus text format.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::gauge;

use crate::app::App;
use crate::telemetry;

/// The metrics listener's router: `GET /metrics` in the Prometheus text format.
pub fn router(app: Arc<App>) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(app)
}

async fn scrape(State(app): State<Arc<App>>) -> Response {
    let handle = telemetry::handle();
    let pool = app.db.pool_status();
    gauge!("ninecloud_db_pool_connections", "state" => "size").set(pool.size as f64);
    gauge!("ninecloud_db_pool_connections", "state" => "max").set(pool.max_size as f64);
    gauge!("ninecloud_db_pool_connections", "state" => "available").set(pool.available as f64);
    gauge!("ninecloud_db_pool_connections", "state" => "waiting").set(pool.waiting as f64);
    let queue = app.messages.queue();
    gauge!("ninecloud_chat_write_queue", "state" => "queued").set(queue.queued as f64);
    gauge!("ninecloud_chat_write_queue", "state" => "capacity").set(queue.capacity as f64);
    gauge!("ninecloud_chat_write_refused").set(queue.refused as f64);
    telemetry::collect_process();
    handle.run_upkeep();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response()
}
