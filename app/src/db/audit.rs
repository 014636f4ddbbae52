//! The audit trail: one row per security-relevant event.

use super::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    LoginSucceeded,
    LoginFailed,
    LoginRefusedLocked,
    AccountLocked,
    Logout,
    PasswordChanged,
    DepartureSubmitted,
    LibraryCardCancelled,
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
            Event::DepartureSubmitted => "departure_submitted",
            Event::LibraryCardCancelled => "library_card_cancelled",
        }
    }
}

/// Records `event`. A failure to write the trail is logged, never shown to the student:
/// the action itself has already happened or been refused.
pub async fn record(db: &Db, event: Event, account: Option<&str>, client_addr: Option<&str>) {
    // What was typed as a student number is kept, but never more than a plausible length.
    let account = account.map(|typed| typed.chars().take(32).collect::<String>());
    let written = sqlx::query(
        "INSERT INTO audit_log (at, event, account, client_addr)
         VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?, ?)",
    )
    .bind(event.as_str())
    .bind(account)
    .bind(client_addr)
    .execute(db)
    .await;
    if let Err(error) = written {
        tracing::error!(%error, event = event.as_str(), "audit record not written");
    }
}
