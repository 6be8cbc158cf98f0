//! What the server knows of a connection before any handler runs: the client's real address
//! (behind trusted proxies only), how many connections and sessions an address holds, and the
//! deadline a request body must arrive within.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::HeaderMap;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed (`TRUST_PROXY` and `TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client's address: the peer itself, unless the peer is a trusted proxy; then the
    /// right-most address of `X-Forwarded-For` that is not a trusted proxy (each proxy appends
    /// the address it saw, so everything left of the first untrusted entry may be invented by
    /// the client). `X-Real-IP` stands in when there is no `X-Forwarded-For`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let mut chain: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| parse_ip(a.trim()))
            .collect();
        if chain.is_empty()
            && let Some(real) = headers
                .get("x-real-ip")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_ip(v.trim()))
        {
            chain.push(real);
        }
        let mut client = peer;
        for ip in chain.into_iter().rev() {
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:5678`.
fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

/// IPv4 addresses that arrive mapped into IPv6 (`::ffff:1.2.3.4`) are the IPv4 client.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Counts what clients hold open (connections, Engine.IO sessions) in all and per address.
/// `acquire` hands out a `Slot` that gives its place back when dropped.
pub struct Slots {
    what: &'static str,
    max_total: usize,
    max_per_ip: usize,
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

/// Why a slot was refused; the text is what the client is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Full {
    Address(String),
    Server(String),
}

impl Full {
    pub fn message(&self) -> &str {
        match self {
            Full::Address(m) | Full::Server(m) => m,
        }
    }
}

impl Slots {
    /// `0` turns a cap off.
    pub fn new(what: &'static str, max_total: usize, max_per_ip: usize) -> Arc<Self> {
        Arc::new(Self {
            what,
            max_total,
            max_per_ip,
            total: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
        })
    }

    /// A place for `ip`; `None` counts only towards the total (a trusted proxy speaks for
    /// many clients at once).
    pub fn acquire(self: &Arc<Self>, ip: Option<IpAddr>) -> Result<Slot, Full> {
        let total = self.total.fetch_add(1, Ordering::AcqRel) + 1;
        if self.max_total > 0 && total > self.max_total {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(Full::Server(format!(
                "the server holds its maximum of {} {}; try again shortly",
                self.max_total, self.what
            )));
        }
        if let Some(ip) = ip.filter(|_| self.max_per_ip > 0) {
            let mut per_ip = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
            let held = per_ip.entry(ip).or_insert(0);
            if *held >= self.max_per_ip {
                drop(per_ip);
                self.total.fetch_sub(1, Ordering::AcqRel);
                return Err(Full::Address(format!(
                    "too many {} from your address (at most {})",
                    self.what, self.max_per_ip
                )));
            }
            *held += 1;
            return Ok(Slot {
                slots: self.clone(),
                ip: Some(ip),
            });
        }
        Ok(Slot {
            slots: self.clone(),
            ip: None,
        })
    }

    pub fn held(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }
}

/// A held place; dropping it frees it.
pub struct Slot {
    slots: Arc<Slots>,
    ip: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.total.fetch_sub(1, Ordering::AcqRel);
        if let Some(ip) = self.ip {
            let mut per_ip = self.slots.per_ip.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(held) = per_ip.get_mut(&ip) {
                *held -= 1;
                if *held == 0 {
                    per_ip.remove(&ip);
                }
            }
        }
    }
}

/// A request body that did not arrive in time (`HTTP_BODY_TIMEOUT`).
#[derive(Debug)]
pub struct BodyTimeout(pub Duration);

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} s",
            self.0.as_secs()
        )
    }
}

impl StdError for BodyTimeout {}

/// Whether `e`, or anything it was caused by, is a `BodyTimeout`.
pub fn is_body_timeout(e: &(dyn StdError + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.downcast_ref::<BodyTimeout>().is_some() {
            return true;
        }
        cur = err.source();
    }
    false
}

pin_project_lite::pin_project! {
    /// A body that fails with `BodyTimeout` unless it has arrived whole by its deadline: a
    /// client trickling a body byte by byte holds a connection for this long at most.
    pub struct DeadlineBody<B> {
        #[pin]
        inner: B,
        #[pin]
        deadline: tokio::time::Sleep,
        limit: Duration,
    }
}

impl<B> DeadlineBody<B> {
    pub fn new(inner: B, limit: Duration) -> Self {
        Self {
            inner,
            deadline: tokio::time::sleep(limit),
            limit,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if this.deadline.poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTimeout(*this.limit)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The client's address of a request (see `net::TrustedProxies::client_ip`).
pub fn client_ip(parts: &axum::http::request::Parts, proxies: &TrustedProxies) -> IpAddr {
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    proxies.client_ip(peer, &parts.headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_behind_trusted_proxies() {
        let loopback = TrustedProxies::new(vec![
            "127.0.0.0/8".parse().unwrap(),
            "::1/128".parse().unwrap(),
        ]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // A client that talks to the server directly cannot name another address.
        assert_eq!(
            loopback.client_ip(ip("203.0.113.9"), &xff(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
        // Behind Nginx: the right-most untrusted entry; what the client prepended is ignored.
        assert_eq!(
            loopback.client_ip(ip("127.0.0.1"), &xff(&["6.6.6.6, 203.0.113.9"])),
            ip("203.0.113.9")
        );
        assert_eq!(
            loopback.client_ip(
                ip("127.0.0.1"),
                &xff(&["6.6.6.6", "203.0.113.9, 127.0.0.2"])
            ),
            ip("203.0.113.9")
        );
        assert_eq!(
            loopback.client_ip(ip("::ffff:127.0.0.1"), &xff(&["[2001:db8::1]:443"])),
            ip("2001:db8::1")
        );
        assert_eq!(
            loopback.client_ip(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
        assert_eq!(
            TrustedProxies::default().client_ip(ip("127.0.0.1"), &xff(&["1.2.3.4"])),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn slots_are_given_back() {
        let slots = Slots::new("connections", 3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let one = slots.acquire(Some(a)).unwrap();
        let two = slots.acquire(Some(a)).unwrap();
        assert!(matches!(slots.acquire(Some(a)), Err(Full::Address(_))));
        let three = slots.acquire(Some(b)).unwrap();
        assert!(matches!(slots.acquire(None), Err(Full::Server(_))));
        drop(one);
        assert_eq!(slots.held(), 2);
        let again = slots.acquire(Some(a)).unwrap();
        drop((two, three, again));
        assert_eq!(slots.held(), 0);
        assert!(slots.per_ip.lock().unwrap().is_empty());
    }
}
