//! The audit trail: one row per security-relevant event.
//!
//! Who acted (`actor`: the signed-in account, known to be true) and what someone typed at
//! a sign-in (`typed_login`: may name no account, or be a password typed into the wrong
//! field) are kept apart. Events that go with a change (a submission, a card
//! cancellation) are written in the change's own transaction: the trail cannot miss one.

use super::{Db, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    LoginSucceeded,
    LoginFailed,
    LoginRefusedLocked,
    AccountLocked,
    Logout,
    PasswordChanged,
    PasswordChangeFailed,
    PasswordChangeLocked,
    DepartureSubmitted,
    DepartureRefused,
    LibraryCardCancelled,
    LibraryCardCancellationRefused,
    PasswordReset,
    StaffAccountCreated,
    DepartureRevoked,
    RosterImported,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::LoginSucceeded => "login_succeeded",
            Event::LoginFailed => "login_failed",
            Event::LoginRefusedLocked => "login_refused_locked",
            Event::AccountLocked => "account_locked",
            Event::Logout => "logout",
            Event::PasswordChanged => "password_changed",
            Event::PasswordChangeFailed => "password_change_failed",
            Event::PasswordChangeLocked => "password_change_locked",
            Event::DepartureSubmitted => "departure_submitted",
            Event::DepartureRefused => "departure_refused",
            Event::LibraryCardCancelled => "library_card_cancelled",
            Event::LibraryCardCancellationRefused => "library_card_cancellation_refused",
            Event::PasswordReset => "password_reset",
            Event::StaffAccountCreated => "staff_account_created",
            Event::DepartureRevoked => "departure_revoked",
            Event::RosterImported => "roster_imported",
        }
    }
}

/// Who an event is about, and from where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    pub actor: Option<String>,
    pub typed_login: Option<String>,
    pub client_addr: Option<String>,
    /// The account the action was done to (a password reset, a new staff account).
    pub subject: Option<String>,
}

impl Who {
    /// A signed-in account acting.
    pub fn account(login: &str, client_addr: Option<String>) -> Self {
        Who {
            actor: Some(login.to_owned()),
            typed_login: None,
            client_addr,
            subject: None,
        }
    }

    /// Someone signing in, naming the account `login` (`None`: what was typed is no
    /// account's login, and is not kept).
    pub fn attempt(login: Option<&str>, client_addr: Option<String>) -> Self {
        Who {
            actor: None,
            typed_login: login.map(str::to_owned),
            client_addr,
            subject: None,
        }
    }
}

/// Records `event` at `at` (the application's clock), on its own.
pub async fn record(
    db: &Db,
    at: time::OffsetDateTime,
    event: Event,
    who: &Who,
) -> Result<(), sqlx::Error> {
    on_backend!(db, record_alone(at, event, who))
}

for_each_backend! {
    pub(crate) async fn record_alone(
        pool: &Pool,
        at: time::OffsetDateTime,
        event: Event,
        who: &Who,
    ) -> Result<(), sqlx::Error> {
        record_in(&mut *pool.acquire().await?, at, event, who).await
    }

    /// Records `event` on `conn`: the transaction of the change it goes with.
    pub(crate) async fn record_in(
        conn: &mut Conn,
        at: time::OffsetDateTime,
        event: Event,
        who: &Who,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO audit_log (at, event, actor, typed_login, client_addr, subject)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Instant::new(at))
        .bind(event.as_str())
        .bind(who.actor.as_deref())
        .bind(who.typed_login.as_deref())
        .bind(who.client_addr.as_deref())
        .bind(who.subject.as_deref())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}
