//! Passwords: the source guide's initial-password rule, and argon2id hashing and
//! checking run off the async runtime, a few at a time (each takes tens of milliseconds
//! of CPU and 19 MiB).

use std::sync::{
    Arc, Mutex, OnceLock,
    atomic::{AtomicUsize, Ordering},
};

use tokio::sync::Semaphore;

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{
        self, Output, ParamsString, SaltString,
        rand_core::{OsRng, RngCore},
    },
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

/// Runs one argon2 computation within the concurrency bound, on one of the hashing threads.
async fn bounded<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    PENDING.fetch_add(1, Ordering::SeqCst);
    let _pending = Pending;
    let _permit = HASHING.acquire().await.map_err(|error| error.to_string())?;
    let (done, result) = tokio::sync::oneshot::channel();
    hashing_threads()?
        .send(Box::new(move || {
            let running = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
            PEAK.fetch_max(running, Ordering::SeqCst);
            let output = work();
            RUNNING.fetch_sub(1, Ordering::SeqCst);
            // The caller may have gone (its request timed out): nothing to tell then.
            let _ = done.send(output);
        }))
        .map_err(|_| "the hashing threads have stopped".to_owned())?;
    result
        .await
        .map_err(|_| "a hashing thread dropped its work".to_owned())
}

type Job = Box<dyn FnOnce() + Send>;

/// Hashes asked for and not yet answered: running, or waiting for a thread.
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// Counts one hash as pending until its caller has the answer or has gone.
struct Pending;

impl Drop for Pending {
    fn drop(&mut self) {
        PENDING.fetch_sub(1, Ordering::SeqCst);
    }
}

thread_local! {
    /// The hashing thread's argon2 memory, kept while work is waiting (see [`compute`]).
    static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A fixed set of [`CONCURRENT_HASHES`] threads that run every argon2 computation.
/// Fixed rather than tokio's blocking pool: the allocator keeps each thread's freed
/// 19 MiB block for reuse, so a storm over hundreds of pool threads would leave hundreds
/// of them resident; over four threads it is four.
fn hashing_threads() -> Result<&'static std::sync::mpsc::Sender<Job>, String> {
    static THREADS: OnceLock<Result<std::sync::mpsc::Sender<Job>, String>> = OnceLock::new();
    THREADS
        .get_or_init(|| {
            let (sender, receiver) = std::sync::mpsc::channel::<Job>();
            let receiver = Arc::new(Mutex::new(receiver));
            for index in 0..CONCURRENT_HASHES {
                let receiver = receiver.clone();
                std::thread::Builder::new()
                    .name(format!("argon2-{index}"))
                    .spawn(move || {
                        loop {
                            // The lock is held only while taking the next job.
                            let next = match receiver.lock() {
                                Ok(receiver) => receiver.recv(),
                                Err(_) => return,
                            };
                            match next {
                                Ok(job) => {
                                    job();
                                    // Not enough work left for every thread (the count
                                    // still includes the job just done): give the
                                    // 19 MiB back, so that a server between sign-in
                                    // storms stays small. In a storm it is kept.
                                    if PENDING.load(Ordering::SeqCst) <= CONCURRENT_HASHES {
                                        MEMORY.with(|memory| *memory.borrow_mut() = Vec::new());
                                    }
                                }
                                Err(_) => return,
                            }
                        }
                    })
                    .map_err(|error| format!("cannot start a hashing thread: {error}"))?;
            }
            Ok(sender)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// argon2id with OWASP's minimum: 19 MiB, 2 passes, 1 lane.
fn params() -> Params {
    Params::new(19_456, 2, 1, None).expect("constant argon2 parameters are valid")
}

#[cfg(test)]
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Refused as corrupt rather than computed: a stored hash asking for more than 64 MiB.
const MAX_BLOCKS: usize = 64 * 1024;

/// Computes argon2 into `out` with this thread's reusable memory. During a storm each
/// hashing thread keeps one 19 MiB block array from one password to the next instead of
/// allocating one per password; it frees it when no work is waiting (and the server's
/// allocator, mimalloc, returns it to the system: glibc would keep freed arrays of that
/// size resident after raising its mmap threshold).
fn compute(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), String> {
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return Err(format!("argon2 memory of {blocks} KiB refused"));
    }
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        memory.resize(blocks, Block::default());
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
            .map_err(|error| error.to_string())
    })
}

/// Hashes `password` into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
pub async fn hash(password: String) -> Result<String, String> {
    bounded(move || {
        let params = params();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0_u8; 64];
        let salt_bytes = salt
            .as_salt()
            .decode_b64(&mut salt_bytes)
            .map_err(|error| error.to_string())?;
        let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
            compute(&argon2, &params, password.as_bytes(), salt_bytes, out)
                .map_err(|_| password_hash::Error::Crypto)
        })
        .map_err(|error| error.to_string())?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|error| error.to_string())?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(phc.to_string())
    })
    .await?
}

/// Whether `password` produces the stored PHC hash (compared in constant time).
fn matches(password: &[u8], stored: &str) -> Result<bool, String> {
    let parsed = PasswordHash::new(stored).map_err(|error| error.to_string())?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(|error| error.to_string())?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|error| error.to_string())?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(|error| error.to_string())?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Ok(false);
    };
    let mut salt_bytes = [0_u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_bytes)
        .map_err(|error| error.to_string())?;
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let output = Output::init_with(expected.len(), |out| {
        compute(&argon2, &params, password, salt_bytes, out)
            .map_err(|_| password_hash::Error::Crypto)
    })
    .map_err(|error| error.to_string())?;
    // `Output`'s equality is constant-time.
    Ok(output == expected)
}

/// Checks `password` against `stored`. With no stored hash (unknown student number) it
/// still does the same work against a fixed hash, so the two cases take the same time.
/// Like hashing, the check runs within the concurrency bound: it costs the same 19 MiB.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let known = stored.is_some();
    let stored = match stored {
        Some(stored) => stored,
        None => match dummy_hash().await {
            Ok(dummy) => dummy.to_owned(),
            Err(error) => {
                tracing::error!(%error, "cannot build the dummy password hash");
                return false;
            }
        },
    };
    let matched = bounded(move || matches(password.as_bytes(), &stored))
        .await
        .and_then(|matched| matched);
    known && matched.unwrap_or(false)
}

/// A hash of no one's password, built once (within the bound, off the async workers)
/// the first time an unknown student number signs in.
async fn dummy_hash() -> Result<&'static str, String> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash("lixiao-no-such-account".to_owned()))
        .await
        .map(String::as_str)
}

/// A one-time password for a new staff account or a reset: 12 characters from an
/// alphabet without look-alikes (no 0/O, 1/l/I), from the operating system's randomness.
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..12)
        .map(|_| {
            // Rejection sampling keeps every character equally likely.
            loop {
                let byte = (OsRng.next_u32() & 0xff) as usize;
                if byte < 256 - 256 % ALPHABET.len() {
                    return ALPHABET[byte % ALPHABET.len()] as char;
                }
            }
        })
        .collect()
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

    /// A storm of sign-ins is password checks, not hashes: the bound must cover `verify`
    /// (known and unknown numbers alike), which is what this storm is made of.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_login_storm_never_runs_more_hashes_at_once_than_the_bound() {
        // A stored hash made without touching the counters, so only `verify` can raise them.
        let salt = SaltString::generate(&mut OsRng);
        let stored = argon2::PasswordHasher::hash_password(&argon2(), b"12002X", &salt)
            .expect("hashes")
            .to_string();
        let storm: Vec<_> = (0..32)
            .map(|index| {
                let stored = (index % 4 != 0).then(|| stored.clone());
                tokio::spawn(verify("wrong".to_owned(), stored))
            })
            .collect();
        for attempt in storm {
            assert!(!attempt.await.expect("task"));
        }
        let peak = peak_concurrent_hashes();
        assert!(
            (2..=CONCURRENT_HASHES).contains(&peak),
            "peak {peak}: checks ran, overlapped, and stayed within the bound"
        );
    }

    /// Hashes stored before the reusable-memory change (made by the argon2 crate's own
    /// hasher) still verify, and new ones verify with the crate's own verifier.
    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crate_both_ways() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::generate(&mut OsRng);
        let theirs = argon2()
            .hash_password(b"12002X", &salt)
            .expect("hashes")
            .to_string();
        assert!(verify("12002X".to_owned(), Some(theirs.clone())).await);
        assert!(!verify("12002x".to_owned(), Some(theirs)).await);
        let ours = hash("12002X".to_owned()).await.expect("hashes");
        let parsed = PasswordHash::new(&ours).expect("PHC string");
        assert!(argon2().verify_password(b"12002X", &parsed).is_ok());
        assert!(argon2().verify_password(b"12002x", &parsed).is_err());
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
