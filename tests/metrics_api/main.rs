//! The Prometheus metrics tests, in a test binary of their own: the `metrics` recorder is one per
//! process, so in the HTTP suite's binary every other test's requests (a failed sign-in, a 401)
//! landed in the counts these tests compare before and after their own requests. Here no other
//! test sends a request, and the assertions stay exact.

// The HTTP suite's helpers; this binary uses only some of them.
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
mod metrics;
