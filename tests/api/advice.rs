//! AI advice on a diary: the built-in advisor (the embedded default), and an OpenAI-compatible
//! provider (tests/support/openai_server.py, started by scripts/test.sh) answering, streaming and
//! failing in every way a real one does.

use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;

const KEY: &str = "sk-ninecloud-test";

/// A server whose advice comes from the test provider, as `model` (which picks its behaviour).
async fn with_provider(model: &str, extra: &[(&str, &str)]) -> TestApp {
    let base = format!("{}/v1", required_env("TEST_OPENAI_URL"));
    let mut vars = vec![
        ("AI_BASE_URL", base.as_str()),
        ("AI_API_KEY", KEY),
        ("AI_MODEL", model),
        // Well past a local answer even on a busy machine; the timeout's own test sets 1 s.
        ("AI_TIMEOUT", "15"),
    ];
    vars.extend_from_slice(extra);
    spawn_with(&vars).await
}

/// What the provider was last sent for `model`.
async fn last_request(model: &str) -> Value {
    let url = format!("{}/_last/{model}", required_env("TEST_OPENAI_URL"));
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn ask(app: &TestApp, s: &Session, id: i64) -> Answer {
    send(app.authed(Method::POST, &format!("/diary/{id}/advice"), s)).await
}

async fn detail(app: &TestApp, s: &Session, id: i64) -> Answer {
    app.get_authed(&format!("/diary/detail/{id}"), s).await
}

async fn diary(app: &TestApp, s: &Session, changes: &[(&str, &str)]) -> i64 {
    let w = app.post_diary(s, changes).await;
    w.expect(201);
    w.body["data"]["diaryId"].as_i64().unwrap()
}

/// The events of an SSE answer: (event, data) pairs.
fn events_of(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut event = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = Some(e.trim().to_string());
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            Some((event?, serde_json::from_str(&data).ok()?))
        })
        .collect()
}

/// Asks as an SSE client does (`Accept: text/event-stream`), leaving the body unread.
async fn ask_streamed(app: &TestApp, s: &Session, id: i64) -> reqwest::Response {
    app.authed(Method::POST, &format!("/diary/{id}/advice"), s)
        .header("Accept", "text/event-stream")
        .send()
        .await
        .unwrap()
}

async fn stream(app: &TestApp, s: &Session, id: i64) -> (u16, String, Vec<(String, Value)>) {
    let res = ask_streamed(app, s, id).await;
    let status = res.status().as_u16();
    if status == 201 {
        // Not held back by a buffering proxy (Nginx reads this header).
        assert_eq!(res.headers()["x-accel-buffering"], "no");
    }
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = res.text().await.unwrap();
    (status, kind, events_of(&text))
}

#[tokio::test(flavor = "multi_thread")]
async fn builtin_advice_for_the_owner_kept_with_the_diary() {
    let app = spawn_with(&[("AI_DAILY_LIMIT", "3")]).await;
    let mut users = app.new_users(&["일기장", "구경꾼"]).await.into_iter();
    let (owner, other) = (users.next().unwrap(), users.next().unwrap());
    let id = diary(
        &app,
        &owner,
        &[
            ("EmotionStatus", "1"),
            ("weather", "1"),
            ("sleep", "1"),
            ("isPublic", "true"),
        ],
    )
    .await;
    assert_eq!(detail(&app, &owner, id).await.body["advice"], Value::Null);

    let a = ask(&app, &owner, id).await;
    a.expect(201);
    assert_eq!(a.body["model"], "builtin");
    let text = a.body["advice"].as_str().unwrap().to_string();
    // Built from this diary: a rainy, low day with little sleep and its sentence.
    assert!(text.contains('비') || text.contains("빗소리"), "{text}");
    assert!(text.contains("좋은 일이 생길 거예요"), "{text}");
    assert!(a.body["createdAt"].as_str().unwrap().ends_with('Z'));
    let d = detail(&app, &owner, id).await;
    assert_eq!(d.body["advice"]["advice"], text.as_str());
    assert_eq!(d.body["advice"]["model"], "builtin");

    // A sunny, good day gets other advice.
    let (_, third) = app.new_user("세번째").await;
    let sunny = diary(&app, &third, &[("EmotionStatus", "5"), ("weather", "3")]).await;
    let b = ask(&app, &third, sunny).await;
    b.expect(201);
    assert_ne!(b.body["advice"], text.as_str());

    // Someone else's diary: public, so they see it, but advice is its owner's alone.
    let a = ask(&app, &other, id).await;
    a.expect(403);
    assert!(!a.message().is_empty());
    assert_eq!(detail(&app, &other, id).await.body["advice"], Value::Null);
    // Private and someone else's, or not there at all: 404, as for reading it.
    let private = diary(&app, &other, &[]).await;
    ask(&app, &owner, private).await.expect(404);
    ask(&app, &owner, 999_999).await.expect(404);
    send(app.client.post(app.url(&format!("/diary/{id}/advice"))))
        .await
        .expect(401);

    // Asking again replaces the advice; the third answer of the day is the last.
    ask(&app, &owner, id).await.expect(201);
    ask(&app, &owner, id).await.expect(201);
    let refused = ask(&app, &owner, id).await;
    refused.expect(429);
    assert!(refused.message().contains('3'), "{}", refused.message());
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&wait), "{wait}");
    // Other users keep their own budget.
    ask(&app, &third, sunny).await.expect(201);

    // Streamed: pieces, then the stored whole.
    let (_, s4) = app.new_user("네번째").await;
    let id4 = diary(&app, &s4, &[]).await;
    let (status, kind, events) = stream(&app, &s4, id4).await;
    assert_eq!(status, 201);
    assert!(kind.starts_with("text/event-stream"), "{kind}");
    let pieces: String = events
        .iter()
        .filter(|(e, _)| e == "delta")
        .map(|(_, d)| d["text"].as_str().unwrap().to_string())
        .collect();
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "done", "{events:?}");
    assert_eq!(done["advice"], pieces.trim());
    assert_eq!(
        detail(&app, &s4, id4).await.body["advice"]["advice"],
        pieces.trim()
    );

    // The advice goes with its diary.
    send(app.authed(Method::DELETE, &format!("/diary/delete/{id}"), &owner))
        .await
        .expect(201);
    ask(&app, &owner, id).await.expect(404);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_answers_and_streams_with_the_key_kept_on_the_server() {
    let model = format!("nine-ok-{}", uuid::Uuid::new_v4().simple());
    let app = with_provider(&model, &[("AI_MAX_INPUT_CHARS", "300")]).await;
    let (_, s) = app.new_user("조언").await;
    let long = format!(
        "<p>오늘은 <strong>회사</strong>에서 {}</p><script>alert(1)</script>",
        "많이 ".repeat(400)
    );
    let id = diary(&app, &s, &[("content", long.as_str()), ("weather", "1")]).await;

    let a = ask(&app, &s, id).await;
    a.expect(201);
    assert_eq!(a.body["model"], model.as_str());
    assert_eq!(
        a.body["advice"],
        "오늘 하루도 정말 수고했어요. 마음이 무거운 날엔 조금 일찍 쉬어 보세요."
    );
    assert_eq!(
        detail(&app, &s, id).await.body["advice"]["model"],
        model.as_str()
    );

    // What the provider was sent: the model, a system and a user message, the mood values and
    // the text without markup, bounded in length; not streamed.
    let req = last_request(&model).await;
    assert_eq!(req["model"], model.as_str());
    assert_ne!(req["stream"], true);
    let user = req["messages"][1]["content"].as_str().unwrap();
    assert!(
        user.contains("날씨: 비") && user.contains("기분(0~5): 3.5"),
        "{user}"
    );
    assert!(!user.contains('<') && !user.contains("alert"), "{user}");
    let text = user.split("일기:\n").nth(1).unwrap();
    assert_eq!(text.chars().count(), 300, "{text}");

    // Streamed: the provider's pieces as they come, then the stored whole.
    let (status, _, events) = stream(&app, &s, id).await;
    assert_eq!(status, 201);
    assert_eq!(last_request(&model).await["stream"], true);
    let deltas: Vec<&str> = events
        .iter()
        .filter(|(e, _)| e == "delta")
        .filter_map(|(_, d)| d["text"].as_str())
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(
        deltas,
        [
            "오늘 하루도 ",
            "정말 수고했어요. ",
            "마음이 무거운 날엔 ",
            "조금 일찍 쉬어 보세요."
        ]
    );
    assert_eq!(events.last().unwrap().0, "done");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_failures_answer_5xx_and_change_nothing() {
    // (model, extra settings, status, a word of the message)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u16, &'a str);
    let cases: [Case; 7] = [
        ("nine-429-a", &[], 503, "429"),
        ("nine-500-a", &[], 502, "5xx"),
        ("nine-slow-a", &[("AI_TIMEOUT", "1")], 504, "제한 시간"),
        ("nine-malformed-a", &[], 502, "해석"),
        ("nine-broken-a", &[], 502, ""),
        ("nine-empty-a", &[], 502, "빈 답"),
        ("nine-ok-a", &[("AI_API_KEY", "sk-wrong")], 502, "401"),
    ];
    for (model, extra, status, needle) in cases {
        let app = with_provider(model, &[extra, &[("AI_DAILY_LIMIT", "1")]].concat()).await;
        let (_, s) = app.new_user("실패").await;
        let id = diary(&app, &s, &[]).await;
        let before = detail(&app, &s, id).await.body;
        let a = ask(&app, &s, id).await;
        a.expect(status);
        assert!(a.message().contains(needle), "{model}: {}", a.message());
        // Streaming fails the same way before the stream starts.
        let (streamed, kind, _) = stream(&app, &s, id).await;
        if model != "nine-broken-a" && model != "nine-empty-a" {
            assert_eq!(
                (streamed, kind.as_str()),
                (status, "application/json"),
                "{model}"
            );
        }
        // Nothing changed.
        assert_eq!(detail(&app, &s, id).await.body, before, "{model}");
        app.stop().await;
    }

    // A stream cut half-way, or one that says nothing: an error event, nothing kept, nothing spent.
    for model in ["nine-broken-b", "nine-empty-b"] {
        let app = with_provider(model, &[("AI_DAILY_LIMIT", "1")]).await;
        let (_, s) = app.new_user("끊김").await;
        let id = diary(&app, &s, &[]).await;
        let (status, _, events) = stream(&app, &s, id).await;
        assert_eq!(status, 201);
        let (last, data) = events.last().unwrap();
        assert_eq!(last, "error", "{model}: {events:?}");
        assert!(data["status"].as_u64().unwrap() >= 500);
        assert_eq!(detail(&app, &s, id).await.body["advice"], Value::Null);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_hangs_up_mid_stream_leaves_nothing_stored() {
    let model = format!("nine-slowstream-{}", uuid::Uuid::new_v4().simple());
    let app = with_provider(&model, &[("AI_TIMEOUT", "30"), ("AI_DAILY_LIMIT", "1")]).await;
    let (_, s) = app.new_user("중단").await;
    let id = diary(&app, &s, &[]).await;

    let res = ask_streamed(&app, &s, id).await;
    assert_eq!(res.status(), 201);
    let mut body = res.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("조각 1.") {
        let chunk = body.next().await.expect("more events").unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    // One generation at a time for a user: a second ask meanwhile is refused.
    let busy = ask(&app, &s, id).await;
    busy.expect(409);
    assert!(!busy.message().is_empty());
    drop(body); // the person closed the page
    // The provider's stream would have run 6 s; well past that, nothing was kept.
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(detail(&app, &s, id).await.body["advice"], Value::Null);
    // The abandoned answer was not counted: the day's one answer is still there to have, and
    // the user is not left marked as busy.
    let again = ask_streamed(&app, &s, id).await;
    assert_eq!(again.status(), 201);
    let events = events_of(&again.text().await.unwrap());
    assert_eq!(events.last().unwrap().0, "done", "{events:?}");
    app.stop().await;
}
