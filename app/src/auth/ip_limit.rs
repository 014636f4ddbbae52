//! A generous per-client limit on wrong passwords (sign-ins and password changes).
//! Students share campus NAT addresses, so the limit is high: it stops guessing at
//! scale, not a dormitory logging in. Clients are counted by
//! [`crate::net::ClientInfo::limit_key`] (IPv6 per /64). Kept in memory per server.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

/// Failed sign-ins allowed from one address within [`WINDOW`].
pub const MAX_FAILURES: usize = 100;
pub const WINDOW: Duration = Duration::from_secs(10 * 60);

#[derive(Default)]
pub struct IpLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl IpLimiter {
    /// Whether `addr` may try another sign-in at `now`.
    pub fn allows(&self, client: &str, now: Instant) -> bool {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match failures.get_mut(client) {
            None => true,
            Some(times) => {
                forget_old(times, now);
                times.len() < MAX_FAILURES
            }
        }
    }

    pub fn record_failure(&self, client: &str, now: Instant) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Drop addresses whose failures have all expired, so the map cannot grow for ever.
        if failures.len() > 10_000 {
            failures.retain(|_, times| {
                forget_old(times, now);
                !times.is_empty()
            });
        }
        let times = failures.entry(client.to_owned()).or_default();
        forget_old(times, now);
        times.push_back(now);
    }
}

fn forget_old(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|&at| now.duration_since(at) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_limited_after_many_failures_and_freed_after_the_window() {
        let limiter = IpLimiter::default();
        let addr = "10.1.2.3";
        let other = "10.1.2.4";
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.allows(addr, start));
            limiter.record_failure(addr, start);
        }
        assert!(!limiter.allows(addr, start));
        assert!(
            limiter.allows(other, start),
            "other addresses are not affected"
        );
        assert!(limiter.allows(addr, start + WINDOW), "the window passes");
    }
}
