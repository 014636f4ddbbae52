//! The sync API (`/sync/v1`) as an office system uses it: tokens, idempotent pushes in
//! `as_of` order, finance charges by id, the read and changes endpoints, the limits; and
//! every answer checked against the committed OpenAPI document.

use std::sync::OnceLock;

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::{Value, json};

use crate::common::{Reply, TestApp};

const LIBRARY: &str = "lxs_demo_library_2020";
const FINANCE: &str = "lxs_demo_finance_2020";
const HOUSING: &str = "lxs_demo_housing_2020";

/// The document as committed; `document_is_committed_as_generated` keeps it current.
fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        serde_json::from_str(include_str!("../../../docs/sync-openapi.json")).expect("JSON")
    })
}

/// Checks `value` against the document's schema called `name`.
fn assert_matches_schema(name: &str, value: &Value) {
    let schema = json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": document()["components"],
    });
    let validator = jsonschema::validator_for(&schema).expect("the document's schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|error| format!("{} at {}", error, error.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "answer does not match {name}: {errors:?}\n{value:#}"
    );
}

/// A call of the API, its answer checked against the document: a 200 against
/// `success`, anything else against `ErrorAnswer`.
async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
    success: &str,
) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map(Body::from).unwrap_or_else(Body::empty);
    let reply = Reply::read(app.send(request.body(body).expect("request")).await).await;
    assert_eq!(
        reply
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "{path}"
    );
    let schema = if reply.status == StatusCode::OK {
        success
    } else {
        "ErrorAnswer"
    };
    assert_matches_schema(schema, &reply.json());
    reply
}

async fn push(app: &TestApp, office: &str, token: &str, records: Value) -> Reply {
    call(
        app,
        "POST",
        &format!("/sync/v1/{office}/records"),
        Some(token),
        Some(json!({ "records": records }).to_string()),
        "PushAnswer",
    )
    .await
}

async fn held(app: &TestApp, office: &str, token: &str, number: &str, schema: &str) -> Value {
    let reply = call(
        app,
        "GET",
        &format!("/sync/v1/{office}/students/{number}"),
        Some(token),
        None,
        schema,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

fn statuses(answer: &Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| result["status"].as_str().expect("status").to_owned())
        .collect()
}

fn library(number: &str, as_of: &str, books_out: u32) -> Value {
    json!({
        "student_number": number, "as_of": as_of, "books_out": books_out, "fines": "0",
        "violations": 0, "card_cancelled": true, "thesis_status": "approved",
    })
}

#[tokio::test]
async fn document_is_committed_as_generated_and_served() {
    let generated = server::sync::openapi_document();
    let committed = include_str!("../../../docs/sync-openapi.json");
    assert!(
        generated == committed,
        "docs/sync-openapi.json is out of date: run \
         `cargo run -p server -- sync-openapi > docs/sync-openapi.json`"
    );
    let app = TestApp::new().await;
    let (status, body) = app.get("/sync/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(body, generated);
    let served: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(served["openapi"], "3.1.0");
}

#[tokio::test]
async fn the_same_payload_twice_changes_nothing_the_second_time() {
    let app = TestApp::with_demo_students().await;
    let records = json!([
        library("2020100003", "2026-06-20T08:00:00+08:00", 0),
        { "student_number": "2020100001", "as_of": "2026-06-20T08:00:00+08:00", "not_applicable": true },
        library("2099999999", "2026-06-20T08:00:00+08:00", 0),
        { "student_number": "2020100002", "as_of": "2026-06-20T08:00:00+08:00", "books_out": -1 },
    ]);
    let first = push(&app, "library", LIBRARY, records.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let answer = first.json();
    assert_eq!(
        statuses(&answer),
        ["updated", "updated", "rejected", "rejected"]
    );
    assert!(
        answer["results"][2]["reason"]
            .as_str()
            .expect("reason")
            .contains("不在离校学生名单")
    );
    assert!(
        answer["results"][3]["reason"]
            .as_str()
            .expect("reason")
            .contains("books_out")
    );
    assert_eq!(answer["results"][3]["index"], 3);
    let history = app
        .count("SELECT COUNT(*) FROM office_history WHERE actor_kind = 'system'")
        .await;
    assert_eq!(history, 2, "one history row per applied record");

    let second = push(&app, "library", LIBRARY, records).await.json();
    assert_eq!(
        statuses(&second),
        ["unchanged", "unchanged", "rejected", "rejected"]
    );
    assert_eq!(
        (second["updated"].as_u64(), second["unchanged"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM office_history WHERE actor_kind = 'system'")
            .await,
        2,
        "a repeat writes no history"
    );

    // The student's 变更记录 gives the office's own time in Beijing time, never the
    // token's name; 数据更新于 is that time too.
    let zhang = app.sign_in("2020100003", "2020100003").await;
    let clearance = app.post("/api/clearance", &[], Some(&zhang)).await.json();
    let history = clearance["history"].to_string();
    assert!(
        history.contains("系统同步（数据时间 2026-06-20 08:00:00）"),
        "{history}"
    );
    assert!(!history.contains("library-demo"), "{history}");
    assert_eq!(
        clearance["facts"]["states"]["library"]["reported_at"],
        "2026-06-20 08:00:00"
    );

    // The student sees the pushed facts: 张伟's library now passes.
    let library_held = held(&app, "library", LIBRARY, "2020100003", "LibraryHeld").await;
    assert_eq!(library_held["state"]["verdict"], "pass");
    assert_eq!(library_held["record"]["books_out"], 0);
    let not_applicable = held(&app, "library", LIBRARY, "2020100001", "LibraryHeld").await;
    assert_eq!(not_applicable["state"]["standing"], "not_applicable");
    assert_eq!(not_applicable["record"]["not_applicable"], true);
}

#[tokio::test]
async fn an_older_record_never_overwrites_a_newer_one() {
    let app = TestApp::with_demo_students().await;
    // Out of order within one request: the newer one (3 books) wins.
    let answer = push(
        &app,
        "library",
        LIBRARY,
        json!([
            library("2020100003", "2026-06-20T10:00:00+08:00", 3),
            library("2020100003", "2026-06-20T09:00:00+08:00", 0),
        ]),
    )
    .await
    .json();
    assert_eq!(statuses(&answer), ["updated", "updated"]);
    let now = held(&app, "library", LIBRARY, "2020100003", "LibraryHeld").await;
    assert_eq!(now["record"]["books_out"], 3);
    assert_eq!(now["state"]["as_of"], "2026-06-20T02:00:00Z");

    // Out of order across requests: the older one changes nothing, and says so.
    let late = push(
        &app,
        "library",
        LIBRARY,
        json!([library("2020100003", "2026-06-20T09:30:00+08:00", 0)]),
    )
    .await
    .json();
    assert_eq!(statuses(&late), ["unchanged"]);
    assert_eq!(late["results"][0]["held_as_of"], "2026-06-20T02:00:00Z");
    assert!(
        late["results"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("较旧")
    );
    let still = held(&app, "library", LIBRARY, "2020100003", "LibraryHeld").await;
    assert_eq!(still["record"]["books_out"], 3);

    // The same as_of with other facts is a conflict, not a silent choice.
    let conflict = push(
        &app,
        "library",
        LIBRARY,
        json!([library("2020100003", "2026-06-20T10:00:00+08:00", 1)]),
    )
    .await
    .json();
    assert_eq!(statuses(&conflict), ["rejected"]);
}

#[tokio::test]
async fn a_clerks_save_is_newer_than_a_record_from_before_it() {
    let app = TestApp::with_demo_students().await;
    // A clerk sets 不涉及 at the desk now; a record the system made an hour ago arrives.
    let version = app
        .count("SELECT version FROM office_states WHERE student_number = '2020100003' AND office = 'library'")
        .await;
    let outcome = app::db::offices::apply(
        &app.state.db,
        "2020100003",
        app::clearance::rules::Office::Library,
        &app::db::offices::Change::NotApplicable,
        version,
        "已核对",
        &app::db::offices::Actor::Staff("library_demo".to_owned()),
        app::clock::now(),
    )
    .await
    .expect("saved");
    assert!(matches!(outcome, app::db::offices::ChangeOutcome::Saved(_)));
    let an_hour_ago = app::clock::utc_timestamp(app::clock::now() - time::Duration::hours(1));
    let answer = push(
        &app,
        "library",
        LIBRARY,
        json!([library("2020100003", &an_hour_ago, 5)]),
    )
    .await
    .json();
    assert_eq!(statuses(&answer), ["unchanged"]);
    let still = held(&app, "library", LIBRARY, "2020100003", "LibraryHeld").await;
    assert_eq!(still["state"]["standing"], "not_applicable");
}

#[tokio::test]
async fn a_card_the_student_cancelled_after_as_of_stays_cancelled() {
    let app = TestApp::with_demo_students().await;
    // 李娜 cancels her card in Lixiao now; the library's record is from yesterday.
    app.exec(&format!(
        "UPDATE library_records SET card_cancelled_at = '{}' WHERE student_number = '2020100002'",
        app::clock::utc_timestamp(app::clock::now())
    ))
    .await;
    let yesterday = app::clock::utc_timestamp(app::clock::now() - time::Duration::days(1));
    let mut record = library("2020100002", &yesterday, 0);
    record["card_cancelled"] = json!(false);
    push(&app, "library", LIBRARY, json!([record])).await;
    let after = held(&app, "library", LIBRARY, "2020100002", "LibraryHeld").await;
    assert_eq!(after["record"]["card_cancelled"], true, "{after:#}");

    // A record from after the cancellation is the library's newer word.
    let mut newer = library(
        "2020100002",
        &app::clock::utc_timestamp(app::clock::now()),
        0,
    );
    newer["card_cancelled"] = json!(false);
    newer["as_of"] = json!(app::clock::utc_timestamp(
        app::clock::now() + time::Duration::minutes(1)
    ));
    push(&app, "library", LIBRARY, json!([newer])).await;
    let reinstated = held(&app, "library", LIBRARY, "2020100002", "LibraryHeld").await;
    assert_eq!(reinstated["record"]["card_cancelled"], false);
}

async fn owed(app: &TestApp) -> i64 {
    app.count("SELECT COALESCE(CAST(SUM(amount_fen) AS BIGINT), 0) FROM finance_arrears WHERE student_number = '2020100001'")
        .await
}

#[tokio::test]
async fn finance_charges_are_exact_by_their_ids() {
    let app = TestApp::with_demo_students().await;
    let charge = |id: &str, amount: &str| json!({ "charge_id": id, "academic_year": "2019", "item": "学分学费", "amount": amount });
    let record = |as_of: &str, charges: Value| json!({ "student_number": "2020100001", "as_of": as_of, "charges": charges });
    let first = push(
        &app,
        "finance",
        FINANCE,
        json!([record(
            "2026-06-20T08:00:00+08:00",
            json!([charge("F-1", "550.00"), charge("F-2", "60")])
        )]),
    )
    .await
    .json();
    assert_eq!(statuses(&first), ["updated"]);
    assert_eq!(owed(&app).await, 61_000);
    let finance = held(&app, "finance", FINANCE, "2020100001", "FinanceHeld").await;
    assert_eq!(finance["state"]["verdict"], "fail");
    assert_eq!(finance["record"]["charges"][0]["charge_id"], "F-1");

    // The same charges again: nothing changes, nothing doubles.
    let repeat = push(
        &app,
        "finance",
        FINANCE,
        json!([record(
            "2026-06-20T09:00:00+08:00",
            json!([charge("F-2", "60.00"), charge("F-1", "550")])
        )]),
    )
    .await
    .json();
    assert_eq!(statuses(&repeat), ["unchanged"]);
    assert_eq!(owed(&app).await, 61_000);

    // F-2 paid: it is missing from the next record.
    push(
        &app,
        "finance",
        FINANCE,
        json!([record(
            "2026-06-21T08:00:00+08:00",
            json!([charge("F-1", "550")])
        )]),
    )
    .await;
    assert_eq!(owed(&app).await, 55_000);

    // A charge id twice in one record is refused; the held facts stay.
    let twice = push(
        &app,
        "finance",
        FINANCE,
        json!([record(
            "2026-06-22T08:00:00+08:00",
            json!([charge("F-1", "550"), charge("F-1", "550")])
        )]),
    )
    .await
    .json();
    assert_eq!(statuses(&twice), ["rejected"]);
    assert!(
        twice["results"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("两次")
    );
    assert_eq!(owed(&app).await, 55_000);

    // Everything paid: an empty list, and the office passes.
    push(
        &app,
        "finance",
        FINANCE,
        json!([record("2026-06-23T08:00:00+08:00", json!([]))]),
    )
    .await;
    assert_eq!(owed(&app).await, 0);
    let cleared = held(&app, "finance", FINANCE, "2020100001", "FinanceHeld").await;
    assert_eq!(cleared["state"]["verdict"], "pass");
}

#[tokio::test]
async fn a_pending_office_is_created_and_an_override_ends_as_chosen() {
    let app = TestApp::with_demo_students().await;
    app.exec(
        "DELETE FROM office_states WHERE student_number = '2020100001' AND office = 'housing'",
    )
    .await;
    app.exec("DELETE FROM housing_records WHERE student_number = '2020100001'")
        .await;
    let pending = held(&app, "housing", HOUSING, "2020100001", "HousingHeld").await;
    assert_eq!(pending["state"]["verdict"], "pending");
    assert_eq!(pending["record"], Value::Null);
    let room = json!({
        "student_number": "2020100001", "as_of": "2026-06-20T08:00:00+08:00",
        "campus": "南湖校区", "building": "松苑 2 号楼", "room": "B-512",
        "checked_out_on": "2026-06-18", "checked_out_by": "王老师",
    });
    let created = push(&app, "housing", HOUSING, json!([room.clone()]))
        .await
        .json();
    assert_eq!(statuses(&created), ["created"]);
    let housing = held(&app, "housing", HOUSING, "2020100001", "HousingHeld").await;
    assert_eq!(housing["state"]["verdict"], "pass");
    assert_eq!(housing["record"]["room"], "B-512");

    // A clerk's pass by hand that was to end with new facts ends with the next push;
    // one meant to stay, stays.
    for (ends, stays) in [(true, false), (false, true)] {
        let version = app
            .count("SELECT version FROM office_states WHERE student_number = '2020100001' AND office = 'housing'")
            .await;
        let set = app::db::offices::apply(
            &app.state.db,
            "2020100001",
            app::clearance::rules::Office::Housing,
            &app::db::offices::Change::Override {
                pass: false,
                ends_with_new_facts: ends,
            },
            version,
            "钥匙未交",
            &app::db::offices::Actor::Staff("housing_demo".to_owned()),
            app::clock::now(),
        )
        .await
        .expect("saved");
        assert!(matches!(set, app::db::offices::ChangeOutcome::Saved(_)));
        let as_of = app::clock::utc_timestamp(
            app::clock::now() + time::Duration::seconds(if ends { 1 } else { 2 }),
        );
        let mut moved = room.clone();
        moved["as_of"] = json!(as_of);
        moved["room"] = json!(if ends { "B-513" } else { "B-514" });
        let answer = push(&app, "housing", HOUSING, json!([moved])).await.json();
        assert_eq!(statuses(&answer), ["updated"]);
        let after = held(&app, "housing", HOUSING, "2020100001", "HousingHeld").await;
        assert_eq!(after["state"]["override"].is_object(), stays, "{after:#}");
        assert_eq!(
            after["state"]["verdict"],
            if stays { "fail" } else { "pass" }
        );
    }

    // Half a check-out is refused with the fields named.
    let half = push(
        &app,
        "housing",
        HOUSING,
        json!([{ "student_number": "2020100001", "as_of": app::clock::utc_timestamp(app::clock::now() + time::Duration::seconds(3)),
                 "campus": "南湖校区", "building": "松苑 2 号楼", "room": "B-512",
                 "checked_out_on": "2026-06-18" }]),
    )
    .await
    .json();
    assert_eq!(statuses(&half), ["rejected"]);
    assert!(
        half["results"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("checked_out_by")
    );
}

#[tokio::test]
async fn tokens_write_only_their_own_office_and_stop_when_revoked() {
    let app = TestApp::with_demo_students().await;
    let finance_record = json!({ "records": [{ "student_number": "2020100001",
        "as_of": "2026-06-20T08:00:00+08:00", "charges": [] }] })
    .to_string();
    let before = app.count("SELECT COUNT(*) FROM office_history").await;

    let wrong_office = call(
        &app,
        "POST",
        "/sync/v1/finance/records",
        Some(LIBRARY),
        Some(finance_record.clone()),
        "PushAnswer",
    )
    .await;
    assert_eq!(wrong_office.status, StatusCode::FORBIDDEN);
    assert!(
        wrong_office.json()["message"]
            .as_str()
            .expect("message")
            .contains("图书馆")
    );
    let read_other = call(
        &app,
        "GET",
        "/sync/v1/finance/students/2020100001",
        Some(LIBRARY),
        None,
        "FinanceHeld",
    )
    .await;
    assert_eq!(read_other.status, StatusCode::FORBIDDEN);

    for token in [None, Some("lxs_not_a_token")] {
        let refused = call(
            &app,
            "POST",
            "/sync/v1/finance/records",
            token,
            Some(finance_record.clone()),
            "PushAnswer",
        )
        .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            refused
                .headers
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
    }

    assert!(
        app::db::sync::revoke_token(&app.state.db, "finance-demo", app::clock::now())
            .await
            .expect("revokes")
    );
    let revoked = call(
        &app,
        "POST",
        "/sync/v1/finance/records",
        Some(FINANCE),
        Some(finance_record),
        "PushAnswer",
    )
    .await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM office_history").await,
        before
    );

    // A new token for the same office works at once; only its hash is stored.
    let token = app::db::sync::new_token();
    assert!(
        app::db::sync::add_token(
            &app.state.db,
            "finance-erp",
            app::clearance::rules::Office::Finance,
            &token,
            app::clock::now()
        )
        .await
        .expect("adds")
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM sync_tokens WHERE token_hash LIKE '%{}%'",
            &token[4..20]
        ))
        .await,
        0
    );
    let answer = push(
        &app,
        "finance",
        &token,
        json!([{ "student_number": "2020100001",
        "as_of": "2026-06-20T08:00:00+08:00", "charges": [] }]),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_bodies_are_refused_whole_with_a_reason() {
    let app = TestApp::with_demo_students().await;
    let before = app.count("SELECT COUNT(*) FROM office_history").await;

    // Broken JSON in the third record: 400, naming it, and nothing applied.
    let body = format!(
        "{{\"records\": [{}, {}, {{\"student_number\": \"2020100002\", \"as_of\": }}]}}",
        library("2020100003", "2026-06-20T08:00:00+08:00", 0),
        library("2020100001", "2026-06-20T08:00:00+08:00", 0)
    );
    let broken = call(
        &app,
        "POST",
        "/sync/v1/library/records",
        Some(LIBRARY),
        Some(body),
        "PushAnswer",
    )
    .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    let answer = broken.json();
    assert_eq!(answer["error"], "malformed_json");
    assert_eq!(answer["record_index"], 2);
    assert!(
        answer["message"]
            .as_str()
            .expect("message")
            .contains("records[2]")
    );

    for body in ["", "[]", "{\"rows\": []}", "{\"records\": {}}"] {
        let refused = call(
            &app,
            "POST",
            "/sync/v1/library/records",
            Some(LIBRARY),
            Some(body.to_owned()),
            "PushAnswer",
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            refused.body
        );
    }

    // More than 8 MiB: 413 before anything is read.
    let huge = format!(
        "{{\"records\": [\"{}\"]}}",
        "x".repeat(server::sync::BODY_LIMIT)
    );
    let too_large = call(
        &app,
        "POST",
        "/sync/v1/library/records",
        Some(LIBRARY),
        Some(huge),
        "PushAnswer",
    )
    .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.json()["error"], "payload_too_large");

    // 5,001 small records: 413 too.
    let many: Vec<Value> = (0..5_001).map(|_| json!({})).collect();
    let too_many = push(&app, "library", LIBRARY, Value::Array(many)).await;
    assert_eq!(too_many.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_many.json()["error"], "too_many_records");

    let unknown = call(
        &app,
        "GET",
        "/sync/v1/library/nothing",
        Some(LIBRARY),
        None,
        "PushAnswer",
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let no_student = call(
        &app,
        "GET",
        "/sync/v1/library/students/2099999999",
        Some(LIBRARY),
        None,
        "LibraryHeld",
    )
    .await;
    assert_eq!(no_student.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM office_history").await,
        before
    );
}

#[tokio::test]
async fn the_changes_feed_pages_through_every_change_with_a_cursor() {
    let app = TestApp::with_demo_students().await;
    let records: Vec<Value> = (1..=3)
        .map(|index| library(&format!("202010000{index}"), "2026-06-20T08:00:00+08:00", 7))
        .collect();
    push(&app, "library", LIBRARY, Value::Array(records)).await;
    // Another office's change is not in the library's feed.
    push(
        &app,
        "finance",
        FINANCE,
        json!([{ "student_number": "2020100001",
        "as_of": "2026-06-20T08:00:00+08:00", "charges": [] }]),
    )
    .await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(cursor) => format!("/sync/v1/library/changes?limit=2&cursor={cursor}"),
            None => "/sync/v1/library/changes?limit=2&since=2020-01-01T00:00:00Z".to_owned(),
        };
        let page = call(&app, "GET", &path, Some(LIBRARY), None, "ChangesPage")
            .await
            .json();
        for change in page["changes"].as_array().expect("changes") {
            assert_eq!(change["actor"], "library-demo");
            assert_eq!(change["actor_kind"], "system");
            seen.push(
                change["student_number"]
                    .as_str()
                    .expect("number")
                    .to_owned(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["2020100001", "2020100002", "2020100003"]);

    let future = call(
        &app,
        "GET",
        "/sync/v1/library/changes?since=2099-01-01T00:00:00Z",
        Some(LIBRARY),
        None,
        "ChangesPage",
    )
    .await
    .json();
    assert_eq!(future["changes"], json!([]));
    for bad in ["since=yesterday", "cursor=abc", "limit=0", "limit=5000"] {
        let refused = call(
            &app,
            "GET",
            &format!("/sync/v1/library/changes?{bad}"),
            Some(LIBRARY),
            None,
            "ChangesPage",
        )
        .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn a_token_that_calls_too_often_is_asked_to_wait() {
    let app = TestApp::with_demo_students().await;
    let mut limited = 0;
    for _ in 0..40 {
        let reply = call(
            &app,
            "GET",
            "/sync/v1/library/students/2020100001",
            Some(LIBRARY),
            None,
            "LibraryHeld",
        )
        .await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(
                reply
                    .headers
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()),
                Some("1")
            );
            limited += 1;
        }
    }
    assert!(limited > 0, "40 requests at once exceed a burst of 30");
    // Another office's system is not slowed by the library's.
    let other = call(
        &app,
        "GET",
        "/sync/v1/finance/students/2020100001",
        Some(FINANCE),
        None,
        "FinanceHeld",
    )
    .await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn the_rate_limit_is_configurable_for_load_tests() {
    // A benchmark playing the office systems from 127.0.0.1 raises the bucket; a
    // university can lower it. Either way the configured figures are the ones applied.
    let app = TestApp::with_env_and_demo_students(&[
        ("LIXIAO_SYNC_RATE_PER_SECOND", "1"),
        ("LIXIAO_SYNC_BURST", "3"),
    ])
    .await;
    let mut answers = Vec::new();
    for _ in 0..5 {
        let reply = call(
            &app,
            "GET",
            "/sync/v1/library/students/2020100001",
            Some(LIBRARY),
            None,
            "LibraryHeld",
        )
        .await;
        answers.push(reply.status);
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(
                reply.body.to_string().contains("每秒最多 1 次"),
                "the message names the configured rate: {}",
                reply.body
            );
        }
    }
    assert_eq!(
        answers[..3],
        [StatusCode::OK; 3],
        "a burst of 3 passes: {answers:?}"
    );
    assert_eq!(answers[3], StatusCode::TOO_MANY_REQUESTS, "{answers:?}");

    let generous = TestApp::with_env_and_demo_students(&[("LIXIAO_SYNC_BURST", "100")]).await;
    for _ in 0..60 {
        let reply = call(
            &generous,
            "GET",
            "/sync/v1/library/students/2020100001",
            Some(LIBRARY),
            None,
            "LibraryHeld",
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "60 within a burst of 100");
    }
}

#[tokio::test]
async fn five_thousand_records_in_one_request() {
    let app = TestApp::with_demo_students().await;
    app.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
         INSERT INTO students (student_number, name, gender, grade, college, major,
                               enrolled_on, departure_category, applied_on)
         SELECT CAST(2022000000 + i AS TEXT), '测试', 'male', '2019级', '测试学院', '测试专业',
                '2019-09-01', '毕业离校', '2022-06-01'
         FROM n",
    )
    .await;
    let records: Vec<Value> = (1..=5_000)
        .map(|i| {
            library(
                &format!("{}", 2_022_000_000 + i),
                "2026-06-20T08:00:00+08:00",
                0,
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let reply = push(&app, "library", LIBRARY, Value::Array(records)).await;
    let took = started.elapsed();
    assert_eq!(reply.status, StatusCode::OK);
    let answer = reply.json();
    assert_eq!(answer["created"], 5_000, "{}", &reply.body[..300]);
    println!(
        "5,000 library records pushed in one request on {:?}: {} ms",
        app.state.db.backend(),
        took.as_millis()
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM office_history WHERE actor = 'library-demo'")
            .await,
        5_000
    );
}

#[tokio::test]
async fn facts_from_before_the_api_are_not_overwritten_by_an_older_record() {
    let app = TestApp::with_demo_students().await;
    // 李娜 owes 682.40, as the finance office reported on 2020-06-07 (the demo seed, as
    // any data from before the sync API): a record from 2019 must not clear it.
    let answer = push(
        &app,
        "finance",
        FINANCE,
        json!([{ "student_number": "2020100002", "as_of": "2019-01-01T00:00:00+08:00", "charges": [] }]),
    )
    .await
    .json();
    assert_eq!(statuses(&answer), ["unchanged"], "{answer:#}");
    let finance = held(&app, "finance", FINANCE, "2020100002", "FinanceHeld").await;
    assert_eq!(finance["state"]["verdict"], "fail");
    assert_eq!(finance["state"]["as_of"], "2020-06-07T00:00:00Z");
    assert_eq!(finance["record"]["as_of"], "2020-06-07T00:00:00Z");
    // Charges entered at the desk have no finance-system id: null, not "".
    assert_eq!(finance["record"]["charges"][0]["charge_id"], Value::Null);
}

#[tokio::test]
async fn records_are_refused_in_chinese_naming_the_field() {
    let app = TestApp::with_demo_students().await;
    let mut negative = library("2020100003", "2026-06-20T08:00:00+08:00", 0);
    negative["books_out"] = json!(-1);
    let mut unknown = library("2020100003", "2026-06-20T08:00:00+08:00", 0);
    unknown["fine"] = json!("0");
    let mut label = library("2020100003", "2026-06-20T08:00:00+08:00", 0);
    label["thesis_status"] = json!("审核通过");
    let positional = json!([
        "2020100003",
        "2026-06-20T08:00:00+08:00",
        false,
        7,
        "0",
        0,
        false,
        "approved"
    ]);
    let mut ancient = library("2020100003", "1999-12-31T00:00:00+08:00", 0);
    ancient["books_out"] = json!(1);
    let answer = push(
        &app,
        "library",
        LIBRARY,
        json!([negative, unknown, label, positional, ancient]),
    )
    .await
    .json();
    assert_eq!(statuses(&answer), ["rejected"; 5]);
    let reasons: Vec<&str> = answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|result| result["reason"].as_str().expect("reason"))
        .collect();
    assert!(
        reasons[0].contains("books_out") && reasons[0].contains("整数"),
        "{}",
        reasons[0]
    );
    assert!(reasons[1].contains("不认识的字段 fine"), "{}", reasons[1]);
    assert!(reasons[2].contains("thesis_status"), "{}", reasons[2]);
    assert!(reasons[3].contains("JSON 对象"), "{}", reasons[3]);
    assert!(reasons[4].contains("2000"), "{}", reasons[4]);
    for reason in &reasons {
        assert!(
            !reason.contains("expected") && !reason.contains("u32"),
            "no Rust or serde words: {reason}"
        );
    }

    let room = |campus: &str, on: &str| {
        json!({ "student_number": "2020100001", "as_of": "2026-06-20T08:00:00+08:00",
                "campus": campus, "building": "松苑", "room": "B-512",
                "checked_out_on": on, "checked_out_by": "王老师" })
    };
    let housing = push(
        &app,
        "housing",
        HOUSING,
        json!([
            room("南湖校区\u{202e}", "2026-06-18"),
            room("南湖校区", "2099-01-01")
        ]),
    )
    .await
    .json();
    assert_eq!(statuses(&housing), ["rejected", "rejected"]);
    assert!(
        housing["results"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("控制字符")
    );
    assert!(
        housing["results"][1]["reason"]
            .as_str()
            .expect("reason")
            .contains("晚于今天")
    );

    // Broken JSON is described in Chinese too.
    let broken = call(
        &app,
        "POST",
        "/sync/v1/library/records",
        Some(LIBRARY),
        Some("{\"records\": [{}, {\"a\": 1,]}".to_owned()),
        "PushAnswer",
    )
    .await;
    let message = broken.json()["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(
        message.contains("records[1]") && !message.contains("expected"),
        "{message}"
    );
}

#[tokio::test]
async fn every_refusal_is_json_in_the_documents_shape() {
    let app = TestApp::with_demo_students().await;
    let wrong_method = call(
        &app,
        "DELETE",
        "/sync/v1/library/records",
        Some(LIBRARY),
        None,
        "PushAnswer",
    )
    .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    let read_as_post = call(
        &app,
        "GET",
        "/sync/v1/library/records",
        Some(LIBRARY),
        None,
        "PushAnswer",
    )
    .await;
    assert_eq!(read_as_post.status, StatusCode::METHOD_NOT_ALLOWED);
    for query in [
        "limit=x",
        "limit=99999999999999999999",
        "since=1&since=2",
        "page=2",
    ] {
        let refused = call(
            &app,
            "GET",
            &format!("/sync/v1/library/changes?{query}"),
            Some(LIBRARY),
            None,
            "ChangesPage",
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            refused.body
        );
    }
    // The scheme's name is case-insensitive.
    let shouting = Reply::read(
        app.send(
            Request::get("/sync/v1/library/students/2020100001")
                .header("authorization", format!("BEARER {LIBRARY}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await,
    )
    .await;
    assert_eq!(shouting.status, StatusCode::OK, "{}", shouting.body);
}
