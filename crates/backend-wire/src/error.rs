//! One error type for every backend, and the one place that turns it into a diagnostic.

use std::fmt;

use tfplugin::framework::{AttrPath, Diagnostic};

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

    /// The diagnostic for this error while working on `what` (like `bucket "acme-sales-orders"`).
    pub fn diagnostic(&self, what: &str) -> Diagnostic {
        Diagnostic::error(self.summary(what), self.detail(what))
    }

    /// The same, at an attribute.
    pub fn attr_diagnostic(&self, path: AttrPath, what: &str) -> Diagnostic {
        Diagnostic::attr_error(path, self.summary(what), self.detail(what))
    }

    fn summary(&self, what: &str) -> String {
        match self.kind {
            ErrorKind::AlreadyExists => format!("{what} already exists"),
            ErrorKind::NotFound => format!("{what} was not found"),
            ErrorKind::Unsupported => format!("{} does not support {}", self.service, self.operation),
            ErrorKind::Cancelled => format!("Stopped while working on {what}"),
            _ => format!("{} {} failed for {what}", self.service, self.operation),
        }
    }

    fn detail(&self, what: &str) -> String {
        let code = self.code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
        let hint = match self.kind {
            ErrorKind::AlreadyExists => format!(
                "The provider never adopts or overwrites existing objects. If {what} should be managed by this \
                 configuration, bring it under management with `terraform import` (or an import block); \
                 otherwise choose another name."
            ),
            ErrorKind::Conflict => "Another writer changed the same object at the same time. Run the apply again.".into(),
            ErrorKind::Transient => "The backend was unavailable or throttled and retries ran out within the provider's timeout. Check the backend and run the apply again.".into(),
            ErrorKind::Auth => "Check the provider's credentials (aws access_key/secret_key/profile, kafka sasl_username/sasl_password) and their permissions.".into(),
            ErrorKind::Unsupported => "The backend in use does not implement this API. Use a backend that does, or avoid the change that needs it.".into(),
            ErrorKind::Cancelled => "Terraform asked the provider to stop. Run the apply again to finish; state records what was made.".into(),
            ErrorKind::NotEmpty => "Empty it first, or set force_destroy = true where the resource offers it.".into(),
            _ => "Check the backend's message above and the provider's configuration, then run the apply again.".into(),
        };
        format!("{} {}{code}: {}\n\n{hint}", self.service, self.operation, self.message)
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
    fn already_exists_suggests_import() {
        let e = BackendError::new(ErrorKind::AlreadyExists, "S3", "CreateBucket", "taken")
            .with_code("BucketAlreadyOwnedByYou");
        let d = e.diagnostic("bucket \"acme-sales-orders\"");
        assert_eq!(d.summary, "bucket \"acme-sales-orders\" already exists");
        assert!(d.detail.contains("terraform import"));
        assert!(d.detail.contains("BucketAlreadyOwnedByYou"));
    }
}
