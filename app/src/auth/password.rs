//! Passwords: the source guide's initial-password rule, and argon2id hashing run off
//! the async runtime (each hash takes tens of milliseconds of CPU and 19 MiB).

use std::sync::{
    OnceLock,
    atomic::{AtomicUsize, Ordering},
};

use tokio::sync::Semaphore;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};

/// The initial password: the last 6 characters of the national ID number with letters
/// upper-cased; a student without an ID card uses the student number.
pub fn initial_password(id_number: Option<&str>, student_number: &str) -> String {
    match id_number.map(str::trim).filter(|id| !id.is_empty()) {
        Some(id) => {
            let chars: Vec<char> = id.chars().collect();
            let tail = &chars[chars.len().saturating_sub(6)..];
            tail.iter().collect::<String>().to_uppercase()
        }
        None => student_number.to_owned(),
    }
}

/// At most this many hashes run at once (each holds 19 MiB for tens of milliseconds):
/// a sign-in storm queues here instead of exhausting memory or the blocking pool.
pub const CONCURRENT_HASHES: usize = 4;
static HASHING: Semaphore = Semaphore::const_new(CONCURRENT_HASHES);
/// Hashes computing right now, and the most there have ever been at once.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The most argon2 computations that have run at the same moment in this process.
pub fn peak_concurrent_hashes() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Runs one argon2 computation on the blocking pool, within the concurrency bound.
async fn bounded<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let _permit = HASHING.acquire().await.map_err(|error| error.to_string())?;
    tokio::task::spawn_blocking(move || {
        let running = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(running, Ordering::SeqCst);
        let result = work();
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        result
    })
    .await
    .map_err(|error| error.to_string())
}

/// argon2id with OWASP's minimum: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` into a PHC string.
pub async fn hash(password: String) -> Result<String, String> {
    bounded(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| error.to_string())
    })
    .await?
}

/// Checks `password` against `stored`. With no stored hash (unknown student number) it
/// still does the same work against a fixed hash, so the two cases take the same time.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let known = stored.is_some();
    let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
    let matches = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    known && matches
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(b"lixiao-no-such-account", &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_initial_password_follows_the_source_guide() {
        let cases = [
            (Some("320311199501061234"), "2020100001", "061234"),
            (Some("32031119950612002x"), "2020100002", "12002X"),
            (Some("32031119950612002X"), "2020100002", "12002X"),
            (Some("  150027  "), "2020100004", "150027"),
            (Some("12345"), "2020100005", "12345"),
            (None, "2020100003", "2020100003"),
            (Some(""), "2020100003", "2020100003"),
        ];
        for (id, number, expected) in cases {
            assert_eq!(initial_password(id, number), expected, "{id:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_login_storm_never_runs_more_hashes_at_once_than_the_bound() {
        let stored = hash("12002X".to_owned()).await.expect("hashes");
        let storm: Vec<_> = (0..24)
            .map(|_| tokio::spawn(verify("wrong".to_owned(), Some(stored.clone()))))
            .collect();
        for attempt in storm {
            assert!(!attempt.await.expect("task"));
        }
        let peak = peak_concurrent_hashes();
        assert!((1..=CONCURRENT_HASHES).contains(&peak), "peak {peak}");
    }

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let hash = hash("12002X".to_owned()).await.expect("hashes");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify("12002X".to_owned(), Some(hash.clone())).await);
        assert!(
            !verify("12002x".to_owned(), Some(hash.clone())).await,
            "no case folding"
        );
        assert!(!verify("".to_owned(), Some(hash)).await);
        assert!(!verify("12002X".to_owned(), None).await);
        assert!(!verify("12002X".to_owned(), Some("not a hash".to_owned())).await);
    }
}
