//! Slips anyone can verify: the serial and the QR code on the slip, the public
//! /verify pages (valid, revoked, unknown, tampered, another student's), the limit per
//! address, the graduate school's look-up, and slips from before serials.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};

use crate::common::{Reply, TEST_PUBLIC_URL, TestApp};

const LIU_YANG: (&str, &str) = ("2020100004", "150027");
const WANG: (&str, &str) = ("2020100001", "061234");
const GRADUATE_SCHOOL: (&str, &str) = ("gradschool_demo", "Gradschool-demo-2020");

/// The QR code in an SVG drawn by `app::verify::qr`, read back as a phone would: the
/// dark modules painted into a grey image, then found and decoded by rqrr.
fn decode_qr(svg: &str) -> String {
    let number = |after: &str| -> usize {
        let start = svg.find(after).expect(after) + after.len();
        svg[start..]
            .split('"')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a number")
    };
    let size = number("width=\"");
    let path_start = svg.find(" d=\"").expect("a path") + 4;
    let path = &svg[path_start..path_start + svg[path_start..].find('"').expect("end")];
    let mut pixels = vec![255u8; size * size];
    // Each module is `Mx yhWvHH…V…`: a filled square at (x, y), W wide, H high.
    for square in path.split('M').filter(|s| !s.is_empty()) {
        let (xy, rest) = square.split_once('h').expect("h");
        let (x, y) = xy.split_once(' ').expect("x y");
        let (w, rest) = rest.split_once('v').expect("v");
        let h = rest.split('H').next().expect("H");
        let [x, y, w, h]: [usize; 4] = [x, y, w, h].map(|n| n.trim().parse().expect("number"));
        for row in y..y + h {
            for column in x..x + w {
                pixels[row * size + column] = 0;
            }
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| pixels[y * size + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the SVG");
    grids[0].decode().expect("the QR code decodes").1
}

fn qr_svg(page: &str) -> &str {
    let start = page
        .find("<svg class=\"slip-qr\"")
        .expect("the slip has a QR code");
    let end = start + page[start..].find("</svg>").expect("svg ends") + "</svg>".len();
    &page[start..end]
}

/// The verification result block of a /verify page (the rest differs by nonce).
fn result_block(page: &str) -> String {
    let start = page.find("class=\"verify-result").unwrap_or(0);
    let end = page[start..]
        .find("</div>")
        .map_or(page.len(), |end| start + end);
    page[start..end].to_owned()
}

async fn serial_and_tag(app: &TestApp, student: &str) -> (String, String) {
    let serial = app
        .text(&format!(
            "SELECT serial FROM departures WHERE student_number = '{student}' AND revoked_at IS NULL"
        ))
        .await
        .expect("a serial");
    let tag = app
        .text(&format!(
            "SELECT tag FROM departures WHERE serial = '{serial}'"
        ))
        .await
        .expect("a tag");
    (serial, tag)
}

/// A public GET with no cookie, from a browser.
async fn public(app: &TestApp, path: &str) -> Reply {
    app.page(path, None).await
}

/// `serial` with its last character changed to another valid one.
fn changed(code: &str) -> String {
    let mut bytes = code.as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'7' { b'8' } else { b'7' };
    String::from_utf8(bytes).expect("ascii")
}

#[tokio::test]
async fn the_slip_prints_its_serial_and_a_qr_code_of_its_verification_link() {
    let app = TestApp::with_demo_students().await;
    let student = app.sign_in(LIU_YANG.0, LIU_YANG.1).await;
    let (serial, tag) = serial_and_tag(&app, LIU_YANG.0).await;
    assert_eq!(serial.len(), 16, "80 bits in base32: {serial}");
    assert!(
        tag.starts_with("t1-"),
        "tagged under the configured key: {tag}"
    );

    // The Host header is the client's to choose: the link never comes from it.
    let request = Request::get("/completed/slip")
        .header("accept", "text/html")
        .header("host", "phish.example")
        .header("cookie", &student)
        .body(Body::empty())
        .expect("request");
    let page = Reply::read(app.send(request).await).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let grouped = app::verify::grouped(&serial);
    assert!(
        page.body.contains(&grouped),
        "the serial in groups: {grouped}"
    );
    assert!(
        page.body
            .contains("研究生凭打印出的离校流程单领取毕业证学位证")
    );
    let link = decode_qr(qr_svg(&page.body));
    assert_eq!(link, format!("{TEST_PUBLIC_URL}/verify/{serial}.{tag}"));
    assert!(!page.body.contains("phish.example"));
}

#[tokio::test]
async fn a_valid_slip_shows_only_what_a_checker_needs() {
    let app = TestApp::with_demo_students().await;
    let (serial, tag) = serial_and_tag(&app, LIU_YANG.0).await;
    let reply = public(&app, &format!("/verify/{serial}.{tag}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = &reply.body;
    for shown in [
        "有效",
        "刘*",
        "2020****04",
        "计算机科学与技术学院",
        "毕业离校",
        "2020-06-09",
    ] {
        assert!(body.contains(shown), "{shown} missing");
    }
    for hidden in ["刘洋", "2020100004", "计算机技术", "150027"] {
        assert!(!body.contains(hidden), "{hidden} must not be shown");
    }
    assert_eq!(
        reply
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert_eq!(
        reply
            .headers
            .get("x-robots-tag")
            .and_then(|v| v.to_str().ok()),
        Some("noindex, nofollow")
    );
    assert!(body.contains(r#"<meta name="robots" content="noindex, nofollow""#));

    // Typed as printed, or carelessly: lower case, spaces, O for 0.
    let typed = app::verify::grouped(&serial)
        .to_lowercase()
        .replace('-', " ");
    let typed = reply_for_typed(&app, &typed).await;
    assert_eq!(typed.status, StatusCode::OK);
    assert!(
        typed.body.contains("2020****04"),
        "{}",
        result_block(&typed.body)
    );
}

async fn reply_for_typed(app: &TestApp, typed: &str) -> Reply {
    let encoded: String = typed
        .chars()
        .map(|c| if c == ' ' { '+' } else { c })
        .collect();
    public(app, &format!("/verify?serial={encoded}")).await
}

#[tokio::test]
async fn unknown_serials_tampered_tags_and_borrowed_tags_answer_alike() {
    let app = TestApp::with_demo_students().await;
    // 王小明 passes all four: his departure gives a second, real serial.
    let wang = app.sign_in(WANG.0, WANG.1).await;
    let submitted = app.post("/api/submit_departure", &[], Some(&wang)).await;
    assert!(submitted.status.is_success(), "{submitted:?}");
    let (serial, tag) = serial_and_tag(&app, LIU_YANG.0).await;
    let (wang_serial, wang_tag) = serial_and_tag(&app, WANG.0).await;
    let keys = app.state.slip_keys().expect("key");
    let unknown = app::verify::new_serial();
    let forgeries = [
        // A serial nobody was given, with a tag of the right form.
        format!("{unknown}.{tag}"),
        // The real serial with one character of the tag changed.
        format!("{serial}.{}", changed(&tag)),
        // 王小明's serial under 刘洋's tag, and the other way round.
        format!("{wang_serial}.{tag}"),
        format!("{serial}.{wang_tag}"),
        // A tag made with the real key for this serial but another student.
        format!("{serial}.{}", keys.tag(&serial, WANG.0)),
        // A key id the server does not know.
        format!("{serial}.{}", tag.replacen("t1-", "t9-", 1)),
        // Not even the link's form.
        serial.clone(),
        format!("{serial}.garbage"),
    ];
    let mut blocks = Vec::new();
    for code in &forgeries[..6] {
        let reply = public(&app, &format!("/verify/{code}")).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{code}");
        assert!(reply.body.contains("未找到此离校流程单"), "{code}");
        assert!(
            !reply.body.contains("刘*") && !reply.body.contains("王*明"),
            "{code}"
        );
        blocks.push(result_block(&reply.body));
    }
    assert!(
        blocks.windows(2).all(|pair| pair[0] == pair[1]),
        "every refusal reads the same: {blocks:#?}"
    );
    // A tag that is not of the tag's form is as unknown as a wrong one.
    let garbage = public(&app, &format!("/verify/{}", forgeries[7])).await;
    assert_eq!(garbage.status, StatusCode::NOT_FOUND);
    assert_eq!(result_block(&garbage.body), blocks[0]);
    // The serial alone in the path is the typed check (the serial cannot be guessed).
    let bare = public(&app, &format!("/verify/{}", forgeries[6])).await;
    assert_eq!(bare.status, StatusCode::OK);
    assert!(bare.body.contains("刘*"));
    // The real links still verify, each as its own student.
    let liu = public(&app, &format!("/verify/{serial}.{tag}")).await;
    assert!(liu.body.contains("刘*"));
    let wang_page = public(&app, &format!("/verify/{wang_serial}.{wang_tag}")).await;
    assert!(
        wang_page.body.contains("王*明"),
        "{}",
        result_block(&wang_page.body)
    );

    // The typed form: an unknown serial is unknown; something that is not a serial says
    // how one looks.
    let typed = reply_for_typed(&app, &app::verify::grouped(&unknown)).await;
    assert_eq!(typed.status, StatusCode::NOT_FOUND);
    let typo = reply_for_typed(&app, "12345").await;
    assert!(typo.body.contains("16 位字母和数字"), "{}", typo.body);
}

#[tokio::test]
async fn a_revoked_slip_says_so_with_its_date() {
    let app = TestApp::with_demo_students().await;
    let (serial, tag) = serial_and_tag(&app, LIU_YANG.0).await;
    let school = app.sign_in(GRADUATE_SCHOOL.0, GRADUATE_SCHOOL.1).await;
    let revoked = app
        .post(
            "/api/revoke_departure",
            &[
                ("slip_number", "LX202006092020100004"),
                ("reason", "学位证信息有误"),
                ("confirm", "on"),
            ],
            Some(&school),
        )
        .await;
    assert!(
        revoked.status.is_success() || revoked.status.is_redirection(),
        "{revoked:?}"
    );
    let today = app::db::Instant::new(app::clock::now()).beijing_date();
    for path in [
        format!("/verify/{serial}.{tag}"),
        format!("/verify?serial={serial}"),
    ] {
        let reply = public(&app, &path).await;
        assert_eq!(reply.status, StatusCode::OK);
        let block = result_block(&reply.body);
        assert!(block.contains("已撤销"), "{block}");
        assert!(
            block.contains(&today),
            "the date of the revocation: {block}"
        );
        assert!(
            !reply.body.contains("刘*"),
            "nothing of the student: {block}"
        );
        assert!(!reply.body.contains("学位证信息有误"), "nor the reason");
    }
}

#[tokio::test]
async fn checks_are_limited_per_address() {
    let app = TestApp::with_env_and_demo_students(&[("LIXIAO_VERIFY_PER_MINUTE", "3")]).await;
    let (serial, tag) = serial_and_tag(&app, LIU_YANG.0).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let reply = public(&app, &format!("/verify/{serial}.{tag}")).await;
        statuses.push(reply.status);
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(reply.body.contains("查询过于频繁"), "{}", reply.body);
            assert!(!reply.body.contains("刘*"));
        }
    }
    let limited = public(&app, &format!("/verify/{serial}.{tag}")).await;
    assert_eq!(
        limited
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("60")
    );
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // The server function behind the page is the same check, under the same limit.
    let direct = app
        .post("/api/verify", &[("code", &format!("{serial}.{tag}"))], None)
        .await;
    assert_eq!(direct.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_graduate_school_finds_the_whole_record_by_serial() {
    let app = TestApp::with_demo_students().await;
    let (serial, _) = serial_and_tag(&app, LIU_YANG.0).await;
    let school = app.sign_in(GRADUATE_SCHOOL.0, GRADUATE_SCHOOL.1).await;
    let typed = app::verify::grouped(&serial).to_lowercase();
    let list = app
        .page(&format!("/desk/departures?q={typed}"), Some(&school))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("共 1 份离校流程"), "found by serial");
    assert!(list.body.contains("2020100004") && list.body.contains("刘洋"));
    let record = app
        .page(
            "/desk/departures/revoke?n=LX202006092020100004",
            Some(&school),
        )
        .await;
    for shown in [
        app::verify::grouped(&serial).as_str(),
        "刘洋",
        "2020100004",
        "计算机技术",
        "毕业离校",
    ] {
        assert!(record.body.contains(shown), "{shown} on the record");
    }
    // Not for a student, nor for an office.
    let student = app.sign_in(LIU_YANG.0, LIU_YANG.1).await;
    let refused = app
        .page(&format!("/desk/departures?q={typed}"), Some(&student))
        .await;
    assert!(!refused.body.contains("共 1 份离校流程"));
}

#[tokio::test]
async fn slips_from_before_serials_get_their_tag_at_start_up_and_verify() {
    let app = TestApp::with_demo_students().await;
    // What the migration leaves: a serial, no tag.
    app.exec("UPDATE departures SET tag = NULL").await;
    let keys = app.state.slip_keys().expect("key");
    assert_eq!(
        app::db::slips::tag_untagged(&app.state.db, keys)
            .await
            .expect("tags"),
        1
    );
    assert_eq!(
        app::db::slips::tag_untagged(&app.state.db, keys)
            .await
            .expect("tags"),
        0
    );
    let (serial, tag) = serial_and_tag(&app, LIU_YANG.0).await;
    assert_eq!(tag, keys.tag(&serial, LIU_YANG.0));
    let student = app.sign_in(LIU_YANG.0, LIU_YANG.1).await;
    let slip = app.page("/completed/slip", Some(&student)).await;
    assert_eq!(
        decode_qr(qr_svg(&slip.body)),
        format!("{TEST_PUBLIC_URL}/verify/{serial}.{tag}")
    );
    let reply = public(&app, &format!("/verify/{serial}.{tag}")).await;
    assert!(reply.body.contains("有效"), "{}", result_block(&reply.body));
}

#[tokio::test]
async fn a_rotated_key_still_verifies_the_slips_printed_under_the_old_one() {
    let app = TestApp::with_demo_students().await;
    let (serial, tag) = serial_and_tag(&app, LIU_YANG.0).await;
    let rotated = TestApp::with_env(&[
        (
            "LIXIAO_SLIP_KEY",
            "t2:a-new-key-for-the-next-cohort-0123456789",
        ),
        ("LIXIAO_SLIP_OLD_KEYS", crate::common::TEST_SLIP_KEY),
    ])
    .await;
    let on_rotated = rotated.second_server_of(&app).await;
    let reply = public(&on_rotated, &format!("/verify/{serial}.{tag}")).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        result_block(&reply.body)
    );
    let forgotten = TestApp::with_env(&[(
        "LIXIAO_SLIP_KEY",
        "t2:a-new-key-for-the-next-cohort-0123456789",
    )])
    .await
    .second_server_of(&app)
    .await;
    let reply = public(&forgotten, &format!("/verify/{serial}.{tag}")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "the old key is gone");
    // Its start-up pass re-tags the slip under the new key: a reprint verifies again.
    let keys = forgotten.state.slip_keys().expect("key");
    assert_eq!(
        app::db::slips::tag_untagged(&forgotten.state.db, keys)
            .await
            .expect("tags"),
        1
    );
    let (_, new_tag) = serial_and_tag(&app, LIU_YANG.0).await;
    assert!(new_tag.starts_with("t2-"), "{new_tag}");
    let reply = public(&forgotten, &format!("/verify/{serial}.{new_tag}")).await;
    assert_eq!(reply.status, StatusCode::OK);
}
