//! 批量导入 at the desk over HTTP: the template, an upload in GBK or UTF-8, the preview
//! (counts and every bad row), and the import, all rows or none, with one reason.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};

use crate::common::{Reply, TestApp};

const LIBRARY: (&str, &str) = ("library_demo", "Library-demo-2020");
const FINANCE: (&str, &str) = ("finance_demo", "Finance-demo-2020");

/// Uploads `bytes` as the file `name` the way the page's form does.
async fn upload(app: &TestApp, cookie: &str, name: &str, bytes: &[u8]) -> Reply {
    app.upload(app::desk::import::UPLOAD_PATH, cookie, name, bytes)
        .await
}

/// The preview's id from the redirect after an upload.
fn preview_id(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{reply:?}");
    let location = reply.location.clone().expect("redirect");
    location
        .strip_prefix("/desk/import?id=")
        .unwrap_or_else(|| panic!("not a preview: {location}"))
        .to_owned()
}

async fn preview(app: &TestApp, cookie: &str, id: &str) -> serde_json::Value {
    let reply = app
        .post("/api/desk_import_preview", &[("id", id)], Some(cookie))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json()["preview"].clone()
}

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

#[tokio::test]
async fn a_gbk_file_with_bad_rows_is_previewed_row_by_row_and_never_half_imported() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in(LIBRARY.0, LIBRARY.1).await;
    let before = app.count("SELECT COUNT(*) FROM office_history").await;
    // As Excel on a Chinese PC saves it: GBK, no BOM, CRLF, the template's headers.
    let file = "学号,数据时间,不涉及,未还册数,欠款金额,违章条数,借书证已注销,论文提交状态\r\n\
                2020100003,,,0,0,0,否,审核通过\r\n\
                2020100001,,,两本,0,0,否,审核通过\r\n\
                2099999999,,,0,0,0,否,审核通过\r\n";
    let id = preview_id(&upload(&app, &cookie, "图书馆.csv", &gbk(file)).await);
    let shown = preview(&app, &cookie, &id).await;
    assert_eq!(shown["file_name"], "图书馆.csv");
    assert_eq!(shown["updated"], 1, "{shown:#}");
    let bad: Vec<(u64, String)> = shown["bad"]
        .as_array()
        .expect("bad rows")
        .iter()
        .map(|row| {
            (
                row["row"].as_u64().expect("row"),
                row["column"].as_str().expect("column").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        bad,
        [(3, "未还册数".to_owned()), (4, "学号".to_owned())],
        "{shown:#}"
    );
    assert!(
        shown["bad"][1]["reason"]
            .as_str()
            .expect("reason")
            .contains("不在离校学生名单")
    );

    // The page shows the same, without JavaScript.
    let page = app
        .page(&format!("/desk/import?id={id}"), Some(&cookie))
        .await;
    assert!(page.body.contains("有问题 2 处"), "{}", page.body);
    assert!(page.body.contains("整份文件不会导入"));
    assert!(!page.body.contains("确认导入"));

    // Importing anyway is refused whole: not even the good row is written.
    let refused = app
        .post(
            "/api/desk_import_apply",
            &[("id", &id), ("reason", "期末核对"), ("confirm", "on")],
            Some(&cookie),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM office_history").await,
        before
    );
}

#[tokio::test]
async fn a_good_file_imports_every_row_with_one_reason_and_again_changes_nothing() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in(LIBRARY.0, LIBRARY.1).await;
    let file = "\u{feff}student_number,as_of,books_out,fines,violations,card_cancelled,thesis_status\n\
                2020100003,2026/6/20 8:00,0,0,0,否,审核通过\n\
                2021300001,2026-06-20 08:00,1,2.50,0,是,已提交\n";
    let id = preview_id(&upload(&app, &cookie, "library.csv", file.as_bytes()).await);
    let shown = preview(&app, &cookie, &id).await;
    assert_eq!(shown["bad"], serde_json::json!([]), "{shown:#}");
    let changes =
        shown["created"].as_u64().expect("created") + shown["updated"].as_u64().expect("updated");
    assert_eq!(changes, 2, "{shown:#}");
    // The preview wrote nothing.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM office_history WHERE reason = '期末核对'")
            .await,
        0
    );
    let page = app
        .page(&format!("/desk/import?id={id}"), Some(&cookie))
        .await;
    assert!(page.body.contains("确认导入"), "{}", page.body);

    // A reason is required, and the box ticked.
    let no_reason = app
        .post(
            "/api/desk_import_apply",
            &[("id", &id), ("reason", " "), ("confirm", "on")],
            Some(&cookie),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);

    let done = app
        .post(
            "/api/desk_import_apply",
            &[("id", &id), ("reason", "期末核对"), ("confirm", "on")],
            Some(&cookie),
        )
        .await;
    assert!(
        done.status.is_success() || done.status.is_redirection(),
        "{done:?}"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM office_history
             WHERE reason = '期末核对' AND actor_kind = 'staff' AND actor = 'library_demo'"
        )
        .await,
        2
    );
    assert_eq!(
        app.count("SELECT books_out FROM library_records WHERE student_number = '2021300001'")
            .await,
        1
    );
    // The same file again: every row unchanged, nothing to import.
    let again = preview_id(&upload(&app, &cookie, "library.csv", file.as_bytes()).await);
    let shown = preview(&app, &cookie, &again).await;
    assert_eq!(
        (
            shown["unchanged"].as_u64(),
            shown["created"].as_u64(),
            shown["updated"].as_u64()
        ),
        (Some(2), Some(0), Some(0))
    );
    // The imported upload is gone.
    let gone = app
        .post("/api/desk_import_preview", &[("id", &id)], Some(&cookie))
        .await;
    assert_eq!(gone.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn nothing_is_imported_if_a_row_no_longer_applies_after_the_preview() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in(FINANCE.0, FINANCE.1).await;
    let file = "学号,数据时间,不涉及,收费编号,收费学年,收费项目名称,欠费金额\n\
                2020100001,2026-06-20 08:00,,F-9,2019,学分学费,550\n\
                2020100002,2026-06-20 08:00,,,,,\n";
    let id = preview_id(&upload(&app, &cookie, "finance.csv", &gbk(file)).await);
    let shown = preview(&app, &cookie, &id).await;
    assert_eq!(shown["bad"], serde_json::json!([]), "{shown:#}");
    // Meanwhile the finance system pushes 李娜 with the same as_of and other charges.
    let pushed = app
        .send(
            Request::post("/sync/v1/finance/records")
                .header("authorization", "Bearer lxs_demo_finance_2020")
                .header("content-type", "application/json")
                .body(Body::from(
                    r#"{"records": [{"student_number": "2020100002", "as_of": "2026-06-20T08:00:00+08:00",
                        "charges": [{"charge_id": "F-7", "academic_year": "2019", "item": "学分学费", "amount": "1"}]}]}"#,
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(pushed.status(), StatusCode::OK);
    let before = app.count("SELECT COUNT(*) FROM finance_arrears").await;
    let refused = app
        .post(
            "/api/desk_import_apply",
            &[("id", &id), ("reason", "期末核对"), ("confirm", "on")],
            Some(&cookie),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM finance_arrears").await,
        before
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM finance_arrears WHERE charge_id = 'F-9'")
            .await,
        0,
        "王小明's row was not imported either"
    );
}

#[tokio::test]
async fn an_upload_is_its_clerks_alone_and_the_template_is_the_offices() {
    let app = TestApp::with_demo_students().await;
    let library = app.sign_in(LIBRARY.0, LIBRARY.1).await;
    let finance = app.sign_in(FINANCE.0, FINANCE.1).await;
    let student = app.sign_in("2020100004", "150027").await;
    let file = "学号,未还册数\n2020100003,0\n";
    let id = preview_id(&upload(&app, &library, "a.csv", file.as_bytes()).await);
    let other = app
        .post("/api/desk_import_preview", &[("id", &id)], Some(&finance))
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST, "{other:?}");
    let by_student = upload(&app, &student, "a.csv", file.as_bytes()).await;
    assert_eq!(by_student.status, StatusCode::FORBIDDEN);

    let template = app
        .page(app::desk::import::TEMPLATE_PATH, Some(&library))
        .await;
    assert_eq!(template.status, StatusCode::OK);
    assert!(
        template.body.starts_with('\u{feff}'),
        "Excel reads it as UTF-8"
    );
    assert!(template.body.contains("学号,数据时间,不涉及,未还册数"));
    let finance_template = app
        .page(app::desk::import::TEMPLATE_PATH, Some(&finance))
        .await;
    assert!(finance_template.body.contains("收费编号"));

    // An empty upload and a UTF-16 file come back to the form with a reason.
    let empty = upload(&app, &library, "a.csv", b"").await;
    assert_eq!(
        empty.location.as_deref(),
        Some("/desk/import?problem=no_file")
    );
    let utf16 = upload(&app, &library, "a.csv", &[0xff, 0xfe, 0x66, 0x00]).await;
    assert_eq!(
        utf16.location.as_deref(),
        Some("/desk/import?problem=utf16")
    );
    let page = app.page("/desk/import?problem=utf16", Some(&library)).await;
    assert!(page.body.contains("另存为"), "{}", page.body);
}

#[tokio::test]
async fn rows_are_refused_in_the_files_words_and_older_rows_are_named() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in(LIBRARY.0, LIBRARY.1).await;
    // The library system pushed 李娜 as of 2026-06-20; a file row from 2026-06-01 is older.
    let pushed = app
        .send(
            Request::post("/sync/v1/library/records")
                .header("authorization", "Bearer lxs_demo_library_2020")
                .header("content-type", "application/json")
                .body(Body::from(
                    r#"{"records": [{"student_number": "2020100002", "as_of": "2026-06-20T08:00:00+08:00",
                        "books_out": 0, "fines": "0", "violations": 0, "card_cancelled": false, "thesis_status": "approved"}]}"#,
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(pushed.status(), StatusCode::OK);
    let file = "学号,数据时间,不涉及,未还册数,欠款金额,违章条数,借书证已注销,论文提交状态\n\
                2020100002,2026-06-01 08:00,,5,0,0,否,审核通过\n\
                2020100003,,,0,-3,0,否,审核通过\n\
                2020100001,,,0,0,0,是,审核通过\n\
                2020100001,,,1,0,0,是,审核通过\n";
    let id = preview_id(&upload(&app, &cookie, "library.csv", file.as_bytes()).await);
    let shown = preview(&app, &cookie, &id).await;
    // 王小明's first row matches what is held; 李娜's older row is not counted with it.
    assert_eq!(
        shown["unchanged"], 1,
        "an older row is not 'unchanged': {shown:#}"
    );
    assert_eq!(shown["older"][0]["row"], 2, "{shown:#}");
    assert!(
        shown["older"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains("2026-06-20 08:00:00"),
        "{shown:#}"
    );
    let reasons = shown["bad"].to_string();
    assert!(reasons.contains("欠款金额"), "{reasons}");
    assert!(
        !reasons.contains("fines"),
        "the API's field names: {reasons}"
    );
    assert!(reasons.contains("出现了不止一次"), "{reasons}");
    assert_eq!(
        shown["bad"][1]["row"], 5,
        "the second row of 王小明: {shown:#}"
    );
    let page = app
        .page(&format!("/desk/import?id={id}"), Some(&cookie))
        .await;
    assert!(page.body.contains("较旧未导入 1 条"), "{}", page.body);
}

#[tokio::test]
async fn a_roster_uploaded_at_a_desk_is_refused_and_not_kept() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in(LIBRARY.0, LIBRARY.1).await;
    let roster = "学号,姓名,性别,现在年级,学院,专业,入学日期,离校类别,申请时间,身份证号\n\
                  2022000001,周一,男,2020级,资源学院,地质工程,2020-09-01,毕业离校,2023-06-01,11010519491231002X\n";
    let reply = upload(&app, &cookie, "名单.csv", roster.as_bytes()).await;
    assert_eq!(
        reply.location.as_deref(),
        Some("/desk/import?problem=roster"),
        "{reply:?}"
    );
    let other = upload(&app, &cookie, "x.csv", "姓名,电话\n王,1\n".as_bytes()).await;
    assert_eq!(
        other.location.as_deref(),
        Some("/desk/import?problem=header"),
        "{other:?}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM desk_imports").await, 0);
    let page = app.page("/desk/import?problem=roster", Some(&cookie)).await;
    assert!(page.body.contains("文件没有保存"), "{}", page.body);
}
