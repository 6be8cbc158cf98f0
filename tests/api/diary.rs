//! The emotion diary through HTTP, as the NINE Cloud front end calls it: writing with a drawing,
//! the calendar, detail, editing, the community feed, likes, comments, replies and deleting;
//! Seoul days, concurrency, privacy between users, hostile HTML and every error branch.

use chrono::{Datelike, TimeZone, Utc};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const DAY_TAKEN: &str = "오늘은 이미 작성한 글이 있습니다.  수정하시겠습니까?";

fn seoul_today() -> chrono::NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Asia::Seoul)
        .date_naive()
}

impl TestApp {
    async fn call(&self, method: Method, path: &str, s: &Session, body: Option<Value>) -> Answer {
        let req = self.authed(method, path, s);
        send(match body {
            Some(b) => req.json(&b),
            None => req,
        })
        .await
    }

    async fn detail(&self, s: &Session, id: i64) -> Answer {
        self.get_authed(&format!("/diary/detail/{id}"), s).await
    }

    async fn like(&self, s: &Session, id: i64) -> Answer {
        // The front end posts `null` as the body.
        send(
            self.authed(Method::POST, &format!("/feeds/{id}/like"), s)
                .header("content-type", "application/json")
                .body("null"),
        )
        .await
    }
}

fn ids(list: &Value) -> Vec<i64> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["diaryId"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_front_ends_whole_diary_journey() {
    let app = spawn_app().await;
    let mut users = app.new_users(&["일기장", "구경꾼"]).await.into_iter();
    let (a, b) = (users.next().unwrap(), users.next().unwrap());
    let me = app.get_authed("/myInfo", &a).await.body["data"].clone();

    // Write (step 3 of the write page): a drawing and the text fields, private.
    let w = app.post_diary(&a, &[]).await;
    w.expect(201);
    assert_eq!(w.message(), "다이어리 등록 완료");
    let d = &w.body["data"];
    assert_eq!(d["EmotionStatus"], 3.5, "the half survives");
    assert_eq!(d["isPublic"], false);
    assert_eq!(d["UserId"], me["userId"]);
    assert_eq!(
        (d["viewCount"].as_i64(), d["likeCount"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(d["deletedAt"], Value::Null);
    let id = d["diaryId"].as_i64().unwrap();
    let image = d["image"].as_str().unwrap().to_string();
    assert!(
        image.contains("/uploads/diaries/") && image.ends_with(".png"),
        "{image}"
    );
    let drawing = app.client.get(&image).send().await.unwrap();
    assert_eq!(drawing.headers()["content-type"], "image/png");
    // An uploaded file is never rendered as a page, whatever its bytes hold.
    assert_eq!(drawing.headers()["x-content-type-options"], "nosniff");
    let csp = drawing.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("sandbox"),
        "{csp}"
    );
    assert!(
        drawing.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(
        pixels(&drawing.bytes().await.unwrap()),
        pixels(&png_bytes())
    );

    // The calendar of this month (unpadded month, as the front end asks).
    let today = seoul_today();
    let cal = app
        .get_authed(
            &format!("/diary/calendar/{}/{}", today.year(), today.month()),
            &a,
        )
        .await;
    cal.expect(200);
    let days = cal.body["data"].as_array().unwrap();
    let (_, last) = days_of_month(today.year(), today.month());
    assert_eq!(days.len() as u32, last);
    let slot = &days[today.day() as usize - 1];
    assert_eq!(slot["diaryId"], id);
    let label = slot["createdAt"].as_str().unwrap();
    assert_eq!(
        label,
        format!("{}. {}. {}.", today.year(), today.month(), today.day())
    );
    // What the front end does with it: `createdAt.split('.')[2]` as an integer.
    let day: u32 = label.split('.').nth(2).unwrap().trim().parse().unwrap();
    assert_eq!(day, today.day());
    assert_eq!(slot["EmotionStatus"], 3.5);
    assert_eq!(slot["weather"], "3");
    assert_eq!(days.iter().filter(|d| d.is_null()).count() as u32, last - 1);
    assert_eq!(cal.body["userProfileImg"]["userId"], me["userId"]);
    assert_eq!(cal.body["userProfileImg"]["profileImg"], me["profileImg"]);

    // Open it: Seoul wall-clock time with a Z (the front end subtracts 9 hours).
    let det = app.detail(&a, id).await;
    det.expect(200);
    assert_eq!(det.body["like"], Value::Null);
    let shown =
        chrono::DateTime::parse_from_rfc3339(det.body["data"]["createdAt"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc);
    let real = shown - chrono::TimeDelta::hours(9);
    assert!((Utc::now() - real).num_seconds().abs() < 120, "{shown}");
    assert!(
        det.body["data"]["createdAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(
        det.body["data"]["content"],
        "<p>오늘은 <strong>맑음</strong></p>"
    );

    // Private: the other account sees nothing of it.
    let hidden = app.detail(&b, id).await;
    hidden.expect(404);
    assert_eq!(hidden.message(), "존재하지 않는 일기입니다");
    let feed = send(app.client.get(app.url("/feeds?page=1"))).await;
    assert!(!ids(&feed.body).contains(&id));

    // Edit the text, then make it public (the edit window sends isPublic only when true).
    let e = app
        .call(
            Method::PATCH,
            &format!("/diary/edit/{id}"),
            &a,
            Some(json!({ "content": "<p>수정한 하루</p>" })),
        )
        .await;
    e.expect(201);
    assert_eq!(e.message(), "다이어리 수정 완료");
    assert_eq!(e.body["data"]["content"], "<p>수정한 하루</p>");
    assert_eq!(e.body["data"]["isPublic"], false);
    app.call(
        Method::PATCH,
        &format!("/diary/edit/{id}"),
        &a,
        Some(json!({ "content": "<p>수정한 하루</p>", "isPublic": true })),
    )
    .await
    .expect(201);

    // The other account finds it in the community feed (no token needed, none read).
    let feed = send(app.client.get(app.url("/feeds?page=1"))).await;
    feed.expect(200);
    assert!(ids(&feed.body).contains(&id));
    assert!(
        feed.body
            .get("next")
            .is_none_or(|n| !n.as_bool().unwrap_or(true)),
        "no truthy next"
    );
    let item = feed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["diaryId"] == id)
        .unwrap()
        .clone();
    assert_eq!(item["User"]["username"], "일기장");
    assert_eq!(item["content"], "<p>수정한 하루</p>");
    let page2 = send(app.client.get(app.url("/feeds?page=2"))).await;
    page2.expect(200);
    assert_eq!(page2.body["data"], json!([]));

    // Views: once per viewer and diary within the window; the owner's own never count.
    assert_eq!(app.detail(&b, id).await.body["data"]["viewCount"], 1);
    assert_eq!(app.detail(&b, id).await.body["data"]["viewCount"], 1);
    assert_eq!(app.detail(&a, id).await.body["data"]["viewCount"], 1);

    // Like it.
    let l = app.like(&b, id).await;
    l.expect(201);
    assert_eq!(l.message(), "좋아요가 추가되었습니다");
    assert_eq!(l.body["data"]["likeCount"], 1);
    let det = app.detail(&b, id).await;
    assert_eq!(det.body["like"]["likeExist"], true);
    assert_eq!(det.body["like"]["DiaryId"], id);
    assert_eq!(det.body["data"]["likeCount"], 1);

    // Comment, from both accounts; the list is newest first with the authors.
    let c = app
        .call(
            Method::POST,
            &format!("/diary/detail/comment/{id}"),
            &b,
            Some(json!({ "content": "멋진 하루!" })),
        )
        .await;
    c.expect(201);
    assert_eq!(c.message(), "댓글이 등록되었습니다");
    let b_comment = c.body["data"]["commentId"].as_i64().unwrap();
    app.call(
        Method::POST,
        &format!("/diary/detail/comment/{id}"),
        &a,
        Some(json!({ "content": "고마워요" })),
    )
    .await
    .expect(201);
    let list = app
        .get_authed(&format!("/diary/detail/comment/{id}"), &a)
        .await;
    list.expect(200);
    let comments = list.body["data"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0]["content"], "고마워요");
    assert_eq!(comments[1]["commentId"], b_comment);
    assert_eq!(comments[1]["User"]["username"], "구경꾼");
    assert!(comments[1]["User"]["profileImg"].is_string());
    assert_eq!(comments[1]["DiaryId"], id);

    // Edit one's comment (the original's misspelt key is still there for old clients).
    let ec = app
        .call(
            Method::PATCH,
            &format!("/diary/detail/comment/{b_comment}"),
            &b,
            Some(json!({ "content": "정말 멋진 하루!" })),
        )
        .await;
    ec.expect(201);
    assert_eq!(ec.body["meesage"], "댓글 수정 완료");
    let list = app
        .get_authed(&format!("/diary/detail/comment/{id}"), &b)
        .await;
    let edited = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["commentId"] == b_comment)
        .unwrap()
        .clone();
    assert_eq!(
        (edited["content"].as_str(), edited["isEdited"].as_bool()),
        (Some("정말 멋진 하루!"), Some(true))
    );

    // Reply to it, edit the reply, list the replies.
    let r = app
        .call(
            Method::POST,
            &format!("/diary/detail/secondaryComment/{id}/{b_comment}"),
            &a,
            Some(json!({ "content": "또 놀러 와요" })),
        )
        .await;
    r.expect(201);
    assert_eq!(r.message(), "대댓글이 등록되었습니다");
    let reply = r.body["data"]["secondaryCommentId"].as_i64().unwrap();
    app.call(
        Method::PATCH,
        &format!("/diary/detail/secondaryComment/{id}/{reply}"),
        &a,
        Some(json!({ "content": "또 놀러 와요!" })),
    )
    .await
    .expect(201);
    let replies = app
        .get_authed(&format!("/diary/detail/secondaryComment/{id}"), &b)
        .await;
    replies.expect(200);
    let rs = replies.body["data"].as_array().unwrap();
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0]["secondaryCommentId"], reply);
    assert_eq!(rs[0]["CommentId"], b_comment);
    assert_eq!(rs[0]["content"], "또 놀러 와요!");
    assert_eq!(rs[0]["User"]["username"], "일기장");

    // Take the like back.
    let l = app.like(&b, id).await;
    l.expect(200);
    assert_eq!(l.message(), "좋아요가 취소되었습니다");
    assert_eq!(l.body["data"]["likeCount"], 0);
    assert_eq!(app.detail(&b, id).await.body["like"], Value::Null);

    // The owner's list page: `date` is the browser's `new Date().toISOString()`.
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mine = app
        .get_authed(&format!("/feeds/mydiaries?page=1&date={now}"), &a)
        .await;
    mine.expect(200);
    assert_eq!(ids(&mine.body), vec![id]);
    assert_eq!(
        app.get_authed(&format!("/feeds/mydiaries?page=2&date={now}"), &a)
            .await
            .body["data"],
        json!([])
    );
    assert_eq!(
        ids(&app.get_authed("/feeds/mydiaries?page=1", &a).await.body),
        vec![id]
    );

    // Saving without isPublic makes it private again: the front end depends on that.
    app.call(
        Method::PATCH,
        &format!("/diary/edit/{id}"),
        &a,
        Some(json!({ "content": "<p>혼자 볼래</p>" })),
    )
    .await
    .expect(201);
    app.detail(&b, id).await.expect(404);

    // Delete: the diary, its comments and replies, and its drawing are gone.
    let del = app
        .call(Method::DELETE, &format!("/diary/delete/{id}"), &a, None)
        .await;
    del.expect(201);
    assert_eq!(del.message(), "삭제 완료");
    app.detail(&a, id).await.expect(404);
    app.get_authed(&format!("/diary/detail/comment/{id}"), &a)
        .await
        .expect(404);
    assert_eq!(app.client.get(&image).send().await.unwrap().status(), 404);
    assert!(files_under(&app.upload_dir).is_empty());
    // The day is free again.
    app.post_diary(&a, &[]).await.expect(201);
    app.stop().await;
}

fn days_of_month(year: i32, month: u32) -> (u32, u32) {
    let first = chrono::NaiveDate::from_ymd_opt(year, month, 1).unwrap();
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap();
    (1, next.pred_opt().unwrap().day())
}

#[tokio::test(flavor = "multi_thread")]
async fn one_diary_a_day_by_seoul_days_from_2359_to_0001() {
    let app = spawn_app().await;
    let (_, s) = app.new_user("자정").await;
    // 23:59 on 31 March in Seoul is 14:59 UTC, still 31 March there too; 00:01 is 1 April.
    app.app()
        .clock
        .set(Utc.with_ymd_and_hms(2026, 3, 31, 14, 59, 0).unwrap());
    let late = app.post_diary(&s, &[]).await;
    late.expect(201);
    assert!(
        late.body["data"]["createdAt"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-31T23:59:"),
        "{}",
        late.body
    );
    let again = app.post_diary(&s, &[("EmotionStatus", "2")]).await;
    again.expect(409);
    assert_eq!(again.message(), DAY_TAKEN);
    assert_eq!(
        files_under(&app.upload_dir).len(),
        1,
        "the refused post stored no drawing"
    );

    app.app()
        .clock
        .set(Utc.with_ymd_and_hms(2026, 3, 31, 15, 1, 0).unwrap());
    let early = app
        .post_diary(&s, &[("EmotionStatus", "1"), ("weather", "1")])
        .await;
    early.expect(201);
    assert!(
        early.body["data"]["createdAt"]
            .as_str()
            .unwrap()
            .starts_with("2026-04-01T00:01:")
    );
    assert_eq!(early.body["data"]["EmotionStatus"], 1);
    assert!(
        early.body["data"]["EmotionStatus"].is_i64(),
        "whole values stay integers"
    );
    let (march_id, april_id) = (
        late.body["data"]["diaryId"].clone(),
        early.body["data"]["diaryId"].clone(),
    );

    // The last day of the month is on the calendar (the original's bound left it out).
    let march = app.get_authed("/diary/calendar/2026/3", &s).await;
    march.expect(200);
    let days = march.body["data"].as_array().unwrap();
    assert_eq!(days.len(), 31);
    assert_eq!(days[30]["diaryId"], march_id);
    assert_eq!(days[30]["createdAt"], "2026. 3. 31.");
    assert!(days[..30].iter().all(Value::is_null));
    let april = app.get_authed("/diary/calendar/2026/4", &s).await;
    let days = april.body["data"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[0]["diaryId"], april_id);
    assert_eq!(days[0]["createdAt"], "2026. 4. 1.");

    // Statistics of the month and the streak across the month's end.
    let stats = app.get_authed("/diary/stats/2026/4", &s).await;
    stats.expect(200);
    let st = &stats.body["data"];
    assert_eq!(
        (st["written"].as_u64(), st["daysInMonth"].as_u64()),
        (Some(1), Some(30))
    );
    assert_eq!(
        (
            st["emotion"]["sad"].as_u64(),
            st["weather"]["rain"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        (st["currentStreak"].as_u64(), st["longestStreak"].as_u64()),
        (Some(2), Some(2))
    );
    let st = app.get_authed("/diary/stats/2026/3", &s).await.body["data"].clone();
    assert_eq!(
        (
            st["averageEmotion"].as_f64(),
            st["emotion"]["happy"].as_u64()
        ),
        (Some(3.5), Some(1))
    );

    // The list page by month: 15:30 UTC on 31 March is 1 April in Seoul.
    let mine = app
        .get_authed("/feeds/mydiaries?page=1&date=2026-03-31T15:30:00.000Z", &s)
        .await;
    assert_eq!(mine.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["data"][0]["diaryId"], april_id);
    let all = app.get_authed("/feeds/mydiaries?page=1", &s).await;
    assert_eq!(
        ids(&all.body),
        vec![april_id.as_i64().unwrap(), march_id.as_i64().unwrap()]
    );
    let cursor = all.body["data"][0]["createdAt"]
        .as_str()
        .unwrap()
        .to_string();
    let older = app
        .get_authed(
            &format!("/feeds/mydiaries?page=1&lastCreatedAt={cursor}"),
            &s,
        )
        .await;
    assert_eq!(ids(&older.body), vec![march_id.as_i64().unwrap()]);

    // Export, as JSON and as CSV.
    let res = app
        .authed(Method::GET, "/diary/export", &s)
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("ninecloud-diaries.json")
    );
    let ex: Value = res.json().await.unwrap();
    assert_eq!(ex["count"], 2);
    assert_eq!(ex["data"][0]["date"], "2026-03-31");
    assert!(
        ex["data"][0]["createdAt"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-31T23:59:")
    );
    assert!(
        ex["data"][0]["createdAt"]
            .as_str()
            .unwrap()
            .ends_with("+09:00")
    );
    assert_eq!(ex["data"][0]["text"], "오늘은 맑음");
    let res = app
        .authed(Method::GET, "/diary/export?format=csv", &s)
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'));
    let lines: Vec<&str> = csv.trim_end().lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].contains("EmotionStatus") && lines[2].contains("2026-04-01"));
    app.get_authed("/diary/export?format=xml", &s)
        .await
        .expect(400);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn simultaneous_posts_on_one_day_make_one_diary_and_keep_one_drawing() {
    let app = spawn_app().await;
    let (_, s) = app.new_user("동시에").await;
    let answers = join_all((0..8).map(|_| app.post_diary(&s, &[]))).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    let refused = answers
        .iter()
        .filter(|a| a.status == 409 && a.message() == DAY_TAKEN)
        .count();
    assert_eq!(
        (created, refused),
        (1, 7),
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    assert_eq!(files_under(&app.upload_dir).len(), 1, "no orphaned drawing");
    let today = seoul_today();
    let cal = app
        .get_authed(
            &format!("/diary/calendar/{}/{}", today.year(), today.month()),
            &s,
        )
        .await;
    assert_eq!(
        cal.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| !d.is_null())
            .count(),
        1
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn likes_stay_counted_right_under_simultaneous_clicks() {
    let app = spawn_app().await;
    let users = app
        .new_users(&["주인", "하나", "둘째", "셋째", "넷째", "다섯", "여섯"])
        .await;
    let owner = &users[0];
    let likers = &users[1..];
    let id = app.post_diary(owner, &[("isPublic", "true")]).await.body["data"]["diaryId"]
        .as_i64()
        .unwrap();

    let first = join_all(likers.iter().map(|s| app.like(s, id))).await;
    assert!(
        first.iter().all(|a| a.status == 201),
        "{:?}",
        first.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    assert_eq!(app.detail(owner, id).await.body["data"]["likeCount"], 6);

    // A double click: the two toggles queue, one takes the like back and one gives it again.
    let double = join_all([app.like(&likers[0], id), app.like(&likers[0], id)]).await;
    let mut codes: Vec<u16> = double.iter().map(|a| a.status.as_u16()).collect();
    codes.sort();
    assert_eq!(codes, vec![200, 201]);
    let liked = join_all(likers.iter().map(|s| app.detail(s, id)))
        .await
        .iter()
        .filter(|a| a.body["like"]["likeExist"] == true)
        .count();
    assert_eq!(liked, 6);
    assert_eq!(app.detail(owner, id).await.body["data"]["likeCount"], 6);

    let undo = join_all(likers.iter().map(|s| app.like(s, id))).await;
    assert!(undo.iter().all(|a| a.status == 200));
    assert_eq!(app.detail(owner, id).await.body["data"]["likeCount"], 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn private_diaries_their_comments_and_likes_stay_with_their_owner() {
    let app = spawn_app().await;
    let users = app.new_users(&["주인장", "손님", "이웃"]).await;
    let (a, b, c) = (&users[0], &users[1], &users[2]);
    let id = app.post_diary(a, &[]).await.body["data"]["diaryId"]
        .as_i64()
        .unwrap();

    // Private: nothing of it is reachable for others, and nothing changes.
    let e = app
        .call(
            Method::PATCH,
            &format!("/diary/edit/{id}"),
            b,
            Some(json!({ "content": "해킹", "isPublic": true })),
        )
        .await;
    e.expect(404);
    assert_eq!(e.message(), "작성된 일기가 없습니다");
    let d = app
        .call(Method::DELETE, &format!("/diary/delete/{id}"), b, None)
        .await;
    d.expect(404);
    assert_eq!(d.message(), "삭제하려는 일기가 존재하지 않습니다");
    let l = app.like(b, id).await;
    l.expect(404);
    assert_eq!(l.message(), "해당하는 일기가 없습니다");
    app.call(
        Method::POST,
        &format!("/diary/detail/comment/{id}"),
        b,
        Some(json!({ "content": "몰래" })),
    )
    .await
    .expect(404);
    app.get_authed(&format!("/diary/detail/comment/{id}"), b)
        .await
        .expect(404);
    app.get_authed(&format!("/diary/detail/secondaryComment/{id}"), b)
        .await
        .expect(404);
    let mine = app.detail(a, id).await;
    assert_eq!(
        mine.body["data"]["content"],
        "<p>오늘은 <strong>맑음</strong></p>"
    );
    assert_eq!(
        (
            mine.body["data"]["likeCount"].as_i64(),
            mine.body["data"]["isPublic"].as_bool()
        ),
        (Some(0), Some(false))
    );

    // Public: others comment; each edits only their own; the owner may remove any.
    app.call(
        Method::PATCH,
        &format!("/diary/edit/{id}"),
        a,
        Some(json!({ "isPublic": "true" })),
    )
    .await
    .expect(201);
    let bc = app
        .call(
            Method::POST,
            &format!("/diary/detail/comment/{id}"),
            b,
            Some(json!({ "content": "손님 댓글" })),
        )
        .await
        .body["data"]["commentId"]
        .as_i64()
        .unwrap();
    let cc = app
        .call(
            Method::POST,
            &format!("/diary/detail/comment/{id}"),
            c,
            Some(json!({ "content": "이웃 댓글" })),
        )
        .await
        .body["data"]["commentId"]
        .as_i64()
        .unwrap();
    let e = app
        .call(
            Method::PATCH,
            &format!("/diary/detail/comment/{cc}"),
            b,
            Some(json!({ "content": "바꿈" })),
        )
        .await;
    e.expect(403);
    assert_eq!(e.message(), "수정 권한이 없습니다");
    let d = app
        .call(
            Method::DELETE,
            &format!("/diary/detail/comment/{cc}"),
            b,
            None,
        )
        .await;
    d.expect(403);
    assert_eq!(d.message(), "삭제 권한이 없습니다");
    let br = app
        .call(
            Method::POST,
            &format!("/diary/detail/secondaryComment/{id}/{bc}"),
            b,
            Some(json!({ "content": "내 답글" })),
        )
        .await
        .body["data"]["secondaryCommentId"]
        .as_i64()
        .unwrap();
    app.call(
        Method::PATCH,
        &format!("/diary/detail/secondaryComment/{id}/{br}"),
        c,
        Some(json!({ "content": "남의 답글" })),
    )
    .await
    .expect(403);
    app.call(
        Method::DELETE,
        &format!("/diary/detail/secondaryComment/{br}"),
        c,
        None,
    )
    .await
    .expect(403);
    // A reply's id under another diary is not found there.
    app.call(
        Method::PATCH,
        &format!("/diary/detail/secondaryComment/{}/{br}", id + 1000),
        b,
        Some(json!({ "content": "x" })),
    )
    .await
    .expect(404);

    // Private again: even the comments' authors no longer reach them.
    app.call(
        Method::PATCH,
        &format!("/diary/edit/{id}"),
        a,
        Some(json!({ "content": "<p>다시 비공개</p>" })),
    )
    .await
    .expect(201);
    let e = app
        .call(
            Method::PATCH,
            &format!("/diary/detail/comment/{bc}"),
            b,
            Some(json!({ "content": "수정" })),
        )
        .await;
    e.expect(404);
    assert_eq!(e.message(), "존재하지 않는 댓글입니다");
    let d = app
        .call(
            Method::DELETE,
            &format!("/diary/detail/comment/{bc}"),
            b,
            None,
        )
        .await;
    d.expect(404);
    assert_eq!(d.message(), "댓글이 존재하지 않습니다");
    app.detail(c, id).await.expect(404);

    // The owner removes a guest's reply and comment on their own diary.
    let r = app
        .call(
            Method::DELETE,
            &format!("/diary/detail/secondaryComment/{br}"),
            a,
            None,
        )
        .await;
    r.expect(201);
    assert_eq!(r.message(), "대댓글 삭제 완료");
    let r = app
        .call(
            Method::DELETE,
            &format!("/diary/detail/comment/{cc}"),
            a,
            None,
        )
        .await;
    r.expect(201);
    assert_eq!(r.message(), "댓글 삭제 완료");
    let left = app
        .get_authed(&format!("/diary/detail/comment/{id}"), a)
        .await;
    assert_eq!(left.body["data"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_html_is_stored_harmless_and_long_diaries_are_kept_whole() {
    let app = spawn_app().await;
    let (_, s) = app.new_user("보안").await;
    let hostile = r#"<p onclick="steal()">안녕<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">링크</a></p><p class="ql-align-center"><em>가운데</em></p><iframe src="https://evil.test"></iframe>"#;
    let w = app
        .post_diary(&s, &[("content", hostile), ("isPublic", "true")])
        .await;
    w.expect(201);
    let id = w.body["data"]["diaryId"].as_i64().unwrap();
    let stored = app.detail(&s, id).await.body["data"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    for bad in [
        "onclick",
        "<script",
        "alert",
        "onerror",
        "<img",
        "javascript:",
        "iframe",
    ] {
        assert!(!stored.contains(bad), "{bad} survived: {stored}");
    }
    assert!(
        stored.contains("안녕")
            && stored.contains(r#"<p class="ql-align-center"><em>가운데</em></p>"#),
        "{stored}"
    );

    // Editing goes through the same sanitizer.
    let e = app
        .call(
            Method::PATCH,
            &format!("/diary/edit/{id}"),
            &s,
            Some(json!({ "content": "<svg onload=alert(1)></svg><p>다시</p>", "isPublic": true })),
        )
        .await;
    e.expect(201);
    assert_eq!(e.body["data"]["content"], "<p>다시</p>");

    // A long diary (far past the original's 191-character column) comes back whole.
    let long = format!("<p>{}</p>", "구름".repeat(3000));
    app.call(
        Method::PATCH,
        &format!("/diary/edit/{id}"),
        &s,
        Some(json!({ "content": long, "isPublic": true })),
    )
    .await
    .expect(201);
    assert_eq!(app.detail(&s, id).await.body["data"]["content"], long);

    // Comments hold text only: markup goes, ordinary characters stay as typed.
    app.call(
        Method::POST,
        &format!("/diary/detail/comment/{id}"),
        &s,
        Some(json!({ "content": "<script>alert(1)</script>좋아요 <3 & 감사" })),
    )
    .await
    .expect(201);
    let list = app
        .get_authed(&format!("/diary/detail/comment/{id}"), &s)
        .await;
    let comment = &list.body["data"][0];
    assert_eq!(comment["content"], "좋아요 <3 & 감사");
    // Only markup is no comment at all.
    let cid = comment["commentId"].as_i64().unwrap();
    let r = app
        .call(
            Method::POST,
            &format!("/diary/detail/secondaryComment/{id}/{cid}"),
            &s,
            Some(json!({ "content": "<img src=x onerror=alert(1)>" })),
        )
        .await;
    r.expect(400);
    assert!(r.message().contains("content"), "{}", r.message());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_4xx_message_and_leaves_nothing_behind() {
    let app = spawn_with(&[("UPLOAD_MAX_BYTES", "2000")]).await;
    let (_, s) = app.new_user("실수").await;
    let post = |fields: Vec<(&'static str, &'static str)>, image: Option<Vec<u8>>| {
        let form = diary_form(&fields, image);
        send(
            app.authed(Method::POST, "/diary/posting", &s)
                .multipart(form),
        )
    };
    let without = |name: &str| -> Vec<(&'static str, &'static str)> {
        DIARY_FIELDS
            .iter()
            .copied()
            .filter(|(k, _)| *k != name)
            .collect()
    };
    let with = |name: &'static str, value: &'static str| -> Vec<(&'static str, &'static str)> {
        DIARY_FIELDS
            .iter()
            .map(|&(k, v)| if k == name { (k, value) } else { (k, v) })
            .collect()
    };

    for (fields, needle) in [
        (without("weather"), "weather"),
        (without("EmotionStatus"), "EmotionStatus"),
        (without("content"), "content"),
        (with("EmotionStatus", "7"), "EmotionStatus"),
        (with("EmotionStatus", "행복"), "EmotionStatus"),
        (with("weather", "9"), "weather"),
        (with("sleep", "0"), "sleep"),
        (with("isPublic", "maybe"), "isPublic"),
        (with("content", "   "), "content"),
    ] {
        let a = post(fields, Some(png_bytes())).await;
        a.expect(400);
        assert!(a.message().contains(needle), "{needle}: {}", a.message());
    }
    let mut extra = DIARY_FIELDS.to_vec();
    extra.push(("mood", "good"));
    let a = post(extra, Some(png_bytes())).await;
    a.expect(400);
    assert!(a.message().contains("mood"));
    // A text file sent as the drawing; one past the size limit.
    let a = send(
        app.authed(Method::POST, "/diary/posting", &s).multipart(
            diary_form(&DIARY_FIELDS, None).part(
                "image",
                reqwest::multipart::Part::bytes(b"<svg onload=alert(1)>".to_vec())
                    .file_name("blob")
                    .mime_str("image/png")
                    .unwrap(),
            ),
        ),
    )
    .await;
    a.expect(400);
    assert!(a.message().contains("이미지"), "{}", a.message());
    let mut big = png_bytes();
    big.resize(5000, 0);
    post(DIARY_FIELDS.to_vec(), Some(big)).await.expect(413);
    let a = app
        .call(
            Method::POST,
            "/diary/posting",
            &s,
            Some(json!({ "content": "json" })),
        )
        .await;
    a.expect(400);
    assert!(a.message().contains("multipart"));
    let a = send(
        app.client
            .post(app.url("/diary/posting"))
            .multipart(diary_form(&DIARY_FIELDS, Some(png_bytes()))),
    )
    .await;
    a.expect(401);
    assert!(
        files_under(&app.upload_dir).is_empty(),
        "{:?}",
        files_under(&app.upload_dir)
    );
    let today = seoul_today();
    let cal = app
        .get_authed(
            &format!("/diary/calendar/{}/{}", today.year(), today.month()),
            &s,
        )
        .await;
    assert!(
        cal.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_null),
        "nothing was written"
    );

    // Paths and queries.
    for (path, status, needle) in [
        ("/diary/detail/abc", 400, "diaryId"),
        ("/diary/detail/0", 400, "diaryId"),
        ("/diary/detail/99999", 404, "존재하지 않는 일기입니다"),
        ("/diary/calendar/2024/13", 400, "month"),
        ("/diary/calendar/abc/1", 400, "year"),
        ("/diary/stats/2024/0", 400, "month"),
        ("/feeds?page=0", 400, "page"),
        ("/feeds?page=x", 400, "page"),
        ("/feeds?date=someday", 400, "date"),
        (
            "/feeds/mydiaries?lastCreatedAt=yesterday",
            400,
            "lastCreatedAt",
        ),
        ("/diary/detail/comment/x", 400, "diaryId"),
    ] {
        let a = app.get_authed(path, &s).await;
        a.expect(status);
        assert!(a.message().contains(needle), "{path}: {}", a.message());
    }

    // Bodies of JSON routes.
    let id = app.post_diary(&s, &[("EmotionStatus", "4")]).await.body["data"]["diaryId"]
        .as_i64()
        .unwrap();
    for (body, needle) in [
        (json!({ "EmotionStatus": 3 }), "EmotionStatus"),
        (json!({ "isPublic": "maybe" }), "isPublic"),
        (json!({ "content": "" }), "content"),
    ] {
        let a = app
            .call(Method::PATCH, &format!("/diary/edit/{id}"), &s, Some(body))
            .await;
        a.expect(400);
        assert!(a.message().contains(needle), "{needle}: {}", a.message());
    }
    let comment = format!("/diary/detail/comment/{id}");
    for body in [
        json!({}),
        json!({ "content": "   " }),
        json!({ "content": "가".repeat(201) }),
        json!({ "content": 5 }),
    ] {
        let a = app.call(Method::POST, &comment, &s, Some(body)).await;
        a.expect(400);
        assert!(a.message().contains("content"), "{}", a.message());
    }
    let a = app
        .call(
            Method::PATCH,
            "/diary/detail/comment/99999",
            &s,
            Some(json!({ "content": "x" })),
        )
        .await;
    a.expect(404);
    assert_eq!(a.message(), "존재하지 않는 댓글입니다");
    let a = app
        .call(Method::DELETE, "/diary/detail/comment/99999", &s, None)
        .await;
    a.expect(404);
    assert_eq!(a.message(), "댓글이 존재하지 않습니다");
    let a = app
        .call(
            Method::POST,
            &format!("/diary/detail/secondaryComment/{id}/99999"),
            &s,
            Some(json!({ "content": "x" })),
        )
        .await;
    a.expect(404);
    // Nothing of that touched the diary.
    let d = app.detail(&s, id).await.body["data"].clone();
    assert_eq!(
        (d["EmotionStatus"].as_i64(), d["isPublic"].as_bool()),
        (Some(4), Some(false))
    );
    assert_eq!(app.get_authed(&comment, &s).await.body["data"], json!([]));
    app.stop().await;
}

/// Markup escaped any number of times (eight was the old sanitizer's limit) never comes back
/// live: not in a comment, its edit, a reply, nor the diary's sentence on the public feed; and
/// diary styles that can run code are gone.
#[tokio::test(flavor = "multi_thread")]
async fn deeply_escaped_markup_never_comes_back_live() {
    let app = spawn_app().await;
    let users = app.new_users(&["작가", "독자"]).await;
    let (a, b) = (&users[0], &users[1]);
    let escaped = |depth: usize| {
        (0..depth).fold("<img src=x onerror=alert(1)>".to_string(), |t, _| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        })
    };
    let live = |v: &Value| {
        let s = v.as_str().unwrap_or_default().to_string();
        assert!(
            !s.contains('<') && !s.contains("onerror"),
            "live markup in {s:?}"
        );
        s
    };
    let hostile_sentence = format!("좋아 {}", escaped(8));
    let posted = app
        .post_diary(
            a,
            &[
                ("isPublic", "true"),
                ("sentence", &hostile_sentence),
                (
                    "content",
                    r#"<p><span style="background-color:expression(alert(1));color:rgb(230, 0, 0)">하루</span></p>"#,
                ),
            ],
        )
        .await;
    posted.expect(201);
    let id = posted.body["data"]["diaryId"].as_i64().unwrap();
    let content = posted.body["data"]["content"].as_str().unwrap().to_string();
    assert!(!content.contains("expression"), "{content}");
    assert!(content.contains("color:rgb(230, 0, 0)"), "{content}");
    assert_eq!(live(&posted.body["data"]["sentence"]).trim(), "좋아");
    let feed = send(app.client.get(app.url("/feeds?page=1"))).await;
    let on_feed = feed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["diaryId"] == id)
        .expect("public diary on the feed")
        .clone();
    assert_eq!(live(&on_feed["sentence"]).trim(), "좋아");

    for depth in [1, 7, 8, 9, 12] {
        let c = app
            .call(
                Method::POST,
                &format!("/diary/detail/comment/{id}"),
                b,
                Some(json!({ "content": format!("안녕 {}", escaped(depth)) })),
            )
            .await;
        c.expect(201);
        assert_eq!(live(&c.body["data"]["content"]), "안녕", "depth {depth}");
        let comment = c.body["data"]["commentId"].as_i64().unwrap();
        let edited = app
            .call(
                Method::PATCH,
                &format!("/diary/detail/comment/{comment}"),
                b,
                Some(json!({ "content": format!("수정 {}", escaped(depth)) })),
            )
            .await;
        edited.expect(201);
        let r = app
            .call(
                Method::POST,
                &format!("/diary/detail/secondaryComment/{id}/{comment}"),
                a,
                Some(json!({ "content": format!("답글 {}", escaped(depth)) })),
            )
            .await;
        r.expect(201);
        assert_eq!(live(&r.body["data"]["content"]), "답글", "depth {depth}");
    }
    let list = app
        .get_authed(&format!("/diary/detail/comment/{id}"), a)
        .await;
    for c in list.body["data"].as_array().unwrap() {
        live(&c["content"]);
    }
    let replies = app
        .get_authed(&format!("/diary/detail/secondaryComment/{id}"), a)
        .await;
    for r in replies.body["data"].as_array().unwrap() {
        live(&r["content"]);
    }
}
