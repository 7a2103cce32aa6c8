//! A broker outage as this provider process sees it: since when no Kafka call got an answer
//! from any broker. The calls made during one outage share its deadline rather than each
//! starting a deadline of its own: with the broker gone, Terraform starts the resources it has
//! not made yet 10 at a time, and each of those waves would otherwise wait the whole deadline
//! (3 x `timeout_seconds`) again, so an apply of 100 streams whose broker died half-way hung
//! for minutes (`fault_the_broker_killed_mid_apply_...`). A call made once the outage is older
//! than the deadline still makes one attempt: the broker may be back.
//! Pure logic, unit-tested; `KafkaStreaming` feeds it each attempt's outcome.

use std::time::{Duration, Instant};

use rdkafka::error::RDKafkaErrorCode;

use crate::backends::error::{BackendError, ErrorKind};

/// The librdkafka codes that mean no broker answered at all (as opposed to a broker's answer,
/// even a refusal or a "try again").
const NO_ANSWER: [RDKafkaErrorCode; 5] = [
    RDKafkaErrorCode::BrokerTransportFailure,
    RDKafkaErrorCode::AllBrokersDown,
    RDKafkaErrorCode::OperationTimedOut,
    RDKafkaErrorCode::TimedOutQueue,
    RDKafkaErrorCode::Resolve,
];

/// Whether an attempt that failed with `e` got no answer from any broker. The Kafka backend's
/// errors carry librdkafka's code by name (`code_err`).
pub(super) fn no_answer(e: &BackendError) -> bool {
    e.kind == ErrorKind::Transient
        && e.code.as_deref().is_some_and(|code| NO_ANSWER.iter().any(|c| format!("{c:?}") == code))
}

/// Since when the brokers have not answered (None: the last attempt got an answer).
#[derive(Debug, Default)]
pub(super) struct Outage {
    since: Option<Instant>,
}

impl Outage {
    /// An attempt got no answer, at `now`: an outage starts unless one is on already.
    pub(super) fn unanswered(&mut self, now: Instant) {
        self.since.get_or_insert(now);
    }

    /// A broker answered (with a result or an error of its own): no outage.
    pub(super) fn answered(&mut self) {
        self.since = None;
    }

    /// How long a call starting at `now` may retry: `full`, less how long the outage has
    /// lasted so far (zero once it is older than `full`: one attempt, no retry).
    pub(super) fn deadline(&self, full: Duration, now: Instant) -> Duration {
        match self.since {
            None => full,
            Some(since) => full.saturating_sub(now.saturating_duration_since(since)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_made_during_an_outage_share_its_deadline() {
        let full = Duration::from_secs(15);
        let t0 = Instant::now();
        let mut outage = Outage::default();
        assert_eq!(outage.deadline(full, t0), full, "no outage: the whole deadline");
        outage.unanswered(t0);
        outage.unanswered(t0 + Duration::from_secs(4));
        assert_eq!(outage.deadline(full, t0 + Duration::from_secs(10)), Duration::from_secs(5), "from its start");
        assert_eq!(outage.deadline(full, t0 + Duration::from_secs(40)), Duration::ZERO, "older: one attempt");
        outage.answered();
        assert_eq!(outage.deadline(full, t0 + Duration::from_secs(41)), full, "an answer ends it");
    }

    #[test]
    fn only_codes_that_mean_silence_start_an_outage() {
        let err = |kind, code: RDKafkaErrorCode| {
            BackendError::new(kind, "Kafka", "CreateTopics", "x").with_code(format!("{code:?}"))
        };
        for code in NO_ANSWER {
            assert!(no_answer(&err(ErrorKind::Transient, code)), "{code:?}");
        }
        // A broker that answers, even with a transient refusal, is up.
        for code in [
            RDKafkaErrorCode::NotController,
            RDKafkaErrorCode::RequestTimedOut,
            RDKafkaErrorCode::ThrottlingQuotaExceeded,
        ] {
            assert!(!no_answer(&err(ErrorKind::Transient, code)), "{code:?}");
        }
        assert!(!no_answer(&err(ErrorKind::AlreadyExists, RDKafkaErrorCode::TopicAlreadyExists)));
        assert!(!no_answer(&BackendError::new(ErrorKind::Transient, "Kafka", "CreateTopics", "no code")));
    }
}
