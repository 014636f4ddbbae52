//! Thousands of malformed, oversized, wrongly typed and missing arguments thrown at every
//! endpoint: each gets a clear 4xx (or an ordinary answer), never a 5xx, a panic, or a
//! word about SQL, constraints or stack traces.

use std::collections::BTreeMap;

use axum::{
    body::Body,
    http::{Method, Request},
};

use crate::common::{Reply, TestApp};

const ENDPOINTS: [&str; 8] = [
    "/api/login",
    "/api/logout",
    "/api/who_am_i",
    "/api/change_password",
    "/api/clearance",
    "/api/cancel_library_card",
    "/api/submit_departure",
    "/api/departure",
];
const PAGES: [&str; 6] = [
    "/login",
    "/hall",
    "/clearance",
    "/completed",
    "/completed/slip",
    "/password",
];
const FIELDS: [&str; 6] = [
    "student_number",
    "password",
    "current_password",
    "new_password",
    "confirm_password",
    "x",
];
const LEAKS: [&str; 9] = [
    "sqlx",
    "SQLITE",
    "sqlite",
    "constraint",
    "panicked",
    "backtrace",
    "database",
    "stack",
    "RUST_",
];

/// A small deterministic generator, so a failure can be replayed exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn text(&mut self) -> String {
        match self.below(9) {
            0 => String::new(),
            1 => "9".repeat(self.below(5000)),
            2 => "' OR 1=1; DROP TABLE students; --".to_owned(),
            3 => "%00%ff%fe%".to_owned(),
            4 => "2020100001".to_owned(),
            5 => "<script>alert(1)</script>".to_owned(),
            6 => "离校😀\u{202e}\u{0}".to_owned(),
            7 => (0..self.below(40))
                .map(|_| char::from(32 + self.below(95) as u8))
                .collect(),
            _ => "-1e309".to_owned(),
        }
    }
    fn bytes(&mut self) -> Vec<u8> {
        (0..self.below(300)).map(|_| self.next() as u8).collect()
    }
}

fn encode(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}

/// One generated request: a method, a content type and a body that may all be wrong.
fn bad_request(rng: &mut Rng, path: &str, cookie: Option<&str>) -> Request<Body> {
    let method = rng
        .pick(&[
            Method::POST,
            Method::POST,
            Method::POST,
            Method::GET,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ])
        .clone();
    let (content_type, body): (Option<&str>, Vec<u8>) = match rng.below(7) {
        0 => {
            // A form with random, repeated, missing and extra fields.
            let fields: Vec<String> = (0..rng.below(6))
                .map(|_| format!("{}={}", rng.pick(&FIELDS), encode(&rng.text())))
                .collect();
            (
                Some("application/x-www-form-urlencoded"),
                fields.join("&").into_bytes(),
            )
        }
        1 => (Some("application/x-www-form-urlencoded"), rng.bytes()),
        2 => (
            Some("application/json"),
            br#"{"student_number": 5, "password": [1, {"a": null}]}"#.to_vec(),
        ),
        3 => (Some("application/json"), rng.bytes()),
        4 => (
            Some("multipart/form-data; boundary=x"),
            b"--x\r\nContent-Disposition: form-data\r\n\r\n".to_vec(),
        ),
        5 => (None, rng.bytes()),
        _ => (Some("text/plain"), rng.text().into_bytes()),
    };
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    if rng.below(2) == 0 {
        builder = builder.header("accept", "application/json");
    } else {
        builder = builder.header("accept", "text/html");
    }
    match (cookie, rng.below(3)) {
        (Some(cookie), 0) => builder = builder.header("cookie", cookie),
        (_, 1) => builder = builder.header("cookie", "lixiao_session=%%%garbage%%%"),
        _ => {}
    }
    builder.body(Body::from(body)).expect("request")
}

#[tokio::test]
async fn thousands_of_bad_requests_get_clear_4xx_answers_and_leak_nothing() {
    let app = TestApp::with_demo_students().await;
    // 王小明 passes all four offices: only a real submission may create his departure.
    let mut cookie = app.sign_in("2020100001", "061234").await;
    let departures = || async {
        app.count("SELECT COUNT(*) FROM departures WHERE student_number = '2020100001'")
            .await
    };
    let mut rng = Rng(0x1a0_2020_0613);
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let mut submitted_by = None;
    let total = 3000;
    for round in 0..total {
        let path = if round % 10 == 9 {
            *rng.pick(&PAGES)
        } else {
            *rng.pick(&ENDPOINTS)
        };
        let request = bad_request(&mut rng, path, Some(&cookie));
        let described = format!(
            "#{round} {} {path} {:?}",
            request.method(),
            request.headers()
        );
        // Submitting takes no arguments, so whatever the body holds, a POST in the
        // student's own session is a submission. Nothing else may submit: no other
        // method, no request without the session.
        let well_formed = request.method() == Method::POST
            && request
                .headers()
                .get("cookie")
                .is_some_and(|value| value.to_str().is_ok_and(|value| value == cookie));
        let reply = Reply::read(app.send(request).await).await;
        *statuses.entry(reply.status.as_u16()).or_default() += 1;
        assert!(!reply.status.is_server_error(), "{described}: {reply:?}");
        for leak in LEAKS {
            assert!(
                !reply.body.contains(leak),
                "{described} leaks {leak:?}: {}",
                reply.body
            );
        }
        // Whatever created the departure must be a submission, and a well-formed one.
        if submitted_by.is_none() && departures().await > 0 {
            assert!(
                path == "/api/submit_departure" && well_formed,
                "{described} created a departure: {reply:?}"
            );
            submitted_by = Some(described.clone());
        }
        // A garbage call that happened to sign out: sign in again so the rest still counts.
        if path == "/api/logout"
            && app.post("/api/clearance", &[], Some(&cookie)).await.status == 401
        {
            cookie = app.sign_in("2020100001", "061234").await;
        }
    }
    println!("bad requests: {total}, statuses: {statuses:?}, submitted by: {submitted_by:?}");
    assert!(
        statuses.keys().any(|&status| (400..500).contains(&status)),
        "{statuses:?}"
    );
    assert!(departures().await <= 1, "submitted once at most");
}

#[tokio::test]
async fn malformed_arguments_get_a_clear_400_in_chinese() {
    let app = TestApp::with_demo_students().await;
    for body in [
        "student_number=2020100001",
        "password=x",
        "",
        "%zz=1",
        "student_number=a&student_number=b",
    ] {
        let request = Request::post("/api/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(Body::from(body))
            .expect("request");
        let reply = Reply::read(app.send(request).await).await;
        assert_eq!(reply.status.as_u16(), 400, "{body:?}: {reply:?}");
        assert!(
            reply.body.contains("BadRequest"),
            "{body:?}: {}",
            reply.body
        );
    }
}
