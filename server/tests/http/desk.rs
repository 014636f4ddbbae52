//! The offices' desk over HTTP: who may call what, least privilege, versions, bad input,
//! history, and the standing model as staff and students meet it.

use axum::http::StatusCode;

use crate::common::TestApp;

/// Who may call a server function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone (signing in, out, asking who is signed in, checking a slip).
    Anyone,
    /// Any signed-in account (changing one's own password).
    SignedIn,
    /// Students only, about themselves.
    Student,
    /// Staff of one of the four offices, about their own office.
    Office,
    /// The graduate school and admins (password resets).
    Resetter,
    /// Admins only (staff accounts).
    Admin,
    /// The graduate school only (overview, roster, departures).
    School,
}

/// Every server function and who may call it. A new server function missing here fails
/// `every_server_function_is_classified`: its access must be decided, and tested below.
/// A path, who may call it, and a well-formed call (so the check that answers is the
/// role check).
type Row = (
    &'static str,
    Access,
    &'static [(&'static str, &'static str)],
);

const SERVER_FUNCTIONS: [Row; 28] = [
    ("/api/login", Access::Anyone, &[]),
    ("/api/logout", Access::Anyone, &[]),
    ("/api/who_am_i", Access::Anyone, &[]),
    // Public on purpose: whoever holds a printed slip checks it (masked, rate-limited).
    (
        "/api/verify",
        Access::Anyone,
        &[("code", "0000000000000000")],
    ),
    (
        "/api/change_password",
        Access::SignedIn,
        &[
            ("current_password", "wrong-password"),
            ("new_password", "a-new-password-1"),
            ("confirm_password", "a-new-password-1"),
        ],
    ),
    ("/api/clearance", Access::Student, &[]),
    ("/api/cancel_library_card", Access::Student, &[]),
    ("/api/submit_departure", Access::Student, &[]),
    ("/api/departure", Access::Student, &[]),
    ("/api/departures", Access::Student, &[]),
    ("/api/school_overview", Access::School, &[]),
    (
        "/api/school_cohort",
        Access::School,
        &[("filter[page]", "1")],
    ),
    (
        "/api/school_departures",
        Access::School,
        &[("query[page]", "1")],
    ),
    (
        "/api/school_departure",
        Access::School,
        &[("slip_number", "LX202006092020100004")],
    ),
    (
        "/api/revoke_departure",
        Access::School,
        &[
            ("slip_number", "LX-NONE"),
            ("reason", "核对"),
            ("confirm", "on"),
        ],
    ),
    ("/api/school_roster", Access::School, &[]),
    (
        "/api/school_roster_apply",
        Access::School,
        &[("id", "x"), ("mode", "partial"), ("confirm", "on")],
    ),
    ("/api/desk_list", Access::Office, &[("query[page]", "1")]),
    (
        "/api/desk_student",
        Access::Office,
        &[("student_number", "2020100003")],
    ),
    (
        "/api/desk_save_facts",
        Access::Office,
        &[
            ("student_number", "2020100003"),
            ("version", "1"),
            ("reason", "核对"),
            ("confirm", "on"),
            ("form[books_out]", "0"),
        ],
    ),
    (
        "/api/desk_set_standing",
        Access::Office,
        &[
            ("student_number", "2020100003"),
            ("version", "1"),
            ("reason", "核对"),
            ("confirm", "on"),
            ("action", "not_applicable"),
        ],
    ),
    (
        "/api/desk_batch_preview",
        Access::Office,
        &[
            ("request[scope]", "filtered"),
            ("request[action]", "not_applicable"),
            ("request[reason]", "核对"),
        ],
    ),
    (
        "/api/desk_batch_apply",
        Access::Office,
        &[
            ("request[scope]", "filtered"),
            ("request[action]", "not_applicable"),
            ("request[reason]", "核对"),
            ("token", "x"),
            ("confirm", "on"),
        ],
    ),
    ("/api/desk_import_preview", Access::Office, &[]),
    (
        "/api/desk_import_apply",
        Access::Office,
        &[("id", "x"), ("reason", "核对"), ("confirm", "on")],
    ),
    (
        "/api/reset_student_password",
        Access::Resetter,
        &[("student_number", "2020100004"), ("confirm", "on")],
    ),
    ("/api/take_issued_password", Access::Resetter, &[]),
    (
        "/api/create_staff_account",
        Access::Admin,
        &[
            ("login", "new.clerk"),
            ("role", "library"),
            ("confirm", "on"),
        ],
    ),
];

const LIBRARY: (&str, &str) = ("library_demo", "Library-demo-2020");
const FINANCE: (&str, &str) = ("finance_demo", "Finance-demo-2020");
const HOUSING: (&str, &str) = ("housing_demo", "Housing-demo-2020");
const GRADUATE_SCHOOL: (&str, &str) = ("gradschool_demo", "Gradschool-demo-2020");

async fn staff(app: &TestApp, (login, password): (&str, &str)) -> String {
    app.sign_in(login, password).await
}

/// The library record's version of a student, as the desk shows it.
async fn version(app: &TestApp, cookie: &str, number: &str) -> String {
    let reply = app
        .post(
            "/api/desk_student",
            &[("student_number", number)],
            Some(cookie),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json()["state"]["version"].to_string()
}

fn library_form<'a>(
    number: &'a str,
    version: &'a str,
    books: &'a str,
    fines: &'a str,
    reason: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("student_number", number),
        ("version", version),
        ("reason", reason),
        ("confirm", "on"),
        ("form[books_out]", books),
        ("form[fines]", fines),
        ("form[violations]", "1"),
        ("form[library_thesis]", "submitted"),
    ]
}

#[tokio::test]
async fn every_server_function_is_classified() {
    let _app = TestApp::new().await;
    let mut registered: Vec<&str> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .collect();
    registered.sort_unstable();
    let mut known: Vec<&str> = SERVER_FUNCTIONS.iter().map(|(path, ..)| *path).collect();
    known.sort_unstable();
    assert_eq!(
        registered, known,
        "every server function needs a row in SERVER_FUNCTIONS (and its access test)"
    );
}

#[tokio::test]
async fn every_server_function_checks_the_callers_role() {
    let app = TestApp::with_demo_students().await;
    let student = app.sign_in("2020100003", "2020100003").await;
    let graduate_school = staff(&app, GRADUATE_SCHOOL).await;
    let library = staff(&app, LIBRARY).await;
    let finance = staff(&app, FINANCE).await;
    let admin = staff(&app, ADMIN).await;
    for (path, access, call) in SERVER_FUNCTIONS {
        if access == Access::Anyone {
            continue;
        }
        let anonymous = app.post(path, call, None).await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {anonymous:?}"
        );
        let refused: &[(&str, &String)] = match access {
            Access::Office => &[
                ("student", &student),
                ("graduate school", &graduate_school),
                ("admin", &admin),
            ],
            Access::Student => &[
                ("library", &library),
                ("finance", &finance),
                ("graduate school", &graduate_school),
                ("admin", &admin),
            ],
            Access::Resetter => &[("student", &student), ("library", &library)],
            Access::Admin => &[
                ("student", &student),
                ("library", &library),
                ("graduate school", &graduate_school),
            ],
            Access::School => &[
                ("student", &student),
                ("library", &library),
                ("finance", &finance),
                ("admin", &admin),
            ],
            _ => &[],
        };
        for (who, cookie) in refused {
            let reply = app.post(path, call, Some(cookie)).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{path} as {who}: {reply:?}"
            );
            assert!(reply.body.contains("Forbidden"), "{path} as {who}");
        }
    }

    // Each office's staff reach their own desk.
    for account in [
        LIBRARY,
        FINANCE,
        HOUSING,
        ("archives_demo", "Archives-demo-2020"),
    ] {
        let cookie = staff(&app, account).await;
        let list = app
            .post("/api/desk_list", &[("query[page]", "1")], Some(&cookie))
            .await;
        assert_eq!(list.status, StatusCode::OK, "{account:?}: {list:?}");
        let one = app
            .post(
                "/api/desk_student",
                &[("student_number", "2020100003")],
                Some(&cookie),
            )
            .await;
        assert_eq!(one.status, StatusCode::OK, "{account:?}: {one:?}");
    }
    let v = version(&app, &library, "2020100003").await;
    let save = app
        .post(
            "/api/desk_save_facts",
            &library_form("2020100003", &v, "0", "3.50", "已还书"),
            Some(&library),
        )
        .await;
    assert!(
        save.status.is_success() || save.status.is_redirection(),
        "{save:?}"
    );
    let v = version(&app, &library, "2020100003").await;
    let standing = app
        .post(
            "/api/desk_set_standing",
            &[
                ("student_number", "2020100003"),
                ("version", &v),
                ("reason", "馆长批准"),
                ("confirm", "on"),
                ("action", "override_pass"),
            ],
            Some(&library),
        )
        .await;
    assert!(
        standing.status.is_success() || standing.status.is_redirection(),
        "{standing:?}"
    );
}

#[tokio::test]
async fn staff_see_only_their_own_offices_facts() {
    let app = TestApp::with_demo_students().await;
    let finance = staff(&app, FINANCE).await;
    let reply = app
        .post(
            "/api/desk_student",
            &[("student_number", "2020100003")],
            Some(&finance),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let view = reply.json();
    assert_eq!(view["office"], "Finance");
    assert!(view["facts"]["library"].is_null(), "{view}");
    assert!(view["facts"]["archives"].is_null(), "{view}");
    assert_eq!(view["facts"]["states"]["library"]["standing"], "pending");
    assert!(
        !reply.body.contains("books_out\":2"),
        "no library details reach finance"
    );
    let library = staff(&app, LIBRARY).await;
    let reply = app
        .post(
            "/api/desk_student",
            &[("student_number", "2020100003")],
            Some(&library),
        )
        .await;
    assert_eq!(reply.json()["facts"]["library"]["books_out"], 2);
}

#[tokio::test]
async fn a_save_based_on_an_old_version_is_refused_and_changes_nothing() {
    let app = TestApp::with_demo_students().await;
    let first = staff(&app, LIBRARY).await;
    let second = staff(&app, LIBRARY).await;
    let seen = version(&app, &first, "2020100003").await;
    let saved = app
        .post(
            "/api/desk_save_facts",
            &library_form("2020100003", &seen, "1", "3.50", "还了一本"),
            Some(&first),
        )
        .await;
    assert!(
        saved.status.is_success() || saved.status.is_redirection(),
        "{saved:?}"
    );
    // The second clerk opened the page before the first saved.
    let stale = app
        .post(
            "/api/desk_save_facts",
            &library_form("2020100003", &seen, "0", "0", "全部还清"),
            Some(&second),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{stale:?}");
    assert!(stale.body.contains("已被他人修改"), "{}", stale.body);
    assert!(
        stale.body.contains("未还 1 册"),
        "the message shows the current values: {}",
        stale.body
    );
    let books = app
        .count("SELECT books_out FROM library_records WHERE student_number = '2020100003'")
        .await;
    assert_eq!(books, 1, "the first save stands");
    let history = app
        .count("SELECT COUNT(*) FROM office_history WHERE student_number = '2020100003'")
        .await;
    assert_eq!(history, 1);
}

#[tokio::test]
async fn bad_input_gets_a_chinese_message_and_changes_nothing() {
    let app = TestApp::with_demo_students().await;
    let library = staff(&app, LIBRARY).await;
    let v = version(&app, &library, "2020100003").await;
    let mut no_confirm = library_form("2020100003", &v, "0", "0", "已还");
    no_confirm.retain(|(key, _)| *key != "confirm");
    let mut unknown_thesis = library_form("2020100003", &v, "0", "0", "已还");
    unknown_thesis.push(("form[library_thesis]", "审核通过"));
    unknown_thesis.retain(|pair| *pair != ("form[library_thesis]", "submitted"));
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            library_form("2020100003", &v, "0", "0", "  "),
            "/api/desk_save_facts",
            "请填写原因",
        ),
        (
            library_form("2020100003", &v, "0", "-3.50", "已还"),
            "/api/desk_save_facts",
            "不小于 0",
        ),
        (
            library_form("2020100003", &v, "-1", "0", "已还"),
            "/api/desk_save_facts",
            "未还册数",
        ),
        (unknown_thesis, "/api/desk_save_facts", "论文提交状态"),
        (no_confirm, "/api/desk_save_facts", "确认保存"),
        (
            vec![
                ("student_number", "2020100003"),
                ("version", &v),
                ("reason", "x"),
                ("confirm", "on"),
                ("action", "delete_everything"),
            ],
            "/api/desk_set_standing",
            "未知的操作",
        ),
    ];
    for (form, path, expected) in cases {
        let reply = app.post(path, &form, Some(&library)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{form:?}: {reply:?}");
        assert!(reply.body.contains(expected), "{form:?}: {}", reply.body);
    }
    let filter = app
        .post(
            "/api/desk_list",
            &[("query[status]", "lost")],
            Some(&library),
        )
        .await;
    assert_eq!(filter.status, StatusCode::BAD_REQUEST, "{filter:?}");
    assert_eq!(
        version(&app, &library, "2020100003").await,
        v,
        "nothing changed"
    );
    let books = app
        .count("SELECT books_out FROM library_records WHERE student_number = '2020100003'")
        .await;
    assert_eq!(books, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM office_history").await, 0);
}

#[tokio::test]
async fn the_student_sees_the_change_with_its_reason_and_the_office_not_the_clerk() {
    let app = TestApp::with_demo_students().await;
    let finance = staff(&app, FINANCE).await;
    let v = version(&app, &finance, "2020100002").await;
    let reply = app
        .post(
            "/api/desk_set_standing",
            &[
                ("student_number", "2020100002"),
                ("version", &v),
                ("reason", "经处长批准减免"),
                ("confirm", "on"),
                ("action", "override_pass"),
            ],
            Some(&finance),
        )
        .await;
    assert!(
        reply.status.is_success() || reply.status.is_redirection(),
        "{reply:?}"
    );
    let li_na = app.sign_in("2020100002", "12002X").await;
    let view = app.post("/api/clearance", &[], Some(&li_na)).await.json();
    let entry = &view["history"][0];
    assert_eq!(entry["by"], "财务资产部收费管理办公室");
    assert!(
        entry["staff"].is_null(),
        "the clerk is not named to the student"
    );
    assert_eq!(entry["reason"], "经处长批准减免");
    assert!(!view.to_string().contains("finance_demo"));
    assert_eq!(
        view["facts"]["states"]["finance"]["overridden"]["pass"],
        true
    );
    // Staff see who did it.
    let desk = app
        .post(
            "/api/desk_student",
            &[("student_number", "2020100002")],
            Some(&finance),
        )
        .await
        .json();
    assert_eq!(desk["history"][0]["staff"], "finance_demo");
}

#[tokio::test]
async fn the_students_own_card_cancellation_moves_the_version_and_is_in_the_history() {
    let app = TestApp::with_demo_students().await;
    let library = staff(&app, LIBRARY).await;
    let before = version(&app, &library, "2020100002").await;
    let li_na = app.sign_in("2020100002", "12002X").await;
    let cancel = app
        .post("/api/cancel_library_card", &[], Some(&li_na))
        .await;
    assert!(
        cancel.status.is_success() || cancel.status.is_redirection(),
        "{cancel:?}"
    );
    let after = version(&app, &library, "2020100002").await;
    assert_ne!(before, after);
    let kind = app
        .text("SELECT actor_kind FROM office_history WHERE student_number = '2020100002'")
        .await;
    assert_eq!(kind.as_deref(), Some("student"));
    // A clerk's form opened before the cancellation cannot silently undo it.
    let mut form = library_form("2020100002", &before, "0", "0", "核对");
    form.retain(|(key, _)| *key != "form[violations]");
    form.push(("form[violations]", "0"));
    let stale = app
        .post("/api/desk_save_facts", &form, Some(&library))
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{stale:?}");
}

#[tokio::test]
async fn an_override_can_end_with_new_facts_or_stay_until_removed() {
    let app = TestApp::with_demo_students().await;
    let library = staff(&app, LIBRARY).await;
    for (ends, stays) in [("on", false), ("", true)] {
        let v = version(&app, &library, "2020100003").await;
        let mut form = vec![
            ("student_number", "2020100003"),
            ("version", v.as_str()),
            ("reason", "特批"),
            ("confirm", "on"),
            ("action", "override_pass"),
        ];
        if !ends.is_empty() {
            form.push(("ends_with_new_facts", ends));
        }
        let reply = app
            .post("/api/desk_set_standing", &form, Some(&library))
            .await;
        assert!(
            reply.status.is_success() || reply.status.is_redirection(),
            "{reply:?}"
        );
        let v = version(&app, &library, "2020100003").await;
        let saved = app
            .post(
                "/api/desk_save_facts",
                &library_form("2020100003", &v, "1", "0", "还了一本"),
                Some(&library),
            )
            .await;
        assert!(
            saved.status.is_success() || saved.status.is_redirection(),
            "{saved:?}"
        );
        let overridden = app
            .count(
                "SELECT COUNT(*) FROM office_states
                 WHERE student_number = '2020100003' AND office = 'library'
                   AND override_verdict IS NOT NULL",
            )
            .await;
        assert_eq!(overridden == 1, stays, "ends_with_new_facts = {ends:?}");
    }
}

#[tokio::test]
async fn staff_land_on_their_desk_and_students_cannot_open_it() {
    let app = TestApp::with_demo_students().await;
    let reply = app
        .post(
            "/api/login",
            &[("student_number", LIBRARY.0), ("password", LIBRARY.1)],
            None,
        )
        .await;
    assert!(
        reply.location.as_deref() == Some("/desk")
            || reply.headers.get("serverfnredirect").is_some()
            || reply.body.contains("/desk"),
        "{reply:?}"
    );
    let library = reply.cookie.expect("cookie");
    let page = app.page("/desk", Some(&library)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("图书馆工作台"), "{}", page.body);
    assert!(page.body.contains("2020100003"));
    // The header leads staff back to their desk, not to a student's 个人中心.
    assert!(
        page.body.contains(r#"<a href="/desk">工作台</a>"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains("个人中心"));
    let student = app.sign_in("2020100003", "2020100003").await;
    for path in ["/desk", "/desk/student/2020100001"] {
        let page = app.page(path, Some(&student)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains("您没有权限进行此操作"), "{path}");
        assert!(!page.body.contains("王小明"), "{path}");
    }
    let anonymous = app.page("/desk", None).await;
    assert_eq!(anonymous.location.as_deref(), Some("/login"));
}

#[tokio::test]
async fn the_list_filters_by_state_and_pages() {
    let app = TestApp::with_demo_students().await;
    let housing = staff(&app, HOUSING).await;
    let all = app
        .post("/api/desk_list", &[("query[page]", "1")], Some(&housing))
        .await
        .json();
    assert_eq!(all["total"], 204);
    assert_eq!(all["rows"].as_array().expect("json").len(), 50);
    assert_eq!(all["pages"], 5);
    let mut seen = 0;
    for status in ["pending", "pass", "fail", "not_applicable", "overridden"] {
        let list = app
            .post(
                "/api/desk_list",
                &[("query[status]", status), ("query[page]", "1")],
                Some(&housing),
            )
            .await
            .json();
        let total = list["total"].as_u64().expect("json");
        seen += total;
        for row in list["rows"].as_array().expect("json") {
            assert_eq!(
                row["status"]
                    .as_str()
                    .expect("json")
                    .to_lowercase()
                    .replace('_', ""),
                status.replace('_', ""),
                "{row}"
            );
        }
        if status != "overridden" {
            assert!(total > 0, "{status}: the demo has someone in every state");
        }
    }
    assert_eq!(seen, 204, "every student is in exactly one state");
    // Decisions by hand are in the library's demo data.
    let library = staff(&app, LIBRARY).await;
    let decided = app
        .post(
            "/api/desk_list",
            &[("query[status]", "overridden")],
            Some(&library),
        )
        .await
        .json();
    assert!(decided["total"].as_u64().expect("total") > 0, "{decided}");
    let by_number = app
        .post(
            "/api/desk_list",
            &[("query[q]", "202010000")],
            Some(&housing),
        )
        .await
        .json();
    assert_eq!(by_number["total"], 4, "part of a 学号 finds the students");
    let zhang = app
        .post("/api/desk_list", &[("query[q]", "张伟")], Some(&housing))
        .await
        .json();
    assert_eq!(zhang["total"], 1);
    assert_eq!(zhang["rows"][0]["status"], "NotApplicable");
}

#[tokio::test]
async fn a_new_staff_account_must_change_its_one_time_password_then_reaches_its_desk() {
    let app = TestApp::new().await;
    let once = app::auth::password::one_time_password();
    assert_eq!(once.chars().count(), 12);
    assert_ne!(once, app::auth::password::one_time_password());
    let hash = app::auth::password::hash(once.clone()).await.expect("hash");
    assert!(
        app::db::accounts::create_staff(&app.state.db, "zhang.lib", "library", &hash)
            .await
            .expect("creates")
    );
    assert!(
        !app::db::accounts::create_staff(&app.state.db, "zhang.lib", "finance", &hash)
            .await
            .expect("answers"),
        "a taken login is refused, not overwritten"
    );
    let cookie = app.sign_in("zhang.lib", &once).await;
    let desk = app
        .post("/api/desk_list", &[("query[page]", "1")], Some(&cookie))
        .await;
    assert_eq!(desk.status, StatusCode::FORBIDDEN, "{desk:?}");
    assert!(
        desk.body.contains("PasswordChangeRequired"),
        "{}",
        desk.body
    );
    let changed = app
        .post(
            "/api/change_password",
            &[
                ("current_password", &once),
                ("new_password", "library-desk-2026"),
                ("confirm_password", "library-desk-2026"),
            ],
            Some(&cookie),
        )
        .await;
    assert!(
        changed.status.is_success() || changed.status.is_redirection(),
        "{changed:?}"
    );
    let cookie = app.sign_in("zhang.lib", "library-desk-2026").await;
    let desk = app
        .post("/api/desk_list", &[("query[page]", "1")], Some(&cookie))
        .await;
    assert_eq!(desk.status, StatusCode::OK, "{desk:?}");
}

/// Previews a housing batch and returns the preview (JSON) or the refusal.
async fn preview(app: &TestApp, cookie: &str, form: &[(&str, &str)]) -> crate::common::Reply {
    app.post("/api/desk_batch_preview", form, Some(cookie))
        .await
}

#[tokio::test]
async fn a_batch_is_previewed_with_its_count_then_applied_all_at_once() {
    let app = TestApp::with_demo_students().await;
    let housing = staff(&app, HOUSING).await;
    let request = [
        ("request[scope]", "filtered"),
        ("request[status]", "fail"),
        ("request[action]", "checked_out"),
        ("request[checked_out_on]", "2020-06-10"),
        ("request[checked_out_by]", "丁二君"),
        ("request[reason]", "六月集中退宿"),
    ];
    let failing = app
        .post(
            "/api/desk_list",
            &[("query[status]", "fail")],
            Some(&housing),
        )
        .await
        .json()["total"]
        .as_u64()
        .expect("total");
    assert!(
        failing > 50,
        "the demo has many rooms not checked out: {failing}"
    );
    let shown = preview(&app, &housing, &request).await;
    assert_eq!(shown.status, StatusCode::OK, "{shown:?}");
    let shown = shown.json();
    assert_eq!(shown["count"].as_u64(), Some(failing));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM office_history").await,
        0,
        "a preview changes nothing"
    );
    let token = shown["token"].as_str().expect("token").to_owned();
    let mut apply: Vec<(&str, &str)> = request.to_vec();
    apply.push(("token", &token));
    apply.push(("confirm", "on"));
    let done = app
        .post("/api/desk_batch_apply", &apply, Some(&housing))
        .await;
    assert!(
        done.status.is_success() || done.status.is_redirection(),
        "{done:?}"
    );
    let after = app
        .post(
            "/api/desk_list",
            &[("query[status]", "fail")],
            Some(&housing),
        )
        .await
        .json();
    assert_eq!(after["total"], 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM office_history WHERE reason = '六月集中退宿'")
            .await,
        failing as i64,
        "one history row per student"
    );
    // The same confirmation again: the list it named has changed, so it is refused.
    let again = app
        .post("/api/desk_batch_apply", &apply, Some(&housing))
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{again:?}");
}

#[tokio::test]
async fn a_batch_that_cannot_apply_to_one_student_changes_nobody() {
    let app = TestApp::with_demo_students().await;
    let housing = staff(&app, HOUSING).await;
    // 李娜 has a room not checked out; 张伟 has none (不涉及): checkout cannot apply to him.
    let request = [
        ("request[scope]", "selected"),
        ("request[numbers][0]", "2020100002"),
        ("request[numbers][1]", "2020100003"),
        ("request[action]", "checked_out"),
        ("request[checked_out_on]", "2020-06-10"),
        ("request[checked_out_by]", "丁二君"),
        ("request[reason]", "集中退宿"),
    ];
    let shown = preview(&app, &housing, &request).await.json();
    assert_eq!(shown["count"], 2);
    let token = shown["token"].as_str().expect("token").to_owned();
    let mut apply: Vec<(&str, &str)> = request.to_vec();
    apply.push(("token", &token));
    apply.push(("confirm", "on"));
    let refused = app
        .post("/api/desk_batch_apply", &apply, Some(&housing))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert!(refused.body.contains("2020100003"), "{}", refused.body);
    assert!(
        refused.body.contains("整批操作没有执行"),
        "{}",
        refused.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM office_history").await, 0);
    let li_na = app
        .text("SELECT checked_out_on FROM housing_records WHERE student_number = '2020100002'")
        .await;
    assert_eq!(li_na, None, "李娜's checkout was undone with the rest");
}

#[tokio::test]
async fn a_batch_confirmed_after_a_change_to_one_of_its_students_is_refused() {
    let app = TestApp::with_demo_students().await;
    let finance = staff(&app, FINANCE).await;
    let request = [
        ("request[scope]", "selected"),
        ("request[numbers][0]", "2020100002"),
        ("request[numbers][1]", "2020100001"),
        ("request[action]", "override_pass"),
        ("request[reason]", "校长特批"),
    ];
    let shown = preview(&app, &finance, &request).await.json();
    let token = shown["token"].as_str().expect("token").to_owned();
    // Someone changes 李娜's finance record between the preview and the confirmation.
    let v = app
        .post(
            "/api/desk_student",
            &[("student_number", "2020100002")],
            Some(&finance),
        )
        .await
        .json()["state"]["version"]
        .to_string();
    let changed = app
        .post(
            "/api/desk_set_standing",
            &[
                ("student_number", "2020100002"),
                ("version", &v),
                ("reason", "核对"),
                ("confirm", "on"),
                ("action", "override_fail"),
            ],
            Some(&finance),
        )
        .await;
    assert!(
        changed.status.is_success() || changed.status.is_redirection(),
        "{changed:?}"
    );
    let mut apply: Vec<(&str, &str)> = request.to_vec();
    apply.push(("token", &token));
    apply.push(("confirm", "on"));
    let refused = app
        .post("/api/desk_batch_apply", &apply, Some(&finance))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert!(refused.body.contains("预览之后"), "{}", refused.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM office_history WHERE reason = '校长特批'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_batch_needs_a_reason_an_action_and_someone_to_apply_to() {
    let app = TestApp::with_demo_students().await;
    let library = staff(&app, LIBRARY).await;
    for (form, expected) in [
        (
            vec![
                ("request[scope]", "filtered"),
                ("request[action]", "not_applicable"),
            ],
            "请填写原因",
        ),
        (
            vec![
                ("request[scope]", "filtered"),
                ("request[action]", "checked_out"),
                ("request[reason]", "x"),
            ],
            "请选择批量操作",
        ),
        (
            vec![
                ("request[scope]", "selected"),
                ("request[action]", "not_applicable"),
                ("request[reason]", "x"),
            ],
            "请先勾选学生",
        ),
        (
            vec![
                ("request[scope]", "filtered"),
                ("request[q]", "没有这个人"),
                ("request[action]", "not_applicable"),
                ("request[reason]", "x"),
            ],
            "没有符合条件的学生",
        ),
    ] {
        let reply = preview(&app, &library, &form).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{form:?}: {reply:?}");
        assert!(reply.body.contains(expected), "{form:?}: {}", reply.body);
    }
}

const ADMIN: (&str, &str) = ("admin_demo", "Admin-demo-2020");

#[tokio::test]
async fn the_graduate_school_resets_a_students_password_shown_once_and_audited() {
    let app = TestApp::with_demo_students().await;
    let zhang = app.sign_in("2020100003", "2020100003").await;
    let school = staff(&app, GRADUATE_SCHOOL).await;
    let unconfirmed = app
        .post(
            "/api/reset_student_password",
            &[("student_number", "2020100003")],
            Some(&school),
        )
        .await;
    assert_eq!(
        unconfirmed.status,
        StatusCode::BAD_REQUEST,
        "{unconfirmed:?}"
    );
    let unknown = app
        .post(
            "/api/reset_student_password",
            &[("student_number", "2099999999"), ("confirm", "on")],
            Some(&school),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{unknown:?}");
    assert!(
        unknown.body.contains("没有学号为 2099999999 的学生账号"),
        "{}",
        unknown.body
    );
    let staff_account = app
        .post(
            "/api/reset_student_password",
            &[("student_number", "library_demo"), ("confirm", "on")],
            Some(&school),
        )
        .await;
    assert_eq!(
        staff_account.status,
        StatusCode::BAD_REQUEST,
        "only students' passwords"
    );

    let reset = app
        .post(
            "/api/reset_student_password",
            &[("student_number", "2020100003"), ("confirm", "on")],
            Some(&school),
        )
        .await;
    assert!(
        reset.status.is_success() || reset.status.is_redirection(),
        "{reset:?}"
    );
    let shown = app
        .post("/api/take_issued_password", &[], Some(&school))
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{shown:?}");
    let shown = shown.json();
    assert_eq!(shown["login"], "2020100003");
    let once = shown["password"].as_str().expect("password").to_owned();
    let again = app
        .post("/api/take_issued_password", &[], Some(&school))
        .await
        .json();
    assert!(again.is_null(), "shown once: {again}");
    // The student's old session has ended; the one-time password must be changed.
    let old = app.post("/api/clearance", &[], Some(&zhang)).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "{old:?}");
    let fresh = app.sign_in("2020100003", &once).await;
    let blocked = app.post("/api/clearance", &[], Some(&fresh)).await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
    assert!(blocked.body.contains("PasswordChangeRequired"));
    assert_eq!(
        app.text("SELECT actor || ' ' || subject FROM audit_log WHERE event = 'password_reset'")
            .await
            .as_deref(),
        Some("gradschool_demo 2020100003")
    );
}

#[tokio::test]
async fn an_admin_creates_a_staff_account_with_a_one_time_password() {
    let app = TestApp::with_demo_students().await;
    let admin = staff(&app, ADMIN).await;
    let form = [
        ("login", "wang.fin"),
        ("role", "finance"),
        ("confirm", "on"),
    ];
    let created = app
        .post("/api/create_staff_account", &form, Some(&admin))
        .await;
    assert!(
        created.status.is_success() || created.status.is_redirection(),
        "{created:?}"
    );
    let issued = app
        .post("/api/take_issued_password", &[], Some(&admin))
        .await
        .json();
    assert_eq!(issued["login"], "wang.fin");
    let password = issued["password"].as_str().expect("password").to_owned();
    let taken = app
        .post("/api/create_staff_account", &form, Some(&admin))
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{taken:?}");
    for (login, role) in [
        ("12345678", "library"),
        ("ab", "library"),
        ("ok.name", "dean"),
    ] {
        let bad = app
            .post(
                "/api/create_staff_account",
                &[("login", login), ("role", role), ("confirm", "on")],
                Some(&admin),
            )
            .await;
        assert_eq!(
            bad.status,
            StatusCode::BAD_REQUEST,
            "{login} {role}: {bad:?}"
        );
    }
    let clerk = app.sign_in("wang.fin", &password).await;
    let desk = app
        .post("/api/desk_list", &[("query[page]", "1")], Some(&clerk))
        .await;
    assert_eq!(
        desk.status,
        StatusCode::FORBIDDEN,
        "first the password change"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE event = 'staff_account_created' AND subject = 'wang.fin'")
            .await,
        1
    );
}

#[tokio::test]
async fn the_students_own_card_cancellation_leaves_the_librarys_decision_alone() {
    let app = TestApp::with_demo_students().await;
    let library = staff(&app, LIBRARY).await;
    let v = version(&app, &library, "2020100002").await;
    let decided = app
        .post(
            "/api/desk_set_standing",
            &[
                ("student_number", "2020100002"),
                ("version", &v),
                ("reason", "馆长特批"),
                ("confirm", "on"),
                ("action", "override_pass"),
                ("ends_with_new_facts", "on"),
            ],
            Some(&library),
        )
        .await;
    assert!(
        decided.status.is_success() || decided.status.is_redirection(),
        "{decided:?}"
    );
    let li_na = app.sign_in("2020100002", "12002X").await;
    let cancel = app
        .post("/api/cancel_library_card", &[], Some(&li_na))
        .await;
    assert!(
        cancel.status.is_success() || cancel.status.is_redirection(),
        "{cancel:?}"
    );
    let kept = app
        .count(
            "SELECT COUNT(*) FROM office_states WHERE student_number = '2020100002'
               AND office = 'library' AND override_verdict = 'pass'",
        )
        .await;
    assert_eq!(
        kept, 1,
        "a student's own action does not end the library's decision"
    );
    let view = app.post("/api/clearance", &[], Some(&li_na)).await.json();
    assert_eq!(view["history"][0]["by"], "本人");
}
