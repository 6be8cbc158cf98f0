//! Reads what a client is still sending after an early answer.
//!
//! When a handler answers before reading the whole request body (401 or 419 before an upload,
//! 413 for an oversized file), closing the connection with unread bytes makes the kernel reset
//! it, and the browser sees a network error instead of the answer; the front end's 419
//! interceptor would never run. Like Nginx's lingering close, a body dropped unread is read to
//! its end in the background, up to a byte bound and a deadline, so the answer arrives.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;

/// Bytes read after an early answer, at most.
const LINGER_BYTES: usize = 16 * 1024 * 1024;
const LINGER_TIME: Duration = Duration::from_secs(10);

struct Linger {
    inner: Option<Body>,
}

impl HttpBody for Linger {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        match self.inner.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner
            .as_ref()
            .map(HttpBody::size_hint)
            .unwrap_or_default()
    }
}

impl Drop for Linger {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        if body.is_end_stream() {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let mut stream = body.into_data_stream();
                let mut read = 0usize;
                let _ = tokio::time::timeout(LINGER_TIME, async {
                    while let Some(Ok(chunk)) = stream.next().await {
                        read += chunk.len();
                        if read > LINGER_BYTES {
                            break;
                        }
                    }
                })
                .await;
            });
        }
    }
}

/// The middleware: every request body becomes one that is read to its end when dropped unread.
pub async fn linger(req: Request, next: Next) -> Response {
    next.run(req.map(|b| Body::new(Linger { inner: Some(b) })))
        .await
}
