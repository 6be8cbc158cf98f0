//! Prometheus metrics on their own listener (`METRICS_ADDR`): what a scrape shows after real
//! requests. The recorder is process-wide; this binary holds no other test that sends requests
//! (`main.rs`), so the counts compared before and after are this test's own, exactly.

use serde_json::json;

use crate::helpers::*;

async fn scrape(app: &TestApp) -> String {
    let url = app.metrics_url.as_deref().expect("METRICS_ADDR is on");
    let res = app.client.get(url).send().await.expect("scrape");
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    res.text().await.unwrap()
}

/// The value of the sample whose name and labels start as `prefix` (0 when absent).
fn value(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_by_route_template_on_their_own_listener() {
    let app = spawn_with(&[("METRICS_ADDR", "127.0.0.1:0")]).await;
    let before = scrape(&app).await;
    let detail =
        r#"ninecloud_http_requests_total{method="GET",route="/diary/detail/{id}",status="401"}"#;
    let signin = r#"ninecloud_http_requests_total{method="POST",route="/signin",status="400"}"#;
    for id in [1, 2, 3] {
        send(app.client.get(app.url(&format!("/diary/detail/{id}"))))
            .await
            .expect(401);
    }
    app.post_json(
        "/signin",
        &json!({"email": "nobody@nine.test", "password": "cloud9pw!"}),
    )
    .await
    .expect(400);
    send(app.client.get(app.url("/no/such/route")))
        .await
        .expect(404);

    let after = scrape(&app).await;
    assert_eq!(
        value(&after, detail) - value(&before, detail),
        3.0,
        "{after}"
    );
    assert_eq!(value(&after, signin) - value(&before, signin), 1.0);
    // Bounded labels: the template, never the raw path; unknown paths in one series.
    assert!(
        !after.contains("/diary/detail/1\""),
        "a raw path became a label"
    );
    assert!(after.contains(r#"route="unmatched",status="404""#));
    assert!(after.contains("ninecloud_http_request_duration_seconds_bucket{"));
    // States read at the scrape, and the process.
    assert!(
        after.contains(r#"ninecloud_db_pool_connections{state="max"} 4"#),
        "{after}"
    );
    assert!(after.contains(r#"ninecloud_chat_write_queue{state="capacity"}"#));
    assert!(value(&after, "process_resident_memory_bytes") > 0.0);
    assert!(value(&after, "process_open_fds") > 0.0);

    // Not on the public port (Nginx forwards that one).
    send(app.client.get(app.url("/metrics"))).await.expect(404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_metrics_address_that_is_taken_stops_the_start_with_its_name() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut vars = std::collections::HashMap::new();
    vars.insert("METRICS_ADDR".to_string(), addr.clone());
    vars.insert("DATABASE_URL".to_string(), "sqlite::memory:".to_string());
    vars.insert("PORT".to_string(), "0".to_string());
    vars.insert("HOST".to_string(), "127.0.0.1".to_string());
    vars.insert(
        "SECRET_KEY".to_string(),
        "test-secret-key-0123456789abcdef".to_string(),
    );
    let dir = tempfile::tempdir().unwrap();
    vars.insert("DATA_DIR".to_string(), dir.path().display().to_string());
    let config = ninecloud::config::Config::from_source(&vars).unwrap();
    let err = ninecloud::start(config).await.err().expect("refused");
    assert!(
        format!("{err:#}").contains(&format!("METRICS_ADDR: cannot listen on {addr}")),
        "{err:#}"
    );
    let bad = ninecloud::config::Config::from_source(&{
        let mut v = vars.clone();
        v.insert("METRICS_ADDR".into(), "everywhere".into());
        v
    })
    .expect_err("refused");
    assert_eq!(bad.var, "METRICS_ADDR");
}
