//! The graduate school over HTTP: revoking a departure (and submitting again), the
//! roster import (students, accounts, deactivation, changed passwords kept), the
//! overview's counts against a direct count in SQL, and the CSV exports.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::Value;

use crate::common::{Reply, TestApp};

const GRADUATE_SCHOOL: (&str, &str) = ("gradschool_demo", "Gradschool-demo-2020");
const LIBRARY: (&str, &str) = ("library_demo", "Library-demo-2020");
const LIU_YANG: (&str, &str) = ("2020100004", "150027");
const OLD_SLIP: &str = "LX202006092020100004";

fn ok(reply: &Reply) -> bool {
    reply.status.is_success() || reply.status.is_redirection()
}

/// Today's date in Beijing as a slip number has it (YYYYMMDD).
fn today() -> String {
    app::db::Instant::new(app::clock::now()).beijing_display()[..10].replace('-', "")
}

async fn revoke(app: &TestApp, cookie: &str, slip: &str, reason: &str) -> Reply {
    app.post(
        "/api/revoke_departure",
        &[("slip_number", slip), ("reason", reason), ("confirm", "on")],
        Some(cookie),
    )
    .await
}

#[tokio::test]
async fn a_revoked_departure_is_shown_to_the_student_who_may_submit_again() {
    let app = TestApp::with_demo_students().await;
    let school = app.sign_in(GRADUATE_SCHOOL.0, GRADUATE_SCHOOL.1).await;
    let student = app.sign_in(LIU_YANG.0, LIU_YANG.1).await;

    // A reason and the box are required; nothing changes without them.
    let no_reason = app
        .post(
            "/api/revoke_departure",
            &[
                ("slip_number", OLD_SLIP),
                ("reason", " "),
                ("confirm", "on"),
            ],
            Some(&school),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST, "{no_reason:?}");
    let unticked = app
        .post(
            "/api/revoke_departure",
            &[("slip_number", OLD_SLIP), ("reason", "核对")],
            Some(&school),
        )
        .await;
    assert_eq!(unticked.status, StatusCode::BAD_REQUEST);
    let unknown = revoke(&app, &school, "LX000", "核对").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.json().to_string().contains("没有流程单号"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM departures WHERE revoked_at IS NOT NULL")
            .await,
        0
    );

    let revoked = revoke(&app, &school, OLD_SLIP, "毕业资格复核中，请等待学院通知").await;
    assert!(ok(&revoked), "{revoked:?}");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE event = 'departure_revoked'
             AND actor = 'gradschool_demo' AND subject = '2020100004'"
        )
        .await,
        1,
        "the revocation is audited with who did it and to whom"
    );
    let again = revoke(&app, &school, OLD_SLIP, "重复").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");

    // The student sees the revocation and the reason, not the clerk.
    let clearance = app.post("/api/clearance", &[], Some(&student)).await.json();
    assert_eq!(clearance["submitted"], Value::Null);
    assert_eq!(
        clearance["revoked"]["reason"],
        "毕业资格复核中，请等待学院通知"
    );
    assert_eq!(clearance["revoked"]["by"], Value::Null);
    let page = app.page("/clearance", Some(&student)).await;
    assert!(page.body.contains("被研究生院撤销"), "{}", page.body);
    assert!(!page.body.contains("gradschool_demo"));
    // The old slip shows as revoked wherever it is displayed.
    let completed = app.page("/completed", Some(&student)).await;
    assert!(completed.body.contains("已撤销"), "{}", completed.body);
    let old = app
        .page(&format!("/completed/slip?n={OLD_SLIP}"), Some(&student))
        .await;
    assert!(old.body.contains("已撤销 · 作废"), "{}", old.body);
    assert!(old.body.contains(OLD_SLIP));
    let active = app.post("/api/departure", &[], Some(&student)).await.json();
    assert_eq!(active, Value::Null, "no active departure");

    // 刘洋 still passes all four: she submits again and gets a new slip number.
    let submitted = app.post("/api/submit_departure", &[], Some(&student)).await;
    assert!(ok(&submitted), "{submitted:?}");
    let new_slip = format!("LX{}2020100004-2", today());
    let departures = app
        .post("/api/departures", &[], Some(&student))
        .await
        .json();
    assert_eq!(
        departures[0]["slip_number"],
        new_slip.as_str(),
        "{departures:#}"
    );
    assert_eq!(departures[0]["revoked"], Value::Null);
    assert_eq!(departures[1]["slip_number"], OLD_SLIP);
    assert_ne!(departures[1]["revoked"], Value::Null);
    let slip = app.post("/api/departure", &[], Some(&student)).await.json();
    assert_eq!(slip["departure"]["slip_number"], new_slip.as_str());
    // "Once" holds for the new departure.
    let twice = app.post("/api/submit_departure", &[], Some(&student)).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(twice.body.contains("已提交"), "{twice:?}");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM departures WHERE student_number = '2020100004' AND revoked_at IS NULL"
        )
        .await,
        1
    );
    // Another student's slip is not hers to see.
    let foreign = app
        .post(
            "/api/departure",
            &[("slip_number", "LX202006092020100001")],
            Some(&app.sign_in("2020100001", "061234").await),
        )
        .await
        .json();
    assert_eq!(foreign, Value::Null);

    // The graduate school's list shows both, the old one revoked, with who and why.
    let list = app
        .post(
            "/api/school_departures",
            &[("query[state]", "revoked")],
            Some(&school),
        )
        .await
        .json();
    assert_eq!(list["total"], 1, "{list:#}");
    assert_eq!(list["rows"][0]["state"]["Revoked"]["by"], "gradschool_demo");
    let detail = app
        .page(
            &format!("/desk/departures/revoke?n={OLD_SLIP}"),
            Some(&school),
        )
        .await;
    assert!(
        detail.body.contains("由 gradschool_demo 撤销"),
        "{}",
        detail.body
    );
}

#[tokio::test]
async fn the_database_allows_one_active_departure_per_student() {
    let app = TestApp::with_demo_students().await;
    let second = "INSERT INTO departures (student_number, slip_number, serial, submitted_at, snapshot)
                  VALUES ('2020100004', 'LX-SECOND', '5EC0ND0000000000', '2026-06-20T00:00:00Z', '{}')";
    let refused =
        with_pool!(&app.state.db, pool => sqlx::query(second).execute(pool).await.map(|_| ()));
    match refused {
        Err(sqlx::Error::Database(error)) => assert!(error.is_unique_violation(), "{error}"),
        other => panic!("a second active departure was stored: {other:?}"),
    }
    app.exec(
        "UPDATE departures SET revoked_at = '2026-06-19T00:00:00Z', revoked_by = 'x', revoke_reason = 'y'
         WHERE student_number = '2020100004'",
    )
    .await;
    app.exec(second).await;
}

#[tokio::test]
async fn a_unique_violation_on_anything_else_is_not_already_submitted() {
    let app = TestApp::with_demo_students().await;
    // Someone else's departure already holds the slip number 王小明's would get.
    let taken = format!("LX{}2020100001", today());
    app.exec(&format!(
        "INSERT INTO departures (student_number, slip_number, serial, submitted_at, snapshot, revoked_at, revoked_by, revoke_reason)
         VALUES ('2020100003', '{taken}', 'TAKEN00000000000', '2026-06-20T00:00:00Z', '{{}}', '2026-06-20T00:00:00Z', 'x', 'y')"
    ))
    .await;
    let student = app.sign_in("2020100001", "061234").await;
    let reply = app.post("/api/submit_departure", &[], Some(&student)).await;
    assert_ne!(reply.status, StatusCode::CONFLICT, "{reply:?}");
    assert!(!reply.body.contains("已提交"), "{reply:?}");
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM departures WHERE student_number = '2020100001'")
            .await,
        0
    );
}

/// A roster file: the demo's four students (张伟 renamed, and `leave_out` left out) and
/// `extra` new ones from 2022000001, with ID numbers (every third without).
fn roster(extra: usize, leave_out: Option<&str>) -> String {
    let mut text =
        String::from("学号,姓名,性别,现在年级,学院,专业,入学日期,离校类别,申请时间,身份证号\r\n");
    let demo = [
        "2020100001,王小明,男,2017级,计算机科学与技术学院,软件工程,2017-09-01,毕业离校,2020-06-08,",
        "2020100002,李娜,女,2017级,矿业工程学院,采矿工程,2017-09-01,毕业离校,2020-06-08,",
        "2020100003,张 伟,男,2017级,安全工程学院,安全工程,2017-09-01,毕业离校,2020-06-08,",
        "2020100004,刘洋,女,2017级,计算机科学与技术学院,计算机技术,2017-09-01,毕业离校,2020-06-08,",
    ];
    for line in demo {
        if leave_out.is_some_and(|number| line.starts_with(number)) {
            continue;
        }
        text.push_str(line);
        text.push_str("\r\n");
    }
    for index in 1..=extra {
        let id = if index % 3 == 0 {
            String::new()
        } else {
            id_number(index)
        };
        text.push_str(&format!(
            "{},学生{index},{},2022级,{}学院,专业{},2022/9/1,毕业离校,2025-06-01,{id}\r\n",
            2_022_000_000 + index,
            if index % 2 == 0 { "女" } else { "男" },
            ["资源", "力学", "化工"][index % 3],
            index % 5,
        ));
    }
    text
}

/// A valid 18-character ID number, different for each `index`.
fn id_number(index: usize) -> String {
    let first17 = format!("3201021998{:07}", index);
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(digit, weight)| digit.to_digit(10).expect("digit") * weight)
        .sum();
    format!("{first17}{}", CHECK[(sum % 11) as usize])
}

/// Uploads a roster and waits for its preview (the hashing runs in the background).
async fn upload_roster(app: &TestApp, cookie: &str, text: &[u8]) -> (String, Value) {
    let reply = app
        .upload(app::school::roster::UPLOAD_PATH, cookie, "名单.csv", text)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{reply:?}");
    let location = reply.location.expect("redirect");
    let id = location
        .strip_prefix("/desk/roster?id=")
        .unwrap_or_else(|| panic!("not a preview: {location}"))
        .to_owned();
    let started = Instant::now();
    loop {
        let page = app
            .post("/api/school_roster", &[("id", &id)], Some(cookie))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        let state = page.json()["import"]["state"].clone();
        if state.get("Ready").is_some() {
            return (id, state["Ready"].clone());
        }
        assert!(state.get("Preparing").is_some(), "{state:#}");
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "still preparing: {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn apply_roster(app: &TestApp, cookie: &str, id: &str, mode: &str) -> Reply {
    app.post(
        "/api/school_roster_apply",
        &[("id", id), ("mode", mode), ("confirm", "on")],
        Some(cookie),
    )
    .await
}

#[tokio::test]
async fn a_roster_creates_students_and_accounts_and_never_resets_a_changed_password() {
    let app = TestApp::with_demo_students().await;
    let school = app.sign_in(GRADUATE_SCHOOL.0, GRADUATE_SCHOOL.1).await;
    let zhang = app.sign_in("2020100003", "2020100003").await;
    // As Excel on a Chinese PC saves it: GBK, no BOM.
    let file = roster(300, None);
    let gbk = encoding_rs::GBK.encode(&file).0.into_owned();
    let (id, ready) = upload_roster(&app, &school, &gbk).await;
    assert_eq!(ready["bad"], serde_json::json!([]), "{ready:#}");
    let counts = &ready["counts"];
    assert_eq!(counts["created"], 300, "{counts:#}");
    assert_eq!(counts["accounts_created"], 300);
    assert_eq!(counts["updated"], 1, "张伟's name changed");
    assert_eq!(counts["unchanged"], 3);
    assert_eq!(counts["not_listed"], 200, "the demo's other 200 students");
    // Kept between upload and import: the rows and their hashes, never an ID number.
    let kept = app
        .text(&format!(
            "SELECT rows_json || bad_rows_json FROM roster_imports WHERE id = '{id}'"
        ))
        .await
        .expect("kept");
    assert!(kept.contains("$argon2id$"));
    for index in [1, 2, 4, 299] {
        let id_number = id_number(index);
        assert!(
            !kept.contains(&id_number[..17]),
            "ID number {id_number} kept"
        );
        let initial = format!("\"{}\"", &id_number[12..]);
        assert!(!kept.contains(&initial), "initial password {initial} kept");
    }
    // Nothing is written before the import.
    assert_eq!(app.count("SELECT COUNT(*) FROM students").await, 204);

    let applied = apply_roster(&app, &school, &id, "partial").await;
    assert!(ok(&applied), "{applied:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM students").await, 504);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM students WHERE deactivated_at IS NOT NULL")
            .await,
        0,
        "a partial roster deactivates nobody"
    );
    assert_eq!(
        app.text("SELECT name FROM students WHERE student_number = '2020100003'")
            .await
            .as_deref(),
        Some("张 伟")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE event = 'roster_imported' AND actor = 'gradschool_demo'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM roster_imports").await,
        0,
        "the imported upload is gone"
    );
    // New students sign in with the initial password (the ID number's last six
    // characters, or the student number) and must change it; new students are 待核验
    // at every office.
    let first = app.sign_in("2022000001", &id_number(1)[12..]).await;
    let clearance = app.post("/api/clearance", &[], Some(&first)).await;
    assert_eq!(
        clearance.status,
        StatusCode::FORBIDDEN,
        "the initial password must change first"
    );
    let third = app.sign_in("2022000003", "2022000003").await;
    let changed = app
        .post(
            "/api/change_password",
            &[
                ("current_password", "2022000003"),
                ("new_password", "a-new-password-1"),
                ("confirm_password", "a-new-password-1"),
            ],
            Some(&third),
        )
        .await;
    assert!(ok(&changed), "{changed:?}");
    let third = app.sign_in("2022000003", "a-new-password-1").await;
    let clearance = app.post("/api/clearance", &[], Some(&third)).await.json();
    assert_eq!(clearance["facts"]["basic"]["major"], "专业3");
    assert_eq!(
        clearance["facts"]["states"]["library"]["standing"], "pending",
        "{clearance:#}"
    );

    // Again, as a full roster without 张伟: nothing to hash, 张伟 and the 200 others are
    // deactivated, not deleted; the changed password stays.
    let (id, ready) =
        upload_roster(&app, &school, roster(300, Some("2020100003")).as_bytes()).await;
    assert_eq!(ready["counts"]["accounts_created"], 0);
    assert_eq!(ready["counts"]["unchanged"], 303);
    assert_eq!(ready["counts"]["not_listed"], 201);
    let applied = apply_roster(&app, &school, &id, "full").await;
    assert!(ok(&applied), "{applied:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM students").await, 504);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM students WHERE deactivated_at IS NOT NULL")
            .await,
        201
    );
    let relogin = app.sign_in("2022000003", "a-new-password-1").await;
    assert_eq!(
        app.post("/api/clearance", &[], Some(&relogin)).await.status,
        StatusCode::OK,
        "a changed password survives a re-import"
    );
    let initial = app
        .post(
            "/api/login",
            &[("student_number", "2022000003"), ("password", "2022000003")],
            None,
        )
        .await;
    assert_eq!(
        initial.status,
        StatusCode::BAD_REQUEST,
        "the initial password no longer works"
    );
    // 张伟 is out: his session ends, the right password tells him why, the desks no
    // longer list him; his history stays.
    assert_eq!(
        app.post("/api/clearance", &[], Some(&zhang)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refused = app
        .post(
            "/api/login",
            &[("student_number", "2020100003"), ("password", "2020100003")],
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert!(refused.body.contains("离校名单"), "{refused:?}");
    let wrong = app
        .post(
            "/api/login",
            &[
                ("student_number", "2020100003"),
                ("password", "wrong-password"),
            ],
            None,
        )
        .await;
    assert!(
        wrong.body.contains("学号或密码错误"),
        "a wrong password learns nothing"
    );
    let library = app.sign_in(LIBRARY.0, LIBRARY.1).await;
    let list = app
        .post(
            "/api/desk_list",
            &[("query[q]", "2020100003")],
            Some(&library),
        )
        .await
        .json();
    assert_eq!(list["total"], 0, "{list:#}");
    // His own page at a desk says so; the graduate school does not reset his password.
    let one = app
        .post(
            "/api/desk_student",
            &[("student_number", "2020100003")],
            Some(&library),
        )
        .await
        .json();
    assert_eq!(one["deactivated"], true, "{one:#}");
    let page = app.page("/desk/student/2020100003", Some(&library)).await;
    assert!(page.body.contains("研究生院已停用"), "{}", page.body);
    let reset = app
        .post(
            "/api/reset_student_password",
            &[("student_number", "2020100003"), ("confirm", "on")],
            Some(&school),
        )
        .await;
    assert_eq!(reset.status, StatusCode::BAD_REQUEST, "{reset:?}");
    assert!(reset.body.contains("已停用"), "{reset:?}");

    // Listed again, he is back.
    let (id, ready) = upload_roster(&app, &school, roster(300, None).as_bytes()).await;
    assert_eq!(ready["counts"]["reactivated"], 1);
    assert!(ok(&apply_roster(&app, &school, &id, "partial").await));
    app.sign_in("2020100003", "2020100003").await;
}

#[tokio::test]
async fn a_roster_with_bad_rows_is_shown_row_by_row_and_not_imported() {
    let app = TestApp::with_demo_students().await;
    let school = app.sign_in(GRADUATE_SCHOOL.0, GRADUATE_SCHOOL.1).await;
    let mut file = roster(3, None);
    file.push_str("2022000009,赵六,未知,2022级,资源学院,专业1,2022-09-01,毕业离校,2025-06-01,\r\n");
    file.push_str("library_demo,钱七,男,2022级,资源学院,专业1,2022-09-01,毕业离校,2025-06-01,\r\n");
    let (id, ready) = upload_roster(&app, &school, file.as_bytes()).await;
    let bad: Vec<(u64, &str)> = ready["bad"]
        .as_array()
        .expect("bad rows")
        .iter()
        .map(|row| {
            (
                row["row"].as_u64().expect("row"),
                row["column"].as_str().expect("column"),
            )
        })
        .collect();
    assert_eq!(bad, [(9, "性别"), (10, "学号")], "{ready:#}");
    let refused = apply_roster(&app, &school, &id, "partial").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM students").await, 204);
    // The page says so without JavaScript; no import button.
    let page = app
        .page(&format!("/desk/roster?id={id}"), Some(&school))
        .await;
    assert!(page.body.contains("整份名单不会导入"), "{}", page.body);
    assert!(!page.body.contains("确认导入"));
    // Another staff member cannot see the upload, an office cannot upload.
    let library = app.sign_in(LIBRARY.0, LIBRARY.1).await;
    let other = app
        .upload(
            app::school::roster::UPLOAD_PATH,
            &library,
            "x.csv",
            file.as_bytes(),
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let template = app
        .page(app::school::roster::TEMPLATE_PATH, Some(&school))
        .await;
    assert_eq!(template.status, StatusCode::OK);
    assert!(template.body.starts_with('\u{feff}'));
    assert!(template.body.contains("身份证号"));
}

/// Each student's state at one office, computed in SQL from the rules as the source guide
/// states them (independently of the Rust rules the app uses).
fn state_sql(office: &str) -> String {
    let (join, missing, pass) = match office {
        "library" => (
            "LEFT JOIN library_records f ON f.student_number = s.student_number",
            "f.student_number IS NULL",
            "f.books_out = 0 AND f.fines_fen = 0 AND f.violations = 0
             AND f.card_cancelled_at IS NOT NULL AND f.thesis_status = 'approved'",
        ),
        "archives" => (
            "LEFT JOIN archives_records f ON f.student_number = s.student_number",
            "1 = 0",
            "f.thesis_status = 'reviewed'",
        ),
        "housing" => (
            "LEFT JOIN housing_records f ON f.student_number = s.student_number",
            "f.student_number IS NULL",
            "f.checked_out_on IS NOT NULL AND f.checked_out_by IS NOT NULL",
        ),
        _ => (
            "",
            "1 = 0",
            "NOT EXISTS (SELECT 1 FROM finance_arrears a WHERE a.student_number = s.student_number)",
        ),
    };
    format!(
        "SELECT s.student_number AS n, s.college AS college,
                CASE WHEN o.override_verdict IS NOT NULL THEN 'overridden'
                     WHEN o.standing IS NULL OR o.standing = 'pending' THEN 'pending'
                     WHEN o.standing = 'not_applicable' THEN 'not_applicable'
                     WHEN {missing} THEN 'pending'
                     WHEN {pass} THEN 'pass' ELSE 'fail' END AS state,
                CASE WHEN o.override_verdict IS NOT NULL THEN o.override_verdict = 'pass'
                     WHEN o.standing = 'not_applicable' THEN TRUE
                     WHEN o.standing IS NULL OR o.standing = 'pending' OR {missing} THEN FALSE
                     ELSE ({pass}) END AS passed
         FROM students s
         LEFT JOIN office_states o ON o.student_number = s.student_number AND o.office = '{office}'
         {join}
         WHERE s.deactivated_at IS NULL"
    )
}

#[tokio::test]
async fn the_overviews_counts_equal_a_direct_count_in_sql() {
    let app = TestApp::with_demo_students().await;
    // Something to count beyond the seed: one student out of the cohort, one revoked
    // departure, one more submission.
    app.exec("UPDATE students SET deactivated_at = '2026-06-01T00:00:00Z' WHERE student_number = '2021300007'")
        .await;
    let school = app.sign_in(GRADUATE_SCHOOL.0, GRADUATE_SCHOOL.1).await;
    let submitted = app
        .post(
            "/api/submit_departure",
            &[],
            Some(&app.sign_in("2020100001", "061234").await),
        )
        .await;
    assert!(ok(&submitted));
    assert!(ok(&revoke(&app, &school, OLD_SLIP, "复核").await));

    let overview = app.post("/api/school_overview", &[], Some(&school)).await;
    assert_eq!(overview.status, StatusCode::OK, "{overview:?}");
    let overview = overview.json();
    let offices = ["library", "archives", "housing", "finance"];
    let states = ["pending", "fail", "pass", "not_applicable", "overridden"];
    let lines: Vec<Value> = overview["colleges"]
        .as_array()
        .expect("colleges")
        .iter()
        .cloned()
        .chain([overview["total"].clone()])
        .collect();
    assert!(lines.len() > 3, "the demo has several colleges");
    let mut nonzero = 0;
    for line in &lines {
        let college = line["college"].as_str().expect("college");
        let in_college = if college.is_empty() {
            "TRUE".to_owned()
        } else {
            format!("college = '{college}'")
        };
        let students = app
            .count(&format!(
                "SELECT COUNT(*) FROM students WHERE deactivated_at IS NULL AND {in_college}"
            ))
            .await;
        assert_eq!(line["students"], students, "{college}");
        let submitted = app
            .count(&format!(
                "SELECT COUNT(*) FROM departures d JOIN students s ON s.student_number = d.student_number
                 WHERE d.revoked_at IS NULL AND s.deactivated_at IS NULL AND {in_college}"
            ))
            .await;
        assert_eq!(line["submitted"], submitted, "{college}");
        for (o, office) in offices.iter().enumerate() {
            for (s, state) in states.iter().enumerate() {
                let direct = app
                    .count(&format!(
                        "SELECT COUNT(*) FROM ({}) t WHERE state = '{state}' AND {in_college}",
                        state_sql(office)
                    ))
                    .await;
                assert_eq!(line["offices"][o][s], direct, "{college}: {office} {state}");
                nonzero += usize::from(direct > 0);
            }
        }
        // Ready: all four pass and not submitted.
        let ready = app
            .count(&format!(
                "SELECT COUNT(*) FROM students st
                 WHERE st.deactivated_at IS NULL AND {in_college}
                   AND NOT EXISTS (SELECT 1 FROM departures d WHERE d.student_number = st.student_number AND d.revoked_at IS NULL)
                   AND st.student_number IN (SELECT n FROM ({}) t WHERE passed)
                   AND st.student_number IN (SELECT n FROM ({}) t WHERE passed)
                   AND st.student_number IN (SELECT n FROM ({}) t WHERE passed)
                   AND st.student_number IN (SELECT n FROM ({}) t WHERE passed)",
                state_sql("library"),
                state_sql("archives"),
                state_sql("housing"),
                state_sql("finance")
            ))
            .await;
        assert_eq!(line["ready"], ready, "{college}");
        assert_eq!(
            line["blocked"].as_i64().expect("blocked"),
            students - submitted - ready,
            "{college}"
        );
    }
    assert!(nonzero > 20, "the demo's states are varied: {nonzero}");
    // The days: 刘洋's revoked departure of 2020-06-09, and today's.
    assert_eq!(overview["days"][0]["date"], "2020-06-09");
    assert_eq!(overview["days"][0]["revoked"], 1);
    assert_eq!(overview["days"][0]["cumulative"], 0);
    assert_eq!(overview["days"][1]["cumulative"], 1);

    // A count's list holds exactly as many students.
    let finance_fail = overview["total"]["offices"][3][1].as_i64().expect("count");
    let list = app
        .post(
            "/api/school_cohort",
            &[("filter[office]", "finance"), ("filter[state]", "fail")],
            Some(&school),
        )
        .await
        .json();
    assert_eq!(list["total"], finance_fail, "{list:#}");
    let li_na = list["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|row| row["student_number"] == "2020100002")
        .expect("李娜 owes 682.40");
    let blockers = li_na.to_string();
    assert!(blockers.contains("682.40"), "{blockers}");

    // The page renders without JavaScript, with a link per count.
    let page = app.page("/desk/overview", Some(&school)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("/desk/overview/list?office=finance&amp;state=fail")
            || page
                .body
                .contains("/desk/overview/list?office=finance&state=fail"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn lists_export_to_csv_that_excel_opens_as_utf8() {
    let app = TestApp::with_demo_students().await;
    let school = app.sign_in(GRADUATE_SCHOOL.0, GRADUATE_SCHOOL.1).await;
    let cohort = app
        .page(
            "/desk/overview/export.csv?office=finance&state=fail",
            Some(&school),
        )
        .await;
    assert_eq!(cohort.status, StatusCode::OK, "{cohort:?}");
    assert_eq!(
        cohort
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    assert!(
        cohort
            .body
            .starts_with("\u{feff}学号,姓名,学院,年级,图书馆"),
        "{}",
        cohort.body
    );
    let list = app
        .post(
            "/api/school_cohort",
            &[("filter[office]", "finance"), ("filter[state]", "fail")],
            Some(&school),
        )
        .await
        .json();
    assert_eq!(
        cohort.body.trim_end().lines().count() as i64 - 1,
        list["total"].as_i64().expect("total"),
        "one line per student of the list"
    );
    assert!(cohort.body.contains("2020100002,李娜"));
    assert!(cohort.body.contains("\r\n"));

    let departures = app.page("/desk/departures/export.csv", Some(&school)).await;
    assert!(departures.body.contains(OLD_SLIP), "{}", departures.body);
    assert!(departures.body.starts_with('\u{feff}'));

    let library = app.sign_in(LIBRARY.0, LIBRARY.1).await;
    let desk = app
        .page("/desk/export.csv?status=fail", Some(&library))
        .await;
    assert_eq!(desk.status, StatusCode::OK);
    assert!(desk.body.contains("2020100003,张伟"), "{}", desk.body);
    assert!(!desk.body.contains("2020100001,"), "only the filtered list");

    // An address typed by hand with nonsense in it is answered in Chinese.
    for path in [
        "/desk/overview/export.csv?page=abc",
        "/desk/departures/export.csv?page=-1",
    ] {
        let bad = app.page(path, Some(&school)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            bad.body.contains("导出地址中的条件无效"),
            "{path}: {}",
            bad.body
        );
    }
    let bad = app.page("/desk/export.csv?page=x", Some(&library)).await;
    assert!(bad.body.contains("导出地址中的条件无效"), "{}", bad.body);

    // Each export checks the role: an office is refused the school's, a student both,
    // the anonymous are sent to sign in.
    let refused = app.page("/desk/overview/export.csv", Some(&library)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let student = app.sign_in("2020100002", "12002X").await;
    for path in [
        "/desk/overview/export.csv",
        "/desk/departures/export.csv",
        "/desk/export.csv",
    ] {
        assert_eq!(
            app.page(path, Some(&student)).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
        let anonymous = app.page(path, None).await;
        assert_eq!(anonymous.location.as_deref(), Some("/login"), "{path}");
    }
}
