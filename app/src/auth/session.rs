//! Who is signed in: the server-side session, checked against the account on every call.

//!
//! Two limits (both configurable, see `Config`): a session unused for the idle limit
//! (30 minutes) ends, and however active, it ends at the absolute limit (12 hours) after
//! sign-in. The session store only writes a session (and so pushes its expiry out) when
//! it changes, so activity is recorded as a change: at most once per
//! [`touch_interval`], which keeps departure-day page views from writing on every request.

use std::{net::IpAddr, time::Duration};

use tower_sessions::Session;

use crate::{
    AppError,
    db::{
        accounts::{self, SessionState},
        audit::{self, Event, Who},
    },
    net::ClientInfo,
    state::AppState,
};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "lixiao_session";
/// The signed-in login (the session store keeps it in a column of its own too, to read
/// the account with the session).
pub const LOGIN_KEY: &str = "login";
/// The account's state, as the session store read it together with the session: put
/// there by the store on every load, never stored ([`SessionState`]).
pub const ACCOUNT_KEY: &str = "account";
/// The account's `session_generation` when the session was opened.
const GENERATION_KEY: &str = "generation";
const SIGNED_IN_AT_KEY: &str = "signed_in_at";
/// When the session was last marked as used (Unix seconds).
const SEEN_AT_KEY: &str = "seen_at";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub login: String,
    pub role: String,
    /// Set for student accounts only.
    pub student_number: Option<String>,
    pub must_change_password: bool,
    /// What the page header shows: the student's name, or the staff login.
    pub display_name: String,
}

/// This request's answer of [`signed_in`], worked out once: for a page, before it
/// renders ([`read_before_render`]); else by whatever asks first (a server function, a
/// page drawn outside the app's routes, whose header and content ask at the same time),
/// and each answer costs a database statement. Made fresh for every request by [`attach_memo`],
/// which puts it in the request's extensions (the pages' context and the PWA's page tags
/// read it there); signing in or out in the request starts it afresh.
#[derive(Clone, Default)]
pub struct SignedInMemo(std::sync::Arc<std::sync::Mutex<Memo>>);

#[derive(Default)]
struct Memo {
    answer: std::sync::Arc<tokio::sync::OnceCell<Option<SignedIn>>>,
    /// Signed in or out during this request: the cookie it came with is stale, and the
    /// session object (in memory) is the truth.
    changed: bool,
    /// The clearance page of the signed-in student, read with the session on the
    /// clearance routes ([`PAGE_WITH_SESSION`]), for [`take_clearance_page`].
    page: Option<(String, crate::db::clearance::StudentPage)>,
}

/// The routes whose one need is the signed-in student's clearance page: the page and
/// its server function read it in the session's own statement.
const PAGE_WITH_SESSION: [&str; 2] = ["/clearance", "/api/clearance"];

impl SignedInMemo {
    fn answer(
        &self,
    ) -> (
        std::sync::Arc<tokio::sync::OnceCell<Option<SignedIn>>>,
        bool,
    ) {
        self.0
            .lock()
            .map(|memo| (memo.answer.clone(), memo.changed))
            .unwrap_or_default()
    }

    fn reset(&self) {
        if let Ok(mut memo) = self.0.lock() {
            *memo = Memo {
                changed: true,
                ..Memo::default()
            };
        }
    }

    /// The login this request was answered for, once [`signed_in`] has answered
    /// (`Some(None)`: nobody is signed in); `None` if it was not asked, or the session
    /// changed during the request.
    pub fn answered_login(&self) -> Option<Option<String>> {
        let memo = self.0.lock().ok()?;
        if memo.changed {
            return None;
        }
        memo.answer
            .get()
            .map(|answer| answer.as_ref().map(|signed_in| signed_in.login.clone()))
    }
}

/// Gives every request its own [`SignedInMemo`] (a middleware, inside the session layer).
pub async fn attach_memo(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    request.extensions_mut().insert(SignedInMemo::default());
    next.run(request).await
}

/// Works out who is signed in before a page renders (a middleware on the app's routes):
/// the page then draws its header, its guard and (on [`PAGE_WITH_SESSION`]) its content
/// at once from [`answered`], instead of suspending on the same answer: the clearance
/// page took 650–700 µs of server time this way against 1,080–1,160 µs suspended
/// (wrk, 64 connections). Pages only: a GET outside the server functions' prefix. A
/// failure is left for the page, which asks again and shows it.
pub async fn read_before_render(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let is_page = request.method() == http::Method::GET
        && !request.uri().path().starts_with(crate::API_PREFIX);
    if is_page
        && let (Some(memo), Some(session)) = (
            request.extensions().get::<SignedInMemo>().cloned(),
            request.extensions().get::<Session>().cloned(),
        )
    {
        let (answer, changed) = memo.answer();
        // Never changed yet: only server functions sign in or out. Kept as the rule
        // every reader of the memo follows.
        if !changed {
            let id = session_id(request.headers());
            let path = request.uri().path();
            let _ = answer
                .get_or_try_init(|| {
                    signed_in_by_cookie(&state, &memo, path, id.as_deref(), || async {
                        Ok(session)
                    })
                })
                .await;
        }
    }
    next.run(request).await
}

/// This request's answer of [`signed_in`], if it has been worked out already (for a
/// page, by [`read_before_render`]) and still holds: what a page can draw without
/// waiting.
pub fn answered() -> Option<Option<SignedIn>> {
    let memo = leptos::prelude::use_context::<SignedInMemo>()?;
    let (answer, changed) = memo.answer();
    if changed {
        return None;
    }
    answer.get().cloned()
}

/// This request's memo, from the request the page or server function serves.
pub fn request_memo() -> Option<SignedInMemo> {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<SignedInMemo>().cloned())
}

fn forget_signed_in() {
    if let Some(memo) = leptos::prelude::use_context::<SignedInMemo>() {
        memo.reset();
    }
}

/// The login a session belongs to, if it is signed in (whether still valid is for
/// [`signed_in`] to say).
pub async fn login_of(session: &Session) -> Option<String> {
    session.get::<String>(LOGIN_KEY).await.ok().flatten()
}

pub async fn current_session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(AppError::internal)
}

/// The signed-in account, or `None` when there is no session, it is past its absolute
/// limit, or the password has changed since it was opened (then it is ended here).
/// A valid session is marked as used, which extends its idle limit.
pub async fn signed_in(state: &AppState) -> Result<Option<SignedIn>, AppError> {
    let Some(memo) = leptos::prelude::use_context::<SignedInMemo>() else {
        return signed_in_with(state, current_session().await?).await;
    };
    let (answer, changed) = memo.answer();
    answer
        .get_or_try_init(|| async {
            if changed {
                return signed_in_with(state, current_session().await?).await;
            }
            let Some(parts) = leptos::prelude::use_context::<http::request::Parts>() else {
                return signed_in_with(state, current_session().await?).await;
            };
            let id = session_id(&parts.headers);
            signed_in_by_cookie(
                state,
                &memo,
                parts.uri.path(),
                id.as_deref(),
                current_session,
            )
            .await
        })
        .await
        .cloned()
}

/// The clearance page [`signed_in`] read with the session for `student_number`, once.
pub fn take_clearance_page(student_number: &str) -> Option<crate::db::clearance::StudentPage> {
    let memo = leptos::prelude::use_context::<SignedInMemo>()?;
    let mut memo = memo.0.lock().ok()?;
    match memo.page.take() {
        Some((student, page)) if student == student_number => Some(page),
        _ => None,
    }
}

/// [`signed_in`] from the session row the request's cookie names, read with its
/// account in one statement (and on [`PAGE_WITH_SESSION`] with the student's page too),
/// rather than through the session layer's store and a second statement. `session`
/// gives the session object, for the writes [`check`] may make.
async fn signed_in_by_cookie<F, Fut>(
    state: &AppState,
    memo: &SignedInMemo,
    path: &str,
    id: Option<&str>,
    session: F,
) -> Result<Option<SignedIn>, AppError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Session, AppError>>,
{
    let Some(id) = id else {
        return Ok(None);
    };
    let key = crate::db::sessions::key(id);
    let now = crate::clock::unix_now();
    let (loaded, page) = if PAGE_WITH_SESSION.contains(&path) {
        match crate::db::sessions::load_with_page(&state.lane, &key, now).await? {
            Some((loaded, page)) => (loaded, page),
            None => return Ok(None),
        }
    } else {
        match crate::db::sessions::load(&state.lane, &key, now).await? {
            Some(loaded) => (loaded, None),
            None => return Ok(None),
        }
    };
    let values: std::collections::HashMap<String, serde_json::Value> =
        serde_json::from_str(&loaded.data).map_err(AppError::internal)?;
    let number = |key: &str| values.get(key).and_then(serde_json::Value::as_i64);
    let Some(login) = values.get(LOGIN_KEY).and_then(serde_json::Value::as_str) else {
        return Ok(None);
    };
    let stored = Stored {
        login: login.to_owned(),
        opened_at: number(SIGNED_IN_AT_KEY).unwrap_or(0),
        generation: number(GENERATION_KEY),
        seen_at: number(SEEN_AT_KEY),
    };
    let signed_in = check(state, stored, loaded.account, session).await?;
    if let (Some(signed_in), Some(page)) = (&signed_in, page)
        && let Some(number) = &signed_in.student_number
        && let Ok(mut memo) = memo.0.lock()
    {
        memo.page = Some((number.clone(), page));
    }
    Ok(signed_in)
}

/// The session id the request's cookie names, read exactly as the session layer reads it
/// (tower-cookies: each `name=value` parsed and percent-decoded by the cookie crate, the
/// last of several with our name winning, then parsed as an id). The page is read by
/// this id and every write (the touch, sign-out, ending a stale session) goes through
/// the layer: two cookies with our name (another Path or Domain) must not make them
/// two sessions.
fn session_id(headers: &http::HeaderMap) -> Option<String> {
    let value = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|header| std::str::from_utf8(header.as_bytes()).ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| cookie::Cookie::parse_encoded(pair).ok())
        .rfind(|cookie| cookie.name() == COOKIE_NAME)?;
    let id: tower_sessions::session::Id = value.value().parse().ok()?;
    Some(id.to_string())
}

/// What a session stores of its sign-in.
struct Stored {
    login: String,
    opened_at: i64,
    generation: Option<i64>,
    seen_at: Option<i64>,
}

/// Whether the session `stored` with `account` is still valid: within the absolute
/// limit, for the account's current password, of an account still there and active.
/// An invalid session is ended; a valid one marked as used now and then. `session`
/// gives the session object for those writes (only then).
async fn check<F, Fut>(
    state: &AppState,
    stored: Stored,
    account: Option<SessionState>,
    session: F,
) -> Result<Option<SignedIn>, AppError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Session, AppError>>,
{
    let now = crate::clock::unix_now();
    let valid = within_absolute_limit(stored.opened_at, now, state.config.session_max)
        && account.as_ref().is_some_and(|account| {
            Some(account.session_generation) == stored.generation && !account.deactivated
        });
    if !valid {
        session().await?.flush().await.map_err(AppError::internal)?;
        return Ok(None);
    }
    let seen_at = stored.seen_at.unwrap_or(stored.opened_at);
    if needs_touch(seen_at, now, state.config.session_idle) {
        session()
            .await?
            .insert(SEEN_AT_KEY, now)
            .await
            .map_err(AppError::internal)?;
    }
    Ok(account.map(|account| SignedIn {
        login: stored.login,
        role: account.role,
        student_number: account.student_number,
        must_change_password: account.must_change_password,
        display_name: account.display_name,
    }))
}

/// [`signed_in`] for a plain axum handler, which has the session from its extractor
/// (and for a request that signed in or out: its session object is the truth).
pub async fn signed_in_with(
    state: &AppState,
    session: Session,
) -> Result<Option<SignedIn>, AppError> {
    let get = |key: &'static str| {
        let session = session.clone();
        async move { session.get::<i64>(key).await.map_err(AppError::internal) }
    };
    let Some(login) = session
        .get::<String>(LOGIN_KEY)
        .await
        .map_err(AppError::internal)?
    else {
        return Ok(None);
    };
    let stored = Stored {
        login: login.clone(),
        opened_at: get(SIGNED_IN_AT_KEY).await?.unwrap_or(0),
        generation: get(GENERATION_KEY).await?,
        seen_at: get(SEEN_AT_KEY).await?,
    };
    // Read with the session, in the same statement; a session opened in this very
    // request has not been loaded from the store, so its account is read here.
    let account = match session
        .get::<SessionState>(ACCOUNT_KEY)
        .await
        .map_err(AppError::internal)?
    {
        Some(account) => Some(account),
        None => accounts::session_state(&state.db, &login).await?,
    };
    check(state, stored, account, || async { Ok(session) }).await
}

/// The signed-in student's number. Anonymous: 401; initial password not yet changed,
/// or signed in with another role: 403.
pub async fn require_student(state: &AppState) -> Result<String, AppError> {
    student_of(signed_in(state).await?)
}

/// [`require_student`] of an answer of [`signed_in`].
pub fn student_of(signed_in: Option<SignedIn>) -> Result<String, AppError> {
    let signed_in = signed_in.ok_or(AppError::Unauthenticated)?;
    if signed_in.must_change_password {
        return Err(AppError::PasswordChangeRequired);
    }
    match signed_in.student_number {
        Some(number) if signed_in.role == accounts::STUDENT_ROLE => Ok(number),
        _ => Err(AppError::Forbidden),
    }
}

/// A signed-in staff member and what they may do.
pub struct Staff {
    pub login: String,
    pub role: crate::desk::StaffRole,
}

/// The signed-in staff member. Anonymous: 401; a student, or the initial password not
/// yet changed: 403.
pub async fn require_staff(state: &AppState) -> Result<Staff, AppError> {
    staff_of(require_signed_in(state).await?)
}

/// The office staff member behind `session`, for a plain axum handler (the desk's
/// upload): what [`require_office`] says in a server function.
pub async fn require_office_with(
    state: &AppState,
    session: Session,
) -> Result<(Staff, crate::clearance::rules::Office), AppError> {
    let signed_in = signed_in_with(state, session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let staff = staff_of(signed_in)?;
    match staff.role.office() {
        Some(office) => Ok((staff, office)),
        None => Err(AppError::Forbidden),
    }
}

/// The staff member behind `session` if they have one of `roles`, for a plain axum
/// handler: what [`require_role`] says in a server function.
pub async fn require_role_with(
    state: &AppState,
    session: Session,
    roles: &[crate::desk::StaffRole],
) -> Result<Staff, AppError> {
    let signed_in = signed_in_with(state, session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let staff = staff_of(signed_in)?;
    if roles.contains(&staff.role) {
        Ok(staff)
    } else {
        Err(AppError::Forbidden)
    }
}

fn staff_of(signed_in: SignedIn) -> Result<Staff, AppError> {
    if signed_in.must_change_password {
        return Err(AppError::PasswordChangeRequired);
    }
    let role = crate::desk::StaffRole::from_code(&signed_in.role).ok_or(AppError::Forbidden)?;
    Ok(Staff {
        login: signed_in.login,
        role,
    })
}

/// Staff of one of `roles`; anyone else is refused (403).
pub async fn require_role(
    state: &AppState,
    roles: &[crate::desk::StaffRole],
) -> Result<Staff, AppError> {
    let staff = require_staff(state).await?;
    if roles.contains(&staff.role) {
        Ok(staff)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Staff of one of the four offices, with their office: everyone else is refused (403),
/// the graduate school and admins too (least privilege: an office's facts are its own).
pub async fn require_office(
    state: &AppState,
) -> Result<(Staff, crate::clearance::rules::Office), AppError> {
    let staff = require_staff(state).await?;
    match staff.role.office() {
        Some(office) => Ok((staff, office)),
        None => Err(AppError::Forbidden),
    }
}

/// Any signed-in student, even one who still has to change the initial password.
pub async fn require_signed_in(state: &AppState) -> Result<SignedIn, AppError> {
    signed_in(state).await?.ok_or(AppError::Unauthenticated)
}

/// Starts a signed-in session under a new id, so an id planted before sign-in is worthless.
pub async fn sign_in(login: &str, session_generation: i64) -> Result<(), AppError> {
    forget_signed_in();
    let session = current_session().await?;
    session.cycle_id().await.map_err(AppError::internal)?;
    session
        .insert(LOGIN_KEY, login)
        .await
        .map_err(AppError::internal)?;
    session
        .insert(GENERATION_KEY, session_generation)
        .await
        .map_err(AppError::internal)?;
    let now = crate::clock::unix_now();
    session
        .insert(SIGNED_IN_AT_KEY, now)
        .await
        .map_err(AppError::internal)?;
    session
        .insert(SEEN_AT_KEY, now)
        .await
        .map_err(AppError::internal)
}

pub async fn sign_out() -> Result<(), AppError> {
    forget_signed_in();
    current_session()
        .await?
        .flush()
        .await
        .map_err(AppError::internal)
}

/// Whether a session opened at `opened_at` may still be used at `now` (Unix seconds).
pub fn within_absolute_limit(opened_at: i64, now: i64, limit: Duration) -> bool {
    let limit = i64::try_from(limit.as_secs()).unwrap_or(i64::MAX);
    (0..limit).contains(&(now - opened_at))
}

/// How often activity is written to the store: once a minute, or more often for idle
/// limits under ten minutes, so the idle limit is never off by more than a tenth.
pub fn touch_interval(idle: Duration) -> i64 {
    i64::try_from((idle.as_secs() / 10).min(60)).unwrap_or(60)
}

/// Whether a session last marked as used at `seen_at` should be marked again at `now`.
fn needs_touch(seen_at: i64, now: i64, idle: Duration) -> bool {
    now - seen_at >= touch_interval(idle)
}

/// What the server knows of this request's client (set by the server's client layer).
pub fn client() -> ClientInfo {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<ClientInfo>().copied())
        .unwrap_or(ClientInfo {
            addr: None,
            https: true,
        })
}

/// The address the request came from, when the server knows it.
pub fn client_addr() -> Option<IpAddr> {
    client().addr
}

/// The signed-in `login` acting, from this request's client.
pub fn acting(login: &str) -> Who {
    Who::account(login, client_addr().map(|addr| addr.to_string()))
}

/// Records `event` done by the signed-in `login` in the audit trail.
pub async fn audit(state: &AppState, event: Event, login: &str) -> Result<(), AppError> {
    Ok(audit::record(&state.db, crate::clock::now(), event, &acting(login)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lasts_at_most_its_absolute_limit_however_active() {
        let opened = 1_700_000_000;
        let limit = Duration::from_secs(12 * 3600);
        assert!(within_absolute_limit(opened, opened, limit));
        assert!(within_absolute_limit(opened, opened + 12 * 3600 - 1, limit));
        assert!(!within_absolute_limit(opened, opened + 12 * 3600, limit));
        assert!(
            !within_absolute_limit(opened, opened - 60, limit),
            "a session from the future is refused"
        );
    }

    #[test]
    fn the_session_cookie_is_read_as_the_session_layer_reads_it() {
        let headers = |values: &[String]| {
            let mut headers = http::HeaderMap::new();
            for value in values {
                headers.append(
                    http::header::COOKIE,
                    http::HeaderValue::from_str(value).expect("ascii"),
                );
            }
            headers
        };
        let id = || tower_sessions::session::Id::default().to_string();
        let (ours, other) = (id(), id());
        assert_eq!(
            session_id(&headers(&[format!(
                "theme=dark; lixiao_session={ours}; lang=zh"
            )])),
            Some(ours.clone())
        );
        assert_eq!(
            session_id(&headers(&[
                format!("lixiao_session_old={other}"),
                format!("lixiao_session={ours}")
            ])),
            Some(ours.clone()),
            "a cookie whose name only starts with ours is not ours"
        );
        // Two with our name (another Path or Domain): the layer's jar keeps the last, and
        // so must the read, or sign-out would end one session and the page show another.
        assert_eq!(
            session_id(&headers(&[format!(
                "lixiao_session={other}; lixiao_session={ours}"
            )])),
            Some(ours.clone())
        );
        assert_eq!(
            session_id(&headers(&[
                format!("lixiao_session={other}"),
                format!("lixiao_session={ours}")
            ])),
            Some(ours.clone())
        );
        // Percent-encoded, as the layer decodes it.
        let encoded = format!("%{:02X}{}", ours.as_bytes()[0], &ours[1..]);
        assert_eq!(
            session_id(&headers(&[format!("lixiao_session={encoded}")])),
            Some(ours.clone())
        );
        // Not an id: no session (the layer finds none either, even after a good one).
        assert_eq!(
            session_id(&headers(&[format!(
                "lixiao_session={ours}; lixiao_session=junk"
            )])),
            None
        );
        assert_eq!(
            session_id(&headers(&[format!("xlixiao_session={ours}")])),
            None
        );
        assert_eq!(session_id(&headers(&[])), None);
    }

    #[test]
    fn activity_is_written_at_most_once_a_minute() {
        let idle = Duration::from_secs(30 * 60);
        assert_eq!(touch_interval(idle), 60);
        assert!(!needs_touch(1_000, 1_059, idle));
        assert!(needs_touch(1_000, 1_060, idle));
        // Short idle limits (tests) are tracked more closely.
        assert_eq!(touch_interval(Duration::from_secs(20)), 2);
        assert_eq!(touch_interval(Duration::from_secs(3)), 0);
    }
}
