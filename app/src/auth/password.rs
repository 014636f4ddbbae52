//! Passwords: the source guide's initial-password rule, and argon2id hashing and
//! checking run off the async runtime, a few at a time (each takes tens of milliseconds
//! of CPU and 19 MiB).

use std::{
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
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

/// At most this many hashes run at once (each holds 19 MiB for tens of milliseconds),
/// on as many threads: work beyond it waits here (sign-ins first pass the
/// [`SignInQueue`], which turns away those who would wait too long).
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
            // The caller went while this waited (its request timed out or the client hung
            // up): 19 MiB and tens of milliseconds that nobody would read.
            if done.is_closed() {
                return;
            }
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

/// How long one hash has taken lately on a hashing thread (start to end, so it includes
/// the time the thread waited for a core): a moving average, in microseconds; 0 until
/// the first hash is done.
static MEAN_HASH_MICROS: AtomicU64 = AtomicU64::new(0);

/// Assumed before the first hash is timed: a hash takes 20-40 ms of CPU on the machines
/// measured, and four threads share two cores.
const FIRST_GUESS: Duration = Duration::from_millis(60);

fn record_hash_time(took: Duration) {
    let sample = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    let _ = MEAN_HASH_MICROS.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |mean| {
        Some(next_mean(mean, sample))
    });
}

/// The moving average after one more hash of `sample` µs (`mean` 0: none yet). Each hash
/// moves it an eighth of the way: a few dozen hashes follow a change of load (pages
/// taking the cores, say) without one slow hash swinging it.
fn next_mean(mean: u64, sample: u64) -> u64 {
    if mean == 0 {
        sample
    } else {
        mean - mean / 8 + sample / 8
    }
}

/// The recent time of one hash on a hashing thread (see [`MEAN_HASH_MICROS`]).
fn mean_hash_time() -> Duration {
    match MEAN_HASH_MICROS.load(Ordering::Relaxed) {
        0 => FIRST_GUESS,
        micros => Duration::from_micros(micros),
    }
}

/// The people waiting for a password check (signing in, changing a password), so that
/// one who would wait longer than [`Config::signin_wait`] is told at once that the
/// system is busy instead of being kept waiting until the request times out.
///
/// On departure day more graduates may arrive in a second than the machine can check
/// passwords for (each check is deliberately slow). Queueing all of them made every
/// one wait longer, until the waits passed the request timeout and nobody got in;
/// turning the excess away at once keeps the wait of those admitted short, and the
/// others try again later. Work no one is watching (a roster import's hashes) does not
/// queue here: it waits for the hashing threads without a limit.
///
/// Those turned away are each given a turn of their own after everyone told before them
/// (see [`SignInQueue::refusal`]), so the more are turned away, the later the last of
/// them is told to come back.
///
/// [`Config::signin_wait`]: crate::config::Config::signin_wait
pub struct SignInQueue {
    waiting: AtomicUsize,
    max_wait: Duration,
    /// When the turns promised to those told to come back end, in µs since `opened`.
    promised_until: AtomicU64,
    opened: Instant,
}

/// The longest anyone is told to wait before trying again. Past it, the turns promised
/// are no longer spread: everyone is told this (and who comes back to a queue still
/// full is given a later turn again).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// A place in the [`SignInQueue`], held while its password is checked (and hashed).
pub struct Place<'a>(&'a SignInQueue);

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The wait would be too long: try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    pub retry_after: Duration,
}

impl SignInQueue {
    pub fn new(max_wait: Duration) -> Self {
        SignInQueue {
            waiting: AtomicUsize::new(0),
            max_wait,
            promised_until: AtomicU64::new(0),
            opened: Instant::now(),
        }
    }

    /// A place in the queue, or [`Busy`] if the hashes already waiting would keep this
    /// one longer than the limit.
    pub fn enter(&self) -> Result<Place<'_>, Busy> {
        self.enter_with(mean_hash_time(), self.opened.elapsed())
    }

    /// Whether there is room now, without taking a place: a sign-in is turned away with
    /// this before it costs the database anything (the place is taken just before the
    /// check, after the sign-in limits, which may make it wait). One turned away here is
    /// given a turn to come back, as by [`SignInQueue::enter`].
    pub fn has_room(&self) -> Result<(), Busy> {
        let waiting = self.waiting.load(Ordering::SeqCst);
        self.refusal(waiting, mean_hash_time(), self.opened.elapsed())
            .map_or(Ok(()), Err)
    }

    /// The refusal of a newcomer with `waiting` before it at `now` (since `opened`), if
    /// it would wait too long, with the time to come back.
    ///
    /// Told only the queue's wait (a few seconds), everyone turned away in the same
    /// seconds came back together and was turned away again: on departure day 18,800
    /// students sent 124,944 refused sign-ins, and the retries took the cores the pages
    /// needed. So each one turned away gets a turn of their own, one check's share of
    /// the hashing threads (`mean` / [`CONCURRENT_HASHES`]) after the last turn promised,
    /// and not before the people waiting now have had their answers: come back then and
    /// the queue has room. The turn is advice (someone new who finds room is let in), and
    /// at most [`MAX_RETRY_AFTER`] away.
    fn refusal(&self, waiting: usize, mean: Duration, now: Duration) -> Option<Busy> {
        let wait = expected_wait(waiting, mean);
        if wait <= self.max_wait {
            return None;
        }
        let micros = |duration: Duration| u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        let now = micros(now);
        let earliest = now.saturating_add(micros(wait));
        let latest = now.saturating_add(micros(MAX_RETRY_AFTER));
        let share = micros(mean) / CONCURRENT_HASHES as u64;
        let turn = |promised: u64| promised.max(earliest).saturating_add(share).min(latest);
        let promised = self
            .promised_until
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |promised| {
                Some(turn(promised))
            })
            .unwrap_or_else(|promised| promised);
        let seconds = Duration::from_micros(turn(promised).saturating_sub(now)).as_secs_f64();
        Some(Busy {
            retry_after: Duration::from_secs_f64(
                seconds.ceil().clamp(1.0, MAX_RETRY_AFTER.as_secs_f64()),
            ),
        })
    }

    fn enter_with(&self, mean: Duration, now: Duration) -> Result<Place<'_>, Busy> {
        let mut waiting = self.waiting.load(Ordering::SeqCst);
        loop {
            if let Some(busy) = self.refusal(waiting, mean, now) {
                return Err(busy);
            }
            match self.waiting.compare_exchange(
                waiting,
                waiting + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return Ok(Place(self)),
                Err(now) => waiting = now,
            }
        }
    }

    /// How many are waiting or being checked now.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

/// How long a newcomer waits for a hashing thread with `ahead` checks before it, each
/// taking `mean` on one of the [`CONCURRENT_HASHES`] threads: the first few start at
/// once, and every further round of threads costs one hash time.
pub fn expected_wait(ahead: usize, mean: Duration) -> Duration {
    let rounds = u32::try_from(ahead / CONCURRENT_HASHES).unwrap_or(u32::MAX);
    mean.saturating_mul(rounds)
}

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
                        give_way_to_requests();
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

/// The niceness of the hashing threads (the request threads keep 0).
pub const HASHING_NICENESS: i32 = 10;

/// Lowers this thread's scheduling priority to [`HASHING_NICENESS`]. When page requests
/// and password checks both want the cores, the requests of the students already signed
/// in get them first (about nine tenths of the time): a sign-in storm slows itself
/// before it slows everyone's pages. With the cores otherwise idle, the hashes get all
/// of them, and the [`SignInQueue`] sees their real pace either way.
fn give_way_to_requests() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{ThreadPriority, ThreadPriorityValue, set_current_thread_priority};
        // A server started nicer than that already (systemd's Nice=, say) keeps its own
        // niceness here: raising a thread's priority back would need privileges.
        if thread_niceness().is_some_and(|nice| nice >= HASHING_NICENESS) {
            return;
        }
        // thread-priority maps its 0-99 onto niceness 19 down to -20: 22 is 10 (a test
        // reads the threads' niceness back from /proc).
        let result = ThreadPriorityValue::try_from(22_u8)
            .map_err(|error| error.to_string())
            .and_then(|value| {
                set_current_thread_priority(ThreadPriority::Crossplatform(value))
                    .map_err(|error| format!("{error:?}"))
            });
        if let Err(error) = result {
            // Hashing still works, at the same priority as the pages.
            tracing::warn!(%error, "cannot lower the hashing thread's priority");
        }
    }
}

/// The calling thread's niceness, from `/proc/thread-self/stat` (Linux).
pub fn thread_niceness() -> Option<i32> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // proc(5): `pid (comm) state …`; niceness is field 19, and the fields after the
    // command's closing parenthesis start at field 3.
    let (_, rest) = stat.rsplit_once(") ")?;
    rest.split(' ').nth(19 - 3)?.parse().ok()
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
        let started = std::time::Instant::now();
        memory.resize(blocks, Block::default());
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
            .map_err(|error| error.to_string())?;
        // Only hashes that ran: a refused stored hash would pull the average towards 0.
        record_hash_time(started.elapsed());
        Ok(())
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
/// It is done in a place of the [`SignInQueue`], taken by the caller: someone is waiting.
pub async fn verify(_place: &Place<'_>, password: String, stored: Option<String>) -> bool {
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

    /// A place in a queue of its own (the tests' checks are not what is measured here).
    fn place() -> Place<'static> {
        static QUEUE: OnceLock<SignInQueue> = OnceLock::new();
        QUEUE
            .get_or_init(|| SignInQueue::new(Duration::from_secs(3600)))
            .enter()
            .expect("room")
    }

    #[test]
    fn the_first_checks_start_at_once_and_each_round_after_waits_one_hash() {
        let mean = Duration::from_millis(40);
        for ahead in 0..CONCURRENT_HASHES {
            assert_eq!(expected_wait(ahead, mean), Duration::ZERO, "{ahead} ahead");
        }
        assert_eq!(expected_wait(CONCURRENT_HASHES, mean), mean);
        assert_eq!(expected_wait(2 * CONCURRENT_HASHES + 1, mean), mean * 2);
        assert_eq!(
            expected_wait(usize::MAX, mean),
            mean.saturating_mul(u32::MAX)
        );
    }

    #[test]
    fn the_queue_turns_away_who_would_wait_too_long_and_lets_them_in_once_there_is_room() {
        // Room for two rounds of hashing threads plus one round of waiting.
        let mean = Duration::from_millis(100);
        let queue = SignInQueue::new(mean);
        let admitted: Vec<_> = (0..2 * CONCURRENT_HASHES)
            .map(|index| {
                queue
                    .enter_with(mean, Duration::ZERO)
                    .unwrap_or_else(|busy| panic!("#{index} refused: {busy:?}"))
            })
            .collect();
        assert_eq!(queue.waiting(), 2 * CONCURRENT_HASHES);
        let busy = queue
            .enter_with(mean, Duration::ZERO)
            .map(|_| ())
            .expect_err("a third round is too long");
        assert_eq!(busy.retry_after, Duration::from_secs(1));
        assert_eq!(
            queue.waiting(),
            2 * CONCURRENT_HASHES,
            "a refusal holds no place"
        );
        // However slow the hashes, a free thread is never refused; a slower machine (or
        // busier cores) is told to come back later.
        let slow = Duration::from_secs(20);
        let crowded = SignInQueue::new(Duration::from_millis(1));
        let held: Vec<_> = (0..CONCURRENT_HASHES)
            .map(|_| {
                crowded
                    .enter_with(slow, Duration::ZERO)
                    .expect("threads free")
            })
            .collect();
        let busy = crowded
            .enter_with(slow, Duration::ZERO)
            .map(|_| ())
            .expect_err("full");
        // The checks running end in 20 s; the turn promised is a quarter of a check after.
        assert_eq!(busy.retry_after, Duration::from_secs(25));
        drop(held);
        assert_eq!(crowded.waiting(), 0);

        drop(admitted.into_iter().next());
        assert!(
            queue.enter_with(mean, Duration::ZERO).is_ok(),
            "one left: room for one more"
        );
    }

    #[test]
    fn the_more_are_turned_away_the_later_the_last_is_told_to_come_back() {
        // The threads are busy for 400 ms; each check takes a tenth of a second of the
        // four threads' time.
        let mean = Duration::from_millis(400);
        let queue = SignInQueue::new(Duration::from_millis(1));
        let _running: Vec<_> = (0..CONCURRENT_HASHES)
            .map(|_| {
                queue
                    .enter_with(mean, Duration::ZERO)
                    .expect("threads free")
            })
            .collect();
        let told: Vec<u64> = (0..100)
            .map(|_| {
                let busy = queue
                    .enter_with(mean, Duration::ZERO)
                    .map(|_| ())
                    .expect_err("full");
                busy.retry_after.as_secs()
            })
            .collect();
        // One turn each, a tenth of a second apart after the 400 ms: 16 of them fit in the
        // first 2 s, the hundredth comes back after 10.4 s.
        assert_eq!(told[0], 1);
        assert!(told.windows(2).all(|pair| pair[0] <= pair[1]), "{told:?}");
        assert_eq!(told.iter().filter(|&&seconds| seconds <= 2).count(), 16);
        assert_eq!(told[99], 11);
        assert_eq!(queue.waiting(), CONCURRENT_HASHES, "refusals hold no place");

        // Turned away before any work, the same: the 101st after the hundredth.
        let later = queue.has_room().expect_err("still full");
        assert_eq!(later.retry_after, Duration::from_secs(11));

        // Five seconds on, the turns promised run until 10.5 s: the next is at 10.6 s.
        let busy = queue
            .enter_with(mean, Duration::from_secs(5))
            .map(|_| ())
            .expect_err("full");
        assert_eq!(busy.retry_after, Duration::from_secs(6));
        // A minute on, every turn promised is past: told the queue's own wait.
        let busy = queue
            .enter_with(mean, Duration::from_secs(60))
            .map(|_| ())
            .expect_err("full");
        assert_eq!(busy.retry_after, Duration::from_secs(1), "all turns past");

        // However many are turned away, nobody is told to wait longer than the limit.
        let last = (0..5_000)
            .map(|_| {
                queue
                    .enter_with(mean, Duration::from_secs(60))
                    .map(|_| ())
                    .expect_err("full")
            })
            .last()
            .expect("refused");
        assert_eq!(last.retry_after, MAX_RETRY_AFTER);
    }

    /// The hashing threads give way to the request threads (see `give_way_to_requests`).
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_hashing_threads_run_at_a_lower_priority() {
        let ours = thread_niceness().expect("this thread's niceness");
        if ours >= HASHING_NICENESS {
            eprintln!("skipped: the tests already run at niceness {ours}");
            return;
        }
        hash("start the threads".to_owned()).await.expect("hashes");
        let mut seen = 0;
        for task in std::fs::read_dir("/proc/self/task").expect("tasks") {
            let path = task.expect("task").path();
            let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
                continue;
            };
            let Some((comm, rest)) = stat.rsplit_once(") ") else {
                continue;
            };
            if !comm.contains("(argon2-") {
                continue;
            }
            let nice: i32 = rest
                .split(' ')
                .nth(19 - 3)
                .expect("field")
                .parse()
                .expect("niceness");
            assert_eq!(nice, HASHING_NICENESS, "{comm}: {stat}");
            seen += 1;
        }
        assert_eq!(seen, CONCURRENT_HASHES, "every hashing thread");
        assert_eq!(thread_niceness(), Some(ours), "only the hashing threads");
    }

    #[test]
    fn the_hash_time_is_a_moving_average_that_follows_a_change_of_load() {
        assert_eq!(
            next_mean(0, 40_000),
            40_000,
            "the first hash is the average"
        );
        assert_eq!(next_mean(40_000, 40_000), 40_000);
        assert_eq!(next_mean(40_000, 120_000), 50_000, "an eighth of the way");
        let mut mean = 40_000;
        for _ in 0..40 {
            mean = next_mean(mean, 120_000);
        }
        assert!((115_000..=120_000).contains(&mean), "{mean}: caught up");
        assert_eq!(next_mean(u64::MAX, u64::MAX), u64::MAX, "no overflow");
    }

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
                tokio::spawn(async move {
                    let place = place();
                    verify(&place, "wrong".to_owned(), stored).await
                })
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
        assert!(verify(&place(), "12002X".to_owned(), Some(theirs.clone())).await);
        assert!(!verify(&place(), "12002x".to_owned(), Some(theirs)).await);
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
        assert!(verify(&place(), "12002X".to_owned(), Some(hash.clone())).await);
        assert!(
            !verify(&place(), "12002x".to_owned(), Some(hash.clone())).await,
            "no case folding"
        );
        assert!(!verify(&place(), "".to_owned(), Some(hash)).await);
        assert!(!verify(&place(), "12002X".to_owned(), None).await);
        assert!(!verify(&place(), "12002X".to_owned(), Some("not a hash".to_owned())).await);
    }
}
