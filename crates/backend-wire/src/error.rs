//! One error type for every backend: which service and call failed, of what kind, and what the
//! server said. (The provider turns it into a Terraform diagnostic, in `backends::error`.)

use std::fmt;

/// What kind of failure, as far as resources need to tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The thing does not exist.
    NotFound,
    /// The thing already exists.
    AlreadyExists,
    /// A conditional write lost a race (precondition failed).
    Conflict,
    /// The thing still has contents or dependents.
    NotEmpty,
    /// The backend does not implement what was asked.
    Unsupported,
    /// Worth retrying: throttling, 5xx, broker not available, timeouts.
    Transient,
    /// Credentials missing, wrong or not allowed.
    Auth,
    /// The provider was asked to stop.
    Cancelled,
    /// Anything else.
    Other,
}

/// A failed backend call: which service and operation, the backend's own code, and its message.
#[derive(Debug, Clone)]
pub struct BackendError {
    /// The kind of failure.
    pub kind: ErrorKind,
    /// `S3`, `IAM`, `STS` or `Kafka`.
    pub service: &'static str,
    /// The operation, like `CreateBucket`.
    pub operation: &'static str,
    /// The backend's error code or name, like `BucketAlreadyExists` or `TOPIC_ALREADY_EXISTS`.
    pub code: Option<String>,
    /// The backend's message.
    pub message: String,
    /// An earlier attempt of the same call failed without a usable answer (timed out, lost its
    /// connection): it may have done its work, so `AlreadyExists` can mean "made by that attempt".
    pub after_unanswered_attempt: bool,
}

impl BackendError {
    /// A new error.
    pub fn new(kind: ErrorKind, service: &'static str, operation: &'static str, message: impl Into<String>) -> Self {
        Self { kind, service, operation, code: None, message: message.into(), after_unanswered_attempt: false }
    }
    /// With the backend's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
    /// Whether it is of this kind.
    pub fn is(&self, kind: ErrorKind) -> bool {
        self.kind == kind
    }

    /// Whether a write that failed this way may still have done its work: its last attempt got
    /// no usable answer (retries ran out on a transient error), or it was stopped after one
    /// that did not. A create that fails so must be recorded, tainted, or what it made would be
    /// an orphan that the next apply meets as "already exists".
    pub fn outcome_unknown(&self) -> bool {
        match self.kind {
            ErrorKind::Transient => true,
            ErrorKind::Cancelled => self.after_unanswered_attempt,
            _ => false,
        }
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.service, self.operation)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for BackendError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_whose_answer_never_came_has_an_unknown_outcome() {
        let e = |kind| BackendError::new(kind, "Kafka", "CreateTopics", "x");
        assert!(e(ErrorKind::Transient).outcome_unknown(), "retries ran out without an answer");
        assert!(!e(ErrorKind::Cancelled).outcome_unknown(), "stopped before any attempt");
        let mut stopped = e(ErrorKind::Cancelled);
        stopped.after_unanswered_attempt = true;
        assert!(stopped.outcome_unknown(), "stopped after an unanswered attempt");
        for answered in [ErrorKind::AlreadyExists, ErrorKind::Auth, ErrorKind::Other, ErrorKind::Unsupported] {
            assert!(!e(answered).outcome_unknown(), "{answered:?}: the backend said no");
        }
    }
}
