//! What the bench binaries share: the report `loadgen` prints, one JSON object per run, which
//! `scripts/bench.sh` extends with what it read from /proc and `benchreport` reads back.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Report {
    pub clients: usize,
    pub senders: usize,
    /// Rooms the clients were spread over (1 but for `--protocol channels`).
    #[serde(default)]
    pub rooms: usize,
    pub connected: u64,
    pub connect_failures: u64,
    pub connect_ms_p50: f64,
    pub connect_ms_p99: f64,
    pub connect_ms_max: f64,
    pub connects_per_s: f64,
    pub sent: u64,
    pub acked: u64,
    pub send_failures: u64,
    pub expected_deliveries: u64,
    pub delivered: u64,
    pub missing: u64,
    pub duplicates: u64,
    pub deliveries_per_s: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_p999: f64,
    pub latency_ms_max: f64,
    pub send_seconds: f64,
    /// The load generator's own CPU time (user + system) over the whole run: near the run's
    /// length on its core means the generator, not the server, set the pace.
    #[serde(default)]
    pub loadgen_cpu_s: f64,
}
