//! `/sync/v1`: the JSON API the offices' own systems push through (see
//! `docs/sync-api.md`, which is also the OpenAPI document's description).
//!
//! Its own router with its own layers: no cookies, no sessions, no cross-site check (no
//! browser calls it), a bearer token per office system, a larger body limit than the
//! pages and a rate limit per token. The handlers are thin: the records' checks live in
//! `app::sync`, the data code in `app::db::sync`.

use std::{cell::Cell, fmt, time::Duration};

use app::{
    clearance::rules::Office,
    config::SyncRate,
    db::sync::{self as data, SyncClient},
    rate::RateLimiter,
    state::AppState,
    sync::{
        ArchivesHeld, ArchivesPush, ArchivesRecord, ArchivesThesis, ChangeEntry, ChangesPage,
        ChargeRecord, ErrorAnswer, FinanceHeld, FinancePush, FinanceRecord, HeldOverride,
        HeldState, HousingHeld, HousingPush, HousingSyncRecord, LibraryHeld, LibraryPush,
        LibraryRecord, LibraryThesis, MAX_RECORDS, PushAnswer, RecordResult, RecordStatus,
        StandingCode, SyncRecord, VerdictCode,
    },
};
use axum::{
    Extension, Json, Router,
    body::Body,
    extract::{Path, Query, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{Next, from_fn, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::{any, get, post},
};
use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

/// The largest request body: 5,000 finance records with a few charges each fit.
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;
/// A push of 5,000 records on PostgreSQL takes seconds, not minutes; the changes
/// feed's documented margin is longer than this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Changes per page, by default and at most.
const PAGE: i64 = 500;
const MAX_PAGE: i64 = 1_000;

/// The API's routes with their layers; merged beside the pages by `routes::router`.
pub fn router(state: AppState) -> Router {
    let limiter = Limiter::new(state.config.sync_rate);
    let api = Router::new()
        .route("/sync/v1/library/records", post(push_library))
        .route("/sync/v1/archives/records", post(push_archives))
        .route("/sync/v1/housing/records", post(push_housing))
        .route("/sync/v1/finance/records", post(push_finance))
        .route("/sync/v1/library/students/{number}", get(held_library))
        .route("/sync/v1/archives/students/{number}", get(held_archives))
        .route("/sync/v1/housing/students/{number}", get(held_housing))
        .route("/sync/v1/finance/students/{number}", get(held_finance))
        // One route per office rather than `{office}`, which would clash with the
        // catch-all below; the token decides the office (`authenticate` checked the path).
        .route("/sync/v1/library/changes", get(changes))
        .route("/sync/v1/archives/changes", get(changes))
        .route("/sync/v1/housing/changes", get(changes))
        .route("/sync/v1/finance/changes", get(changes))
        .route("/sync/v1/{*rest}", any(not_found))
        .layer(from_fn_with_state(limiter, rate_limit))
        .layer(from_fn_with_state(state.clone(), authenticate))
        .with_state(state);
    Router::new()
        .route("/sync/v1/openapi.json", get(openapi_json))
        .merge(api)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn(time_limit))
        .layer(from_fn(api_headers))
        .layer(crate::telemetry::http_trace())
}

/// An error answer: status, stable code, Chinese message.
struct Refusal {
    status: StatusCode,
    answer: ErrorAnswer,
}

impl Refusal {
    fn new(status: StatusCode, error: &str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            answer: ErrorAnswer {
                error: error.to_owned(),
                message: message.into(),
                record_index: None,
            },
        }
    }

    /// The database failed. A push writes in chunks, so part of it may be saved:
    /// sending it again is safe (pushes are idempotent).
    fn unavailable(error: impl fmt::Display) -> Self {
        tracing::error!("sync API: {error}");
        Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "数据库暂时不可用，请稍后重试。报送请求可能已部分应用；重复报送是安全的，请重新报送整批。",
        )
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.answer)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// A request still running after [`REQUEST_TIMEOUT`] is answered 503 in the API's
/// own shape (a push may be partly applied by then; repeating it is safe).
async fn time_limit(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!(
                "处理超过 {} 秒，已中止：报送请求可能已部分应用；重复报送是安全的，请分成较小的批次重新报送。",
                REQUEST_TIMEOUT.as_secs()
            ),
        )
        .into_response(),
    }
}

async fn method_not_allowed() -> Refusal {
    Refusal::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "此接口不支持该请求方法：报送用 POST，查询用 GET（见 /sync/v1/openapi.json）。",
    )
}

/// Answers are for one caller, never cached, never sniffed.
async fn api_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Bearer token → the office system, for the handlers; and a token reads and writes
/// only its own office.
async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            // The scheme's name is case-insensitive (RFC 9110).
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(token)
        })
        .map(str::trim)
        .filter(|token| !token.is_empty());
    let Some(token) = token else {
        return Refusal::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "缺少访问令牌：请在请求头中携带 Authorization: Bearer <令牌>。",
        )
        .into_response();
    };
    let client = match data::client_for(&state.db, token).await {
        Ok(Some(client)) => client,
        Ok(None) => {
            return Refusal::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "访问令牌无效或已被吊销：请联系离校系统管理员。",
            )
            .into_response();
        }
        Err(error) => return Refusal::unavailable(error).into_response(),
    };
    let office = request
        .uri()
        .path()
        .strip_prefix("/sync/v1/")
        .and_then(|rest| rest.split('/').next())
        .and_then(Office::from_code);
    if let Some(office) = office
        && office != client.office
    {
        return Refusal::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "此令牌属于{}，不能读写{}的数据。",
                client.office.name(),
                office.name()
            ),
        )
        .into_response();
    }
    request.extensions_mut().insert(client);
    next.run(request).await
}

/// The token bucket per token name: `LIXIAO_SYNC_RATE_PER_SECOND` up to
/// `LIXIAO_SYNC_BURST`.
#[derive(Clone)]
struct Limiter {
    rate: SyncRate,
    buckets: RateLimiter,
}

impl Limiter {
    fn new(rate: SyncRate) -> Self {
        Limiter {
            rate,
            buckets: RateLimiter::new(f64::from(rate.per_second), f64::from(rate.burst)),
        }
    }

    fn allow(&self, name: &str) -> bool {
        self.buckets.allow(name)
    }
}

async fn rate_limit(State(limiter): State<Limiter>, request: Request, next: Next) -> Response {
    let allowed = request
        .extensions()
        .get::<SyncClient>()
        .is_none_or(|client| limiter.allow(&client.name));
    if !allowed {
        return Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "请求过于频繁：每个令牌每秒最多 {} 次请求，请稍后重试。",
                limiter.rate.per_second
            ),
        )
        .into_response();
    }
    next.run(request).await
}

async fn not_found() -> Refusal {
    Refusal::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "没有这个接口：请查看 /sync/v1/openapi.json。",
    )
}

// ----- pushes -----

/// How far the request's JSON was read when it failed.
#[derive(Default)]
struct Progress {
    /// The index of the record being read (None outside the `records` array).
    at: Cell<Option<usize>>,
    too_many: Cell<bool>,
}

/// `{"records": [...]}` read record by record, so a syntax error can name its record
/// and a request with too many records stops at the first one too many.
struct Envelope<'a>(&'a Progress);

impl<'de> DeserializeSeed<'de> for Envelope<'_> {
    type Value = Vec<serde_json::Value>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Envelope<'_> {
    type Value = Vec<serde_json::Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(r#"an object {"records": [...]}"#)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut records = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "records" {
                return Err(A::Error::custom(format!(
                    "unknown field `{key}`, expected `records`"
                )));
            }
            records = Some(map.next_value_seed(Records(self.0))?);
        }
        records.ok_or_else(|| A::Error::missing_field("records"))
    }
}

struct Records<'a>(&'a Progress);

impl<'de> DeserializeSeed<'de> for Records<'_> {
    type Value = Vec<serde_json::Value>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_> {
    type Value = Vec<serde_json::Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut records = Vec::new();
        loop {
            self.0.at.set(Some(records.len()));
            let Some(record) = seq.next_element::<serde_json::Value>()? else {
                break;
            };
            if records.len() == MAX_RECORDS {
                self.0.too_many.set(true);
                return Err(A::Error::custom("too many records"));
            }
            records.push(record);
        }
        self.0.at.set(None);
        Ok(records)
    }
}

/// Reads the body (at most [`BODY_LIMIT`]) into its records, each still raw JSON.
async fn read_records(body: Body) -> Result<Vec<serde_json::Value>, Refusal> {
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "请求体超过 {} MiB：请分批报送（每次最多 {MAX_RECORDS} 条记录）。",
                BODY_LIMIT / 1024 / 1024
            ),
        )
    };
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| too_large())?;
    let progress = Progress::default();
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let read = Envelope(&progress)
        .deserialize(&mut deserializer)
        .and_then(|records| deserializer.end().map(|()| records));
    match read {
        Ok(records) => Ok(records),
        Err(_) if progress.too_many.get() => Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_records",
            format!("一次最多报送 {MAX_RECORDS} 条记录：请分批报送。"),
        )),
        Err(error) => {
            let index = progress.at.get();
            let place = match index {
                Some(index) => format!("第 {index} 条记录（records[{index}]，从 0 起）处"),
                None => "请求体".to_owned(),
            };
            let mut refusal = Refusal::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!(
                    "JSON 格式错误，{place}无法解析（第 {} 行第 {} 列附近{}）。本次请求未应用任何记录。",
                    error.line(),
                    error.column().max(1),
                    if error.is_eof() {
                        "，内容不完整"
                    } else {
                        ""
                    }
                ),
            );
            refusal.answer.record_index = index;
            Err(refusal)
        }
    }
}

/// A push of `R` records by the office system `client`.
async fn push<R: SyncRecord>(
    state: AppState,
    client: SyncClient,
    body: Body,
) -> Result<Json<PushAnswer>, Refusal> {
    let raw = read_records(body).await?;
    let now = app::clock::now();
    let mut results = Vec::with_capacity(raw.len());
    let mut valid = Vec::with_capacity(raw.len());
    for (index, value) in raw.into_iter().enumerate() {
        let student_number = value
            .get("student_number")
            .and_then(|number| number.as_str())
            .map(str::to_owned);
        let rejected = |reason: String| RecordResult {
            index,
            student_number: student_number.clone(),
            status: RecordStatus::Rejected,
            reason: Some(reason),
            held_as_of: None,
        };
        match app::sync::read_record::<R>(value) {
            Err(reason) => results.push(rejected(reason)),
            Ok(record) => match record.check(now) {
                Err(reason) => results.push(rejected(reason)),
                Ok(incoming) => valid.push((index, incoming)),
            },
        }
    }
    let applied = data::push(&state.db, R::OFFICE, &client.name, valid, now)
        .await
        .map_err(Refusal::unavailable)?;
    results.extend(applied);
    results.sort_by_key(|result| result.index);
    Ok(Json(PushAnswer::new(R::OFFICE, results)))
}

// ----- reads -----

/// What is held of `R`'s office about one student, as `(state, record)`.
async fn held<R: SyncRecord>(
    state: &AppState,
    number: &str,
) -> Result<(HeldState, Option<R>), Refusal> {
    match data::held(&state.db, R::OFFICE, number).await {
        Ok(Some((held, report))) => {
            let as_of = held
                .as_of
                .clone()
                .or_else(|| held.reported_at.clone())
                .unwrap_or_default();
            let record = report.map(|report| R::held(number, as_of, &report));
            Ok((held, record))
        }
        Ok(None) => Err(Refusal::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("学号 {number} 不在离校学生名单中。"),
        )),
        Err(error) => Err(Refusal::unavailable(error)),
    }
}

#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read from the pairs by hand; the struct documents them
struct ChangesQuery {
    /// Only changes at or after this time (RFC 3339).
    since: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Changes per page: 1–1000, 500 when absent.
    limit: Option<i64>,
}

/// One page of an office's changes.
#[utoipa::path(
    get,
    path = "/sync/v1/{office}/changes",
    tag = "changes",
    params(
        ("office" = String, Path, description = "library, archives, housing or finance (the token's own)"),
        ChangesQuery,
    ),
    responses(
        (status = 200, description = "A page of changes, oldest first", body = ChangesPage),
        (status = 400, description = "A bad since, cursor or limit", body = ErrorAnswer),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorAnswer),
        (status = 403, description = "Another office's changes", body = ErrorAnswer),
        (status = 404, description = "No such office", body = ErrorAnswer),
        (status = 429, description = "Too many requests", body = ErrorAnswer),
        (status = 503, description = "The database is unavailable", body = ErrorAnswer),
    ),
    security(("bearer" = []))
)]
async fn changes(
    State(state): State<AppState>,
    Extension(client): Extension<SyncClient>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<ChangesPage>, Refusal> {
    let bad = |message: &str| Refusal::new(StatusCode::BAD_REQUEST, "bad_request", message);
    // Read by hand, so that any bad value is answered in the API's shape and words.
    let mut since = None;
    let mut cursor = None;
    let mut limit = None;
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "since" => &mut since,
            "cursor" => &mut cursor,
            "limit" => &mut limit,
            _ => return Err(bad("不认识的查询参数：只可使用 since、cursor、limit。")),
        };
        if slot.replace(value).is_some() {
            return Err(bad("查询参数重复：since、cursor、limit 各只能出现一次。"));
        }
    }
    let since = since
        .as_deref()
        .map(|since| {
            time::OffsetDateTime::parse(since, &time::format_description::well_known::Rfc3339)
                .map_err(|_| {
                    bad("since 须为 RFC 3339 时间，如 2026-06-20T00:00:00Z（在网址中“+”须写成 %2B）。")
                })
        })
        .transpose()?;
    let after = match cursor.as_deref() {
        None | Some("") => 0,
        Some(cursor) => cursor
            .parse::<i64>()
            .ok()
            .filter(|after| *after >= 0)
            .ok_or_else(|| bad("cursor 无效：请使用上一页返回的 next_cursor。"))?,
    };
    let limit = match limit.as_deref() {
        None => PAGE,
        Some(limit) => limit
            .parse::<i64>()
            .ok()
            .filter(|limit| (1..=MAX_PAGE).contains(limit))
            .ok_or_else(|| bad("limit 须为 1 至 1000 的整数。"))?,
    };
    let (changes, next) = data::changes(&state.db, client.office, since, after, limit)
        .await
        .map_err(Refusal::unavailable)?;
    Ok(Json(ChangesPage {
        changes,
        next_cursor: next.map(|id| id.to_string()),
    }))
}

/// The four offices' push and read handlers: the same code, each with its own
/// documented record type.
macro_rules! office_endpoints {
    ($push:ident, $held:ident, $record:ty, $body:ident, $answer:ident, $tag:literal,
     $push_path:literal, $held_path:literal) => {
        /// Pushes records (see the document's description for the semantics).
        #[utoipa::path(
            post,
            path = $push_path,
            tag = $tag,
            request_body = $body,
            responses(
                (status = 200, description = "One result per record", body = PushAnswer),
                (status = 400, description = "JSON that cannot be read; nothing applied", body = ErrorAnswer),
                (status = 401, description = "No token, or an unknown or revoked one", body = ErrorAnswer),
                (status = 403, description = "The token belongs to another office", body = ErrorAnswer),
                (status = 413, description = "More than 8 MiB or 5,000 records; nothing applied", body = ErrorAnswer),
                (status = 429, description = "Too many requests", body = ErrorAnswer),
                (status = 503, description = "The database is unavailable, or the request took too long: part of a push may be applied, and sending it again is safe", body = ErrorAnswer),
            ),
            security(("bearer" = []))
        )]
        async fn $push(
            State(state): State<AppState>,
            Extension(client): Extension<SyncClient>,
            body: Body,
        ) -> Result<Json<PushAnswer>, Refusal> {
            push::<$record>(state, client, body).await
        }

        /// What Lixiao holds about one student.
        #[utoipa::path(
            get,
            path = $held_path,
            tag = $tag,
            params(("number" = String, Path, description = "学号")),
            responses(
                (status = 200, description = "What Lixiao holds", body = $answer),
                (status = 401, description = "No token, or an unknown or revoked one", body = ErrorAnswer),
                (status = 403, description = "The token belongs to another office", body = ErrorAnswer),
                (status = 404, description = "No such student", body = ErrorAnswer),
                (status = 429, description = "Too many requests", body = ErrorAnswer),
                (status = 503, description = "The database is unavailable", body = ErrorAnswer),
            ),
            security(("bearer" = []))
        )]
        async fn $held(
            State(state): State<AppState>,
            Path(number): Path<String>,
        ) -> Result<Json<$answer>, Refusal> {
            let (held, record) = held::<$record>(&state, &number).await?;
            Ok(Json($answer {
                student_number: number,
                state: held,
                record,
            }))
        }
    };
}

office_endpoints!(
    push_library,
    held_library,
    LibraryRecord,
    LibraryPush,
    LibraryHeld,
    "library",
    "/sync/v1/library/records",
    "/sync/v1/library/students/{number}"
);
office_endpoints!(
    push_archives,
    held_archives,
    ArchivesRecord,
    ArchivesPush,
    ArchivesHeld,
    "archives",
    "/sync/v1/archives/records",
    "/sync/v1/archives/students/{number}"
);
office_endpoints!(
    push_housing,
    held_housing,
    HousingSyncRecord,
    HousingPush,
    HousingHeld,
    "housing",
    "/sync/v1/housing/records",
    "/sync/v1/housing/students/{number}"
);
office_endpoints!(
    push_finance,
    held_finance,
    FinanceRecord,
    FinancePush,
    FinanceHeld,
    "finance",
    "/sync/v1/finance/records",
    "/sync/v1/finance/students/{number}"
);

// ----- the document -----

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lixiao sync API",
        version = "1",
        description = include_str!("../../docs/sync-api.md"),
    ),
    paths(
        push_library, held_library,
        push_archives, held_archives,
        push_housing, held_housing,
        push_finance, held_finance,
        changes,
    ),
    components(schemas(
        LibraryRecord, ArchivesRecord, HousingSyncRecord, FinanceRecord, ChargeRecord,
        LibraryThesis, ArchivesThesis,
        LibraryPush, ArchivesPush, HousingPush, FinancePush,
        PushAnswer, RecordResult, RecordStatus,
        LibraryHeld, ArchivesHeld, HousingHeld, FinanceHeld, HeldState, HeldOverride,
        StandingCode, VerdictCode, ChangesPage, ChangeEntry, ErrorAnswer,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "library", description = "图书馆"),
        (name = "archives", description = "档案馆"),
        (name = "housing", description = "总务部公寓与物业中心"),
        (name = "finance", description = "财务资产部收费管理办公室"),
        (name = "changes", description = "What changed, for reconciling"),
    )
)]
pub struct SyncApi;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token made by `server sync-token add NAME OFFICE`"))
                    .build(),
            ),
        );
    }
}

/// The document as served and as committed in `docs/sync-openapi.json`.
pub fn openapi_document() -> String {
    let mut text = SyncApi::openapi()
        .to_pretty_json()
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"));
    text.push('\n');
    text
}

async fn openapi_json() -> Response {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let document = DOCUMENT.get_or_init(openapi_document).clone();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        document,
    )
        .into_response()
}
