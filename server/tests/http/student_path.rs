//! The student's path through the real router and a real SQLite database: sign-in,
//! the clearance, the card, the gate and submit-once.

use crate::common::TestApp;
use axum::http::StatusCode;

const NOT_SUBMITTED_OFFICES: &str = "以下事项未通过";

#[tokio::test]
async fn sign_in_accepts_the_initial_password_and_refuses_alike_otherwise() {
    let app = TestApp::with_demo_students().await;
    for (number, password) in [
        ("2020100001", "061234"),
        ("2020100002", "12002X"),
        ("2020100003", "2020100003"),
        ("2020100004", "150027"),
    ] {
        app.sign_in(number, password).await;
    }

    let wrong_password = app
        .post(
            "/api/login",
            &[("student_number", "2020100002"), ("password", "12002x")],
            None,
        )
        .await;
    let unknown_number = app
        .post(
            "/api/login",
            &[("student_number", "2099999999"), ("password", "12002X")],
            None,
        )
        .await;
    for reply in [&wrong_password, &unknown_number] {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
        assert_eq!(
            reply.json(),
            serde_json::json!({ "BadRequest": "学号或密码错误。" })
        );
        assert!(reply.cookie.is_none(), "no session for a failed sign-in");
    }

    let empty = app
        .post(
            "/api/login",
            &[("student_number", ""), ("password", "")],
            None,
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.body.contains("请输入学号和密码"));

    let missing = app
        .post("/api/login", &[("student_number", "2020100001")], None)
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{missing:?}");
}

/// The sign-in help says exactly what the server does: the ID's last 6 characters, or
/// the student number only for students the university holds no ID number for.
#[tokio::test]
async fn the_sign_in_help_promises_only_what_the_server_accepts() {
    let app = TestApp::with_fresh_demo_students().await;
    let page = app.page("/login", None).await.body;
    assert!(
        page.contains("学校没有登记身份证号码的同学，初始密码为学号"),
        "{page}"
    );
    assert!(
        !page.contains("如登录不对"),
        "the guide's fallback is not offered"
    );
    // A student with an ID number cannot sign in with the student number.
    let refused = app
        .post(
            "/api/login",
            &[("student_number", "2020100001"), ("password", "2020100001")],
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    // The one without can, and is then told why the initial password must change.
    let cookie = app.sign_in("2020100003", "2020100003").await;
    let change = app.page("/password", Some(&cookie)).await.body;
    assert!(
        change.contains("初始密码（身份证号码后 6 位，或学号）容易被他人猜到"),
        "{change}"
    );
}

#[tokio::test]
async fn anonymous_calls_get_401_and_pages_send_them_to_sign_in() {
    let app = TestApp::with_demo_students().await;
    for path in [
        "/api/clearance",
        "/api/submit_departure",
        "/api/cancel_library_card",
        "/api/departure",
    ] {
        let reply = app.post(path, &[], None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}: {reply:?}");
        assert!(reply.body.contains("Unauthenticated"), "{path}");
    }
    for page in [
        "/hall",
        "/clearance",
        "/completed",
        "/completed/slip",
        "/password",
    ] {
        let reply = app.page(page, None).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{page}");
        assert_eq!(reply.location.as_deref(), Some("/login"), "{page}");
    }
}

#[tokio::test]
async fn the_clearance_shows_the_signed_in_students_own_facts() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in("2020100002", "12002X").await;
    // A student number smuggled into the call is ignored: the student comes from the session.
    let reply = app
        .post(
            "/api/clearance",
            &[("student_number", "2020100001")],
            Some(&cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let view = reply.json();
    assert_eq!(view["facts"]["basic"]["student_number"], "2020100002");
    assert_eq!(view["facts"]["basic"]["name"], "李娜");
    assert_eq!(view["facts"]["arrears"].as_array().map(Vec::len), Some(3));
    assert_eq!(view["facts"]["arrears"][2]["amount"], "72.40");
    assert!(view["submitted"].is_null());
}

#[tokio::test]
async fn the_card_is_cancelled_when_nothing_is_outstanding_and_refused_otherwise() {
    let app = TestApp::with_demo_students().await;

    let li_na = app.sign_in("2020100002", "12002X").await;
    let reply = app
        .post("/api/cancel_library_card", &[], Some(&li_na))
        .await;
    assert!(reply.status.is_success(), "{reply:?}");
    let view = app.post("/api/clearance", &[], Some(&li_na)).await.json();
    assert_eq!(view["facts"]["library"]["card_cancelled"], true);
    let again = app
        .post("/api/cancel_library_card", &[], Some(&li_na))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("借书证已注销"), "{again:?}");

    let zhang_wei = app.sign_in("2020100003", "2020100003").await;
    let refused = app
        .post("/api/cancel_library_card", &[], Some(&zhang_wei))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    for part in ["2 册图书未还", "3.50 元", "1 条违章", "0516-83592058"] {
        assert!(
            refused.body.contains(part),
            "refusal names {part}: {}",
            refused.body
        );
    }
    let view = app
        .post("/api/clearance", &[], Some(&zhang_wei))
        .await
        .json();
    assert_eq!(
        view["facts"]["library"]["card_cancelled"], false,
        "nothing changed"
    );
}

#[tokio::test]
async fn the_gate_names_each_failing_office() {
    let app = TestApp::with_demo_students().await;
    // Start from the student who passes everything and break one office at a time.
    let cookie = app.sign_in("2020100001", "061234").await;
    let breakages = [
        (
            "图书馆",
            "UPDATE library_records SET books_out = 1 WHERE student_number = '2020100001'",
        ),
        (
            "档案馆",
            "UPDATE archives_records SET thesis_status = NULL WHERE student_number = '2020100001'",
        ),
        (
            "总务部公寓与物业中心",
            "UPDATE housing_records SET checked_out_on = NULL, checked_out_by = NULL WHERE student_number = '2020100001'",
        ),
        (
            "财务资产部收费管理办公室",
            "INSERT INTO finance_arrears (student_number, academic_year, item, amount_fen) VALUES ('2020100001', '2019', '学分学费', 1)",
        ),
    ];
    for (office, breakage) in breakages {
        app.exec(breakage).await;
        let refused = app.post("/api/submit_departure", &[], Some(&cookie)).await;
        assert_eq!(
            refused.status,
            StatusCode::CONFLICT,
            "{office}: {refused:?}"
        );
        assert!(
            refused.body.contains(NOT_SUBMITTED_OFFICES) && refused.body.contains(office),
            "{office}: {}",
            refused.body
        );
        // Mend it again for the next office.
        let mend = match office {
            "图书馆" => {
                "UPDATE library_records SET books_out = 0 WHERE student_number = '2020100001'"
            }
            "档案馆" => {
                "UPDATE archives_records SET thesis_status = 'reviewed' WHERE student_number = '2020100001'"
            }
            "总务部公寓与物业中心" => {
                "UPDATE housing_records SET checked_out_on = '2020-06-05', checked_out_by = '丁二君' WHERE student_number = '2020100001'"
            }
            _ => "DELETE FROM finance_arrears WHERE student_number = '2020100001'",
        };
        app.exec(mend).await;
    }

    // The demo students who fail two offices each hear both named.
    let li_na = app.sign_in("2020100002", "12002X").await;
    let reply = app.post("/api/submit_departure", &[], Some(&li_na)).await;
    assert!(
        reply
            .body
            .contains("总务部公寓与物业中心、财务资产部收费管理办公室"),
        "{reply:?}"
    );
    let zhang_wei = app.sign_in("2020100003", "2020100003").await;
    let reply = app
        .post("/api/submit_departure", &[], Some(&zhang_wei))
        .await;
    assert!(reply.body.contains("图书馆、档案馆"), "{reply:?}");

    let departures: i64 = app
        .count("SELECT COUNT(*) FROM departures WHERE student_number <> '2020100004'")
        .await;
    assert_eq!(departures, 0, "no refused attempt left a departure behind");
}

#[tokio::test]
async fn a_departure_is_submitted_once_and_frozen() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in("2020100001", "061234").await;
    let first = app.post("/api/submit_departure", &[], Some(&cookie)).await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    let slip = first.json()["slip_number"]
        .as_str()
        .expect("slip number")
        .to_owned();
    assert!(
        slip.starts_with("LX") && slip.ends_with("2020100001"),
        "{slip}"
    );

    let second = app.post("/api/submit_departure", &[], Some(&cookie)).await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert!(second.body.contains("已提交"), "{second:?}");

    // The slip keeps what was shown at submission, even when an office changes later.
    app.exec("UPDATE housing_records SET room = 'Z9999' WHERE student_number = '2020100001'")
        .await;
    let departure =
        app.post("/api/departure", &[], Some(&cookie)).await.json()["departure"].clone();
    assert_eq!(departure["slip_number"], slip.as_str());
    assert_eq!(departure["facts"]["housing"]["room"], "A3061");
    assert_eq!(departure["verdicts"].as_array().map(Vec::len), Some(4));
    // And an office going bad after submission does not change the answer: already submitted.
    app.exec("UPDATE library_records SET books_out = 3 WHERE student_number = '2020100001'")
        .await;
    let third = app.post("/api/submit_departure", &[], Some(&cookie)).await;
    assert!(third.body.contains("已提交"), "{third:?}");
}

#[tokio::test]
async fn the_demo_student_who_submitted_has_a_slip_and_the_others_do_not() {
    let app = TestApp::with_demo_students().await;
    let liu_yang = app.sign_in("2020100004", "150027").await;
    let departure = app
        .post("/api/departure", &[], Some(&liu_yang))
        .await
        .json()["departure"]
        .clone();
    assert_eq!(departure["submitted_at"], "2020-06-09 10:21:37");
    assert_eq!(departure["slip_number"], "LX202006092020100004");
    assert_eq!(departure["facts"]["basic"]["name"], "刘洋");

    let wang = app.sign_in("2020100001", "061234").await;
    assert!(
        app.post("/api/departure", &[], Some(&wang))
            .await
            .json()
            .is_null()
    );
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_takes_effect() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in("2020100001", "061234").await;
    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        let cookie = cookie.clone();
        let app = &app;
        async move {
            app.post(
                "/api/change_password",
                &[
                    ("current_password", current),
                    ("new_password", new),
                    ("confirm_password", confirm),
                ],
                Some(&cookie),
            )
            .await
        }
    };
    let wrong = change("000000", "a-much-better-one", "a-much-better-one").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("当前密码不正确"));
    let short = change("061234", "short", "short").await;
    assert!(short.body.contains("至少需要 8 个字符"), "{short:?}");
    let mismatch = change("061234", "a-much-better-one", "a-much-better-two").await;
    assert!(mismatch.body.contains("不一致"));
    let common = change("061234", "password123", "password123").await;
    assert!(common.body.contains("太常见"), "{common:?}");
    // The student number is refused for what it is, not as "too common".
    let number = change("061234", "2020100001", "2020100001").await;
    assert_eq!(number.status, StatusCode::BAD_REQUEST);
    assert!(number.body.contains("不能使用学号"), "{number:?}");
    let done = change("061234", "a-much-better-one", "a-much-better-one").await;
    assert!(
        done.status.is_success() || done.status.is_redirection(),
        "{done:?}"
    );

    // The change ended the session: the student signs in again with the new password.
    let after = app.post("/api/clearance", &[], Some(&cookie)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{after:?}");
    let old = app
        .post(
            "/api/login",
            &[("student_number", "2020100001"), ("password", "061234")],
            None,
        )
        .await;
    assert_eq!(old.status, StatusCode::BAD_REQUEST);
    app.sign_in("2020100001", "a-much-better-one").await;
}

#[tokio::test]
async fn demo_data_seeds_only_into_an_empty_database() {
    let app = TestApp::with_demo_students().await;
    assert!(
        !app::db::demo::seed(&app.state.db, app.state.slip_keys().expect("key"))
            .await
            .expect("runs"),
        "second seeding is a no-op"
    );
    let students: i64 = app.count("SELECT COUNT(*) FROM students").await;
    assert_eq!(students, 4 + app::db::demo::EXTRA_STUDENTS as i64);
    let staff: i64 = app
        .count("SELECT COUNT(*) FROM accounts WHERE role <> 'student'")
        .await;
    assert_eq!(staff, app::db::demo::STAFF.len() as i64);
}

#[tokio::test]
async fn the_initial_password_must_be_changed_before_anything_else() {
    let app = TestApp::with_fresh_demo_students().await;
    let first = app
        .post(
            "/api/login",
            &[("student_number", "2020100003"), ("password", "2020100003")],
            None,
        )
        .await;
    assert!(first.status.is_success(), "{first:?}");
    assert_eq!(
        first.location.as_deref(),
        Some("/password"),
        "sent to change the password"
    );
    let cookie = first.cookie.expect("signed in");
    let elsewhere = app.sign_in("2020100003", "2020100003").await;

    for path in [
        "/api/clearance",
        "/api/submit_departure",
        "/api/cancel_library_card",
        "/api/departure",
    ] {
        let reply = app.post(path, &[], Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}: {reply:?}");
        assert!(reply.body.contains("PasswordChangeRequired"), "{path}");
    }
    for page in ["/hall", "/clearance", "/completed"] {
        let reply = app.page(page, Some(&cookie)).await;
        assert_eq!(
            reply.location.as_deref(),
            Some("/password"),
            "{page}: {reply:?}"
        );
    }
    assert_eq!(
        app.page("/password", Some(&cookie)).await.status,
        StatusCode::OK
    );

    // The student number itself is refused as the new password.
    let same = app
        .post(
            "/api/change_password",
            &[
                ("current_password", "2020100003"),
                ("new_password", "2020100003"),
                ("confirm_password", "2020100003"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(same.status, StatusCode::BAD_REQUEST);
    let changed = app
        .post(
            "/api/change_password",
            &[
                ("current_password", "2020100003"),
                ("new_password", "safety-first-2020"),
                ("confirm_password", "safety-first-2020"),
            ],
            Some(&cookie),
        )
        .await;
    assert!(changed.status.is_success(), "{changed:?}");
    assert_eq!(changed.location.as_deref(), Some("/login?changed=1"));

    // Every session of the account ended, on every device.
    for old in [&cookie, &elsewhere] {
        assert_eq!(
            app.post("/api/clearance", &[], Some(old)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let renewed = app.sign_in("2020100003", "safety-first-2020").await;
    let reply = app.post("/api/clearance", &[], Some(&renewed)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

/// The page's statement reads the history, the arrears and the departures in whatever
/// order the database finds them (sorting inside its aggregates was half the statement's
/// cost); the page still shows the history newest first, the arrears by academic year
/// and then as entered, and the active departure or else the last revoked. The rows are
/// written so that the index's order is none of these.
#[tokio::test]
async fn the_page_orders_history_arrears_and_departures_itself() {
    let app = TestApp::with_demo_students().await;
    let history = |office: &str, at: &str, reason: &str| {
        format!(
            "INSERT INTO office_history (student_number, office, at, actor_kind, actor, change, before, after, reason)
             VALUES ('2020100002', '{office}', '{at}', 'staff', 'x', 'facts', '旧', '新', '{reason}')"
        )
    };
    app.exec("DELETE FROM office_history WHERE student_number = '2020100002'")
        .await;
    // office_history_by_student is (student, office, id): archives would come first.
    app.exec(&history("library", "2026-06-01T01:00:00Z", "最早"))
        .await;
    app.exec(&history("archives", "2026-06-02T01:00:00Z", "其次"))
        .await;
    app.exec(&history("library", "2026-06-03T01:00:00Z", "最新"))
        .await;
    app.exec("DELETE FROM finance_arrears WHERE student_number = '2020100002'")
        .await;
    for (year, item) in [("2021", "住宿费"), ("2019", "学费"), ("2021", "教材费")] {
        app.exec(&format!(
            "INSERT INTO finance_arrears (student_number, academic_year, item, amount_fen)
             VALUES ('2020100002', '{year}', '{item}', 100)"
        ))
        .await;
    }
    let departure = |slip: &str, revoked: Option<&str>| {
        let (at, by, reason) = match revoked {
            Some(reason) => (
                "'2026-06-19T00:00:00Z'".to_owned(),
                "'gradschool_demo'".to_owned(),
                format!("'{reason}'"),
            ),
            None => ("NULL".to_owned(), "NULL".to_owned(), "NULL".to_owned()),
        };
        format!(
            "INSERT INTO departures (student_number, slip_number, serial, submitted_at, snapshot, revoked_at, revoked_by, revoke_reason)
             VALUES ('2020100002', '{slip}', '{slip}SERIAL0000', '2026-06-18T00:00:00Z', '{{}}', {at}, {by}, {reason})"
        )
    };
    app.exec(&departure("LX-ONE", Some("第一次撤销"))).await;
    app.exec(&departure("LX-TWO", Some("第二次撤销"))).await;

    let student = app.sign_in("2020100002", "12002X").await;
    let view = app.post("/api/clearance", &[], Some(&student)).await.json();
    let reasons: Vec<&str> = view["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|entry| entry["reason"].as_str().expect("reason"))
        .collect();
    assert_eq!(reasons, ["最新", "其次", "最早"], "{view:#}");
    let items: Vec<&str> = view["facts"]["arrears"]
        .as_array()
        .expect("arrears")
        .iter()
        .map(|arrear| arrear["item"].as_str().expect("item"))
        .collect();
    assert_eq!(items, ["学费", "住宿费", "教材费"], "{view:#}");
    assert_eq!(view["submitted"], serde_json::Value::Null);
    assert_eq!(view["revoked"]["reason"], "第二次撤销", "{view:#}");

    // Submitted again: the active departure, whatever its place among the rows.
    app.exec("UPDATE departures SET revoked_at = NULL, revoked_by = NULL, revoke_reason = NULL WHERE slip_number = 'LX-ONE'")
        .await;
    let view = app.post("/api/clearance", &[], Some(&student)).await.json();
    assert_eq!(view["submitted"]["slip_number"], "LX-ONE", "{view:#}");
    assert_eq!(view["revoked"], serde_json::Value::Null);
}

/// Without JavaScript the forms post themselves: a refused submission or 注销 comes
/// back to the page with the server's reason, which the page shows as an alert (the
/// page reads it from the redirect, not from a live action: it never hydrates).
#[tokio::test]
async fn a_refusal_posted_without_javascript_is_shown_on_the_page() {
    let app = TestApp::with_demo_students().await;
    // 张伟: the library and the archives fail, and the card may not be cancelled.
    let cookie = app.sign_in("2020100003", "2020100003").await;
    for (action, page, reason) in [
        ("/api/submit_departure", "/clearance", "以下事项未通过"),
        ("/api/cancel_library_card", "/clearance", "无法注销借书证"),
    ] {
        let request = axum::http::Request::post(action)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html,application/xhtml+xml")
            .header(
                "referer",
                format!("{}{page}", crate::common::TEST_PUBLIC_URL),
            )
            .header("host", "lixiao.test")
            .header("origin", crate::common::TEST_PUBLIC_URL)
            .header("cookie", &cookie)
            .body(axum::body::Body::empty())
            .expect("request");
        let posted = crate::common::Reply::read(app.send(request).await).await;
        assert!(posted.status.is_redirection(), "{action}: {posted:?}");
        let back = posted.location.expect("redirected back");
        assert!(back.contains("/clearance"), "{back}");
        let shown = app.page(&back, Some(&cookie)).await;
        assert_eq!(shown.status, StatusCode::OK, "{back}");
        let alert = shown
            .body
            .split(r#"role="alert""#)
            .nth(1)
            .unwrap_or_else(|| panic!("{action}: no alert on {back}: {}", shown.body));
        assert!(
            alert[..alert.find("</p>").unwrap_or(alert.len())].contains(reason),
            "{action}: {alert}"
        );
    }
}
