//! Retries for transient backend errors: exponential backoff with full jitter, bounded by a
//! deadline and by the provider's stop signal.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::error::{BackendError, ErrorKind};

/// How long and how often to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Give up after this long in total.
    pub deadline: Duration,
    /// The first back-off's upper bound.
    pub base: Duration,
    /// No back-off is longer than this.
    pub cap: Duration,
}

impl RetryPolicy {
    /// A policy bounded by `timeout`.
    pub fn within(timeout: Duration) -> Self {
        Self { deadline: timeout, base: Duration::from_millis(100), cap: Duration::from_secs(5) }
    }

    /// The back-off before attempt `attempt` (0-based), full jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(2u32.saturating_pow(attempt.min(16)));
        let upper = exp.min(self.cap).as_millis() as u64;
        Duration::from_millis(fastrand::u64(0..=upper.max(1)))
    }
}

/// Runs `op` until it succeeds, fails with a non-transient error, the deadline passes, or
/// `stop` fires. A non-transient error that follows a transient one is marked
/// [`BackendError::after_unanswered_attempt`].
///
/// `stop` is honoured before an attempt and during a back-off, never by abandoning an attempt
/// in flight: the request may already have done its work (a topic created), and dropping it
/// would report "stopped" for something that exists, which state would then not record. Each
/// attempt is bounded by the backend's own timeout.
pub async fn with_retries<T, F, Fut>(
    policy: RetryPolicy,
    stop: &CancellationToken,
    mut op: F,
) -> Result<T, BackendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, BackendError>>,
{
    let started = Instant::now();
    let mut attempt = 0;
    // A stop after an attempt that failed transiently leaves that attempt's outcome unknown.
    let stopped = |attempt: u32| {
        let mut e = BackendError::new(ErrorKind::Cancelled, "provider", "stop", "the provider was asked to stop");
        e.after_unanswered_attempt = attempt > 0;
        e
    };
    loop {
        if stop.is_cancelled() {
            return Err(stopped(attempt));
        }
        let mut result = op().await;
        if attempt > 0 {
            if let Err(e) = &mut result {
                e.after_unanswered_attempt |= e.kind != ErrorKind::Transient;
            }
        }
        match result {
            Err(e) if e.kind == ErrorKind::Transient => {
                // The last pause is cut to what is left of the deadline: a backend that stays
                // down is asked once more at the deadline, not given up a whole back-off early.
                let left = policy.deadline.saturating_sub(started.elapsed());
                if left < policy.base {
                    return Err(e);
                }
                let pause = policy.backoff(attempt).min(left);
                tracing::debug!(error = %e, attempt, "transient backend error; retrying");
                tokio::select! {
                    _ = stop.cancelled() => return Err(stopped(attempt + 1)),
                    _ = tokio::time::sleep(pause) => {}
                }
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn backoff_is_bounded_by_the_cap() {
        let p = RetryPolicy::within(Duration::from_secs(30));
        for attempt in 0..40 {
            assert!(p.backoff(attempt) <= p.cap);
        }
    }

    #[tokio::test]
    async fn a_backend_that_stays_down_is_retried_for_the_whole_deadline() {
        let policy = RetryPolicy {
            deadline: Duration::from_millis(300),
            base: Duration::from_millis(10),
            cap: Duration::from_millis(250),
        };
        let started = Instant::now();
        let r: Result<(), _> = with_retries(policy, &CancellationToken::new(), || async {
            Err(BackendError::new(ErrorKind::Transient, "Kafka", "CreateTopics", "broker down"))
        })
        .await;
        assert!(r.is_err());
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(290), "gave up early, after {took:?}");
        assert!(took < Duration::from_millis(300) + policy.cap, "and not much later: {took:?}");
    }

    #[tokio::test]
    async fn transient_errors_are_retried_until_success() {
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy {
            deadline: Duration::from_secs(5),
            base: Duration::from_millis(1),
            cap: Duration::from_millis(2),
        };
        let r = with_retries(policy, &CancellationToken::new(), || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                Err(BackendError::new(ErrorKind::Transient, "S3", "PutObject", "slow down"))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn an_error_after_a_failed_attempt_says_so() {
        let policy = RetryPolicy {
            deadline: Duration::from_secs(5),
            base: Duration::from_millis(1),
            cap: Duration::from_millis(2),
        };
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = with_retries(policy, &CancellationToken::new(), || async {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(BackendError::new(ErrorKind::Transient, "Kafka", "CreateTopics", "timed out"))
            } else {
                Err(BackendError::new(ErrorKind::AlreadyExists, "Kafka", "CreateTopics", "exists"))
            }
        })
        .await;
        let e = r.unwrap_err();
        assert!(e.is(ErrorKind::AlreadyExists) && e.after_unanswered_attempt);

        let r: Result<(), _> = with_retries(policy, &CancellationToken::new(), || async {
            Err(BackendError::new(ErrorKind::AlreadyExists, "Kafka", "CreateTopics", "exists"))
        })
        .await;
        assert!(!r.unwrap_err().after_unanswered_attempt, "a first answer is never marked");
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let r: Result<(), _> =
            with_retries(RetryPolicy::within(Duration::from_secs(5)), &CancellationToken::new(), || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(BackendError::new(ErrorKind::AlreadyExists, "S3", "CreateBucket", "x"))
            })
            .await;
        assert!(r.unwrap_err().is(ErrorKind::AlreadyExists));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn stop_never_abandons_an_attempt_in_flight() {
        // Regression (fault tests, issue 5): Ctrl-C during CreateTopics dropped the request's
        // future after the broker had made the topic; the stream was reported "stopped", state
        // did not record it, and the next apply failed with "topic already exists".
        let stop = CancellationToken::new();
        let calls = AtomicU32::new(0);
        let r = with_retries(RetryPolicy::within(Duration::from_secs(5)), &stop, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            stop.cancel();
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, BackendError>("created")
        })
        .await;
        assert_eq!(r.unwrap(), "created", "the attempt's outcome is reported, not a stop");

        // A transient failure after the stop is not retried.
        let stop = CancellationToken::new();
        let r: Result<(), _> = with_retries(RetryPolicy::within(Duration::from_secs(5)), &stop, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            stop.cancel();
            Err(BackendError::new(ErrorKind::Transient, "Kafka", "CreateTopics", "x"))
        })
        .await;
        let e = r.unwrap_err();
        assert!(e.is(ErrorKind::Cancelled));
        assert!(e.outcome_unknown(), "the attempt before the stop got no answer: it may have done its work");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn stop_cancels_retries() {
        let stop = CancellationToken::new();
        stop.cancel();
        let r: Result<(), _> = with_retries(RetryPolicy::within(Duration::from_secs(60)), &stop, || async {
            Err(BackendError::new(ErrorKind::Transient, "Kafka", "CreateTopics", "x"))
        })
        .await;
        let e = r.unwrap_err();
        assert!(e.is(ErrorKind::Cancelled));
        assert!(!e.outcome_unknown(), "stopped before any attempt: nothing was done");
    }
}
