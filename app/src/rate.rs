//! Token buckets per key (a sync token's name, a client address), in this process's
//! memory: `per_second` refill up to `burst`. Several server processes each keep their
//! own, so the limit behind a load balancer is per process (the README says so).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

/// Buckets kept before full ones (idle keys) are dropped: the memory a flood of
/// addresses can take stays bounded.
const MAX_KEYS: usize = 10_000;

#[derive(Clone)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Arc<Mutex<HashMap<String, (f64, Instant)>>>,
}

impl RateLimiter {
    pub fn new(per_second: f64, burst: f64) -> Self {
        RateLimiter {
            per_second,
            burst,
            buckets: Arc::default(),
        }
    }

    /// Takes one token from `key`'s bucket, if it has one.
    pub fn allow(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, last)| {
                *tokens + now.duration_since(*last).as_secs_f64() * per_second < burst
            });
            // A flood of fresh keys, none idle yet: start again rather than grow (the
            // flooder loses its own buckets too).
            if buckets.len() >= MAX_KEYS {
                buckets.clear();
            }
        }
        let (tokens, last) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        *tokens =
            (*tokens + now.duration_since(*last).as_secs_f64() * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_key_waits_and_others_do_not() {
        let limiter = RateLimiter::new(0.001, 3.0);
        assert!((0..3).all(|_| limiter.allow("a")));
        assert!(!limiter.allow("a"), "the fourth at once is refused");
        assert!(limiter.allow("b"), "another key has its own bucket");
    }

    #[test]
    fn a_flood_of_keys_does_not_grow_without_bound() {
        let limiter = RateLimiter::new(1000.0, 1.0);
        for i in 0..(MAX_KEYS * 2) {
            limiter.allow(&i.to_string());
            std::thread::sleep(std::time::Duration::from_micros(if i % 1000 == 0 {
                2000
            } else {
                0
            }));
        }
        let kept = limiter.buckets.lock().expect("lock").len();
        assert!(kept <= MAX_KEYS + 1, "{kept} buckets kept");
    }
}
