//! Sending many letters: retries with backoff, a rate limit, and a report that accounts for
//! every letter.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::outbox::{Connection, Outbox, SendOutcome};
use crate::render::{Rendered, render};
use crate::{Letter, MailError, Sender};

/// When to try a message again after a temporary failure.
///
/// The wait doubles after each failed attempt, from `first_delay` up to `max_delay`, and is
/// drawn uniformly in its upper half ("equal jitter"), so that messages that failed together
/// do not all come back together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; after that many temporary failures the message is
    /// reported failed.
    pub max_attempts: u32,
    /// The wait after the first failed attempt (before jitter).
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, waits from 30 s up to 1 h (about 30 s, 1, 2, 4 and 8 min: 15 min in all).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after `attempt` failed attempts (1 after the first): `first_delay ·
    /// 2^(attempt-1)`, at most `max_delay`, then drawn in its upper half.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let base = self.first_delay.saturating_mul(factor).min(self.max_delay);
        let mut r = [0u8; 8];
        // Without randomness there is no jitter, which is still a valid wait.
        let unit = match getrandom::fill(&mut r) {
            Ok(()) => (u64::from_be_bytes(r) >> 11) as f64 / (1u64 << 53) as f64,
            Err(_) => 1.0,
        };
        base / 2 + (base / 2).mul_f64(unit)
    }

    /// The wait before the next attempt after `attempts` failed ones, or `None` when none is
    /// left (the message has failed).
    pub fn next_delay(&self, attempts: u32) -> Option<Duration> {
        (attempts < self.max_attempts).then(|| self.delay(attempts))
    }
}

/// A token bucket: on average `per_second` messages a second, up to `burst` at once.
///
/// Shared by threads; the bucket starts full. A rate that is not a positive finite number
/// means no limit.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Option<Instant>,
}

impl RateLimiter {
    /// A limiter of `per_second` messages a second on average, `burst` at most at once (at
    /// least 1).
    pub fn new(per_second: f64, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        RateLimiter {
            per_second,
            burst,
            bucket: Mutex::new(Bucket {
                tokens: burst,
                last: None,
            }),
        }
    }

    fn unlimited(&self) -> bool {
        !(self.per_second.is_finite() && self.per_second > 0.0)
    }

    /// Takes a token if one is there at `now` (`None`), or says how long to wait for one
    /// (nothing is taken then): for async callers, which sleep and ask again.
    pub fn try_take(&self, now: Instant) -> Option<Duration> {
        if self.unlimited() {
            return None;
        }
        let mut b = lock(&self.bucket);
        match b.last {
            // An earlier `now` (another caller was faster) adds nothing and moves nothing back.
            Some(last) if now > last => {
                let gained = now.duration_since(last).as_secs_f64() * self.per_second;
                b.tokens = (b.tokens + gained).min(self.burst);
                b.last = Some(now);
            }
            Some(_) => {}
            None => b.last = Some(now),
        }
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            None
        } else {
            let wait = (1.0 - b.tokens) / self.per_second;
            Some(Duration::try_from_secs_f64(wait).unwrap_or(Duration::MAX))
        }
    }

    /// Blocks until a token is taken.
    pub fn wait(&self) {
        while let Some(d) = self.try_take(Instant::now()) {
            std::thread::sleep(d);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking progress callback must not make the report unreachable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How [`deliver`] sends.
#[derive(Debug, Clone)]
pub struct DeliverOptions {
    /// When to retry temporary failures.
    pub retry: RetryPolicy,
    /// Messages a second at most, on average (a burst of up to one second's worth, or one);
    /// not a positive finite number: no limit.
    pub per_second: f64,
    /// Messages sent at once (threads, and so SMTP connections); 0 counts as 1. With lettre
    /// 0.11.23 one SMTP connection carries about 20 messages a second at most: it leaves
    /// Nagle's algorithm on, so each message's final `.` waits for the server's delayed ACK
    /// (fixed upstream in lettre pull request 1159, not yet released).
    pub connections: usize,
}

impl Default for DeliverOptions {
    /// The default retry policy, 10 messages a second, 4 connections.
    fn default() -> Self {
        DeliverOptions {
            retry: RetryPolicy::default(),
            per_second: 10.0,
            connections: 4,
        }
    }
}

/// What happened to one letter, as it happens (for progress bars and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryEvent {
    /// Accepted, at the `attempts`-th attempt.
    Sent {
        /// The voter's id.
        voter: String,
        /// Attempts made, this one included.
        attempts: u32,
    },
    /// A temporary failure; the letter will be sent again after `delay`.
    Retrying {
        /// The voter's id.
        voter: String,
        /// Attempts made so far.
        attempts: u32,
        /// What went wrong.
        error: String,
        /// The wait before the next attempt.
        delay: Duration,
    },
    /// Given up: the letter could not be written, or every attempt failed temporarily.
    Failed {
        /// The voter's id.
        voter: String,
        /// Attempts made (0 if the letter could not be written).
        attempts: u32,
        /// The last error.
        error: String,
    },
    /// Refused for good by the server (5xx) or for an invalid address: not retried.
    Bounced {
        /// The voter's id.
        voter: String,
        /// The refusal.
        error: String,
    },
}

/// Where every letter of a batch ended, each list in the order the letters were given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    /// The voters whose letter was accepted.
    pub sent: Vec<String>,
    /// The voters whose letter was not delivered, with the last error: to send again later.
    pub failed: Vec<(String, String)>,
    /// The voters whose letter was refused for good, with the refusal: their address needs
    /// fixing.
    pub bounced: Vec<(String, String)>,
}

impl DeliveryReport {
    /// The number of letters accounted for: sent, failed and bounced.
    pub fn total(&self) -> usize {
        self.sent.len() + self.failed.len() + self.bounced.len()
    }
}

/// A letter between attempts.
struct Pending {
    index: usize,
    voter: String,
    to: String,
    rendered: Rendered,
    attempts: u32,
    due: Instant,
}

enum Job {
    Fresh(usize, String, Letter),
    Retry(Pending),
}

#[derive(Default)]
struct State {
    fresh: VecDeque<(usize, String, Letter)>,
    retries: Vec<Pending>,
    in_flight: usize,
    sent: Vec<(usize, String)>,
    failed: Vec<(usize, String, String)>,
    bounced: Vec<(usize, String, String)>,
}

/// The authority's batch send: every letter delivered, retried, or recorded as failed or
/// bounced; never silently lost.
///
/// Each letter (with its voter's id) is rendered once and sent by one of
/// `options.connections` threads, at most `options.per_second` a second; temporary failures
/// are retried after [`RetryPolicy::delay`] (the Message-ID stays the same), permanent ones
/// are bounced at once. `progress` hears of each outcome as it happens, from the sending
/// threads. If the outbox cannot be opened, every letter is reported failed with that error.
pub fn deliver(
    letters: Vec<(String, Letter)>,
    sender: &Sender,
    outbox: &Outbox,
    options: &DeliverOptions,
    progress: &(dyn Fn(&DeliveryEvent) + Sync),
) -> DeliveryReport {
    let connection = match outbox.connect() {
        Ok(c) => c,
        Err(e) => {
            let error = e.to_string();
            let mut report = DeliveryReport::default();
            for (voter, _) in letters {
                progress(&DeliveryEvent::Failed {
                    voter: voter.clone(),
                    attempts: 0,
                    error: error.clone(),
                });
                report.failed.push((voter, error.clone()));
            }
            return report;
        }
    };
    let limiter = RateLimiter::new(
        options.per_second,
        if options.per_second.is_finite() && options.per_second >= 1.0 {
            options.per_second as u32
        } else {
            1
        },
    );
    let state = Mutex::new(State {
        fresh: letters
            .into_iter()
            .enumerate()
            .map(|(i, (voter, letter))| (i, voter, letter))
            .collect(),
        ..State::default()
    });
    let wake = Condvar::new();
    let worker = Worker {
        sender,
        connection: &connection,
        retry: &options.retry,
        limiter: &limiter,
        state: &state,
        wake: &wake,
        progress,
    };
    std::thread::scope(|s| {
        for _ in 0..options.connections.max(1) {
            s.spawn(|| worker.run());
        }
    });
    let mut st = state.into_inner().unwrap_or_else(PoisonError::into_inner);
    st.sent.sort_by_key(|x| x.0);
    st.failed.sort_by_key(|x| x.0);
    st.bounced.sort_by_key(|x| x.0);
    DeliveryReport {
        sent: st.sent.into_iter().map(|(_, v)| v).collect(),
        failed: st.failed.into_iter().map(|(_, v, e)| (v, e)).collect(),
        bounced: st.bounced.into_iter().map(|(_, v, e)| (v, e)).collect(),
    }
}

struct Worker<'a> {
    sender: &'a Sender,
    connection: &'a Connection,
    retry: &'a RetryPolicy,
    limiter: &'a RateLimiter,
    state: &'a Mutex<State>,
    wake: &'a Condvar,
    progress: &'a (dyn Fn(&DeliveryEvent) + Sync),
}

impl Worker<'_> {
    fn run(&self) {
        while let Some(job) = self.next_job() {
            // Whatever happens below, the letter is accounted for and `in_flight` comes down.
            let event = self.attempt(job);
            self.wake.notify_all();
            (self.progress)(&event);
        }
    }

    /// The next letter to send: a retry that is due, else a fresh letter; `None` when nothing
    /// is left nor in flight (a letter in flight may yet come back as a retry).
    fn next_job(&self) -> Option<Job> {
        let mut st = lock(self.state);
        loop {
            let now = Instant::now();
            if let Some(i) = st
                .retries
                .iter()
                .enumerate()
                .filter(|(_, p)| p.due <= now)
                .min_by_key(|(_, p)| p.due)
                .map(|(i, _)| i)
            {
                let p = st.retries.swap_remove(i);
                st.in_flight += 1;
                return Some(Job::Retry(p));
            }
            if let Some((i, v, l)) = st.fresh.pop_front() {
                st.in_flight += 1;
                return Some(Job::Fresh(i, v, l));
            }
            if st.retries.is_empty() && st.in_flight == 0 {
                self.wake.notify_all();
                return None;
            }
            st = match st.retries.iter().map(|p| p.due).min() {
                Some(due) => {
                    let wait = due.saturating_duration_since(now);
                    self.wake
                        .wait_timeout(st, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self.wake.wait(st).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    /// One attempt at one letter; records its outcome in the state.
    fn attempt(&self, job: Job) -> DeliveryEvent {
        let mut pending = match job {
            Job::Retry(p) => p,
            Job::Fresh(index, voter, letter) => match guarded(|| render(&letter, self.sender))
                .unwrap_or_else(|| Err(MailError::Build("the mail library panicked".to_owned())))
            {
                Ok(rendered) => Pending {
                    index,
                    voter,
                    to: letter.to.clone(),
                    rendered,
                    attempts: 0,
                    due: Instant::now(),
                },
                Err(e) => {
                    let error = e.to_string();
                    let mut st = lock(self.state);
                    st.in_flight -= 1;
                    st.failed.push((index, voter.clone(), error.clone()));
                    return DeliveryEvent::Failed {
                        voter,
                        attempts: 0,
                        error,
                    };
                }
            },
        };
        self.limiter.wait();
        let outcome = guarded(|| self.connection.send(&pending.to, &pending.rendered))
            .unwrap_or_else(|| {
                SendOutcome::Transient("the mail library panicked while sending".to_owned())
            });
        pending.attempts += 1;
        let mut st = lock(self.state);
        st.in_flight -= 1;
        match outcome {
            SendOutcome::Sent => {
                st.sent.push((pending.index, pending.voter.clone()));
                DeliveryEvent::Sent {
                    voter: pending.voter,
                    attempts: pending.attempts,
                }
            }
            SendOutcome::Permanent(error) => {
                st.bounced
                    .push((pending.index, pending.voter.clone(), error.clone()));
                DeliveryEvent::Bounced {
                    voter: pending.voter,
                    error,
                }
            }
            SendOutcome::Transient(error) => match self.retry.next_delay(pending.attempts) {
                Some(delay) => {
                    let event = DeliveryEvent::Retrying {
                        voter: pending.voter.clone(),
                        attempts: pending.attempts,
                        error,
                        delay,
                    };
                    pending.due = Instant::now() + delay;
                    st.retries.push(pending);
                    event
                }
                None => {
                    st.failed
                        .push((pending.index, pending.voter.clone(), error.clone()));
                    DeliveryEvent::Failed {
                        voter: pending.voter,
                        attempts: pending.attempts,
                        error,
                    }
                }
            },
        }
    }
}

/// Runs `f`, turning a panic (a bug in a library below us) into `None`, so that the letter is
/// still accounted for and the other threads, waiting for it, are not left waiting for ever.
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_and_stay_bounded() {
        let p = RetryPolicy::default();
        for attempt in 1..40 {
            let base = (Duration::from_secs(30) * 2u32.saturating_pow(attempt - 1).min(1 << 20))
                .min(Duration::from_secs(3600));
            let d = p.delay(attempt);
            assert!(d >= base / 2 && d <= base, "attempt {attempt}: {d:?}");
        }
        assert_eq!(p.next_delay(6), None);
        assert!(p.next_delay(5).is_some());
    }

    #[test]
    fn token_bucket_rate_and_burst() {
        let l = RateLimiter::new(10.0, 3);
        let t0 = Instant::now();
        assert_eq!(l.try_take(t0), None);
        assert_eq!(l.try_take(t0), None);
        assert_eq!(l.try_take(t0), None);
        let wait = l.try_take(t0).expect("the burst is spent");
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
        assert_eq!(l.try_take(t0 + Duration::from_millis(100)), None);
        assert!(l.try_take(t0 + Duration::from_millis(150)).is_some());
        // Idle time refills the bucket up to the burst only.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(l.try_take(later), None);
        }
        assert!(l.try_take(later).is_some());
        assert_eq!(RateLimiter::new(0.0, 1).try_take(t0), None);
        assert_eq!(RateLimiter::new(f64::NAN, 1).try_take(t0), None);
    }
}
