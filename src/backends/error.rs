//! One error type for every backend (in [`backend_wire::error`], where the answer parsers make
//! it too; re-exported here), the one place that turns it into a diagnostic ([`Diagnose`]), and
//! the AWS SDK's errors turned into it.

pub use backend_wire::error::{BackendError, ErrorKind};
use tfplugin::framework::{AttrPath, Diagnostic};

/// Turns a [`BackendError`] into the diagnostic Terraform shows: the summary names what was
/// being worked on, the detail gives the backend's words and what to do next.
pub trait Diagnose {
    /// The diagnostic for this error while working on `what` (like `bucket "acme-sales-orders"`).
    fn diagnostic(&self, what: &str) -> Diagnostic;
    /// The same, at an attribute.
    fn attr_diagnostic(&self, path: AttrPath, what: &str) -> Diagnostic;
}

impl Diagnose for BackendError {
    fn diagnostic(&self, what: &str) -> Diagnostic {
        Diagnostic::error(summary(self, what), detail(self, what))
    }

    fn attr_diagnostic(&self, path: AttrPath, what: &str) -> Diagnostic {
        Diagnostic::attr_error(path, summary(self, what), detail(self, what))
    }
}

fn summary(e: &BackendError, what: &str) -> String {
    match e.kind {
        ErrorKind::AlreadyExists => format!("{what} already exists"),
        ErrorKind::NotFound => format!("{what} was not found"),
        ErrorKind::Unsupported => format!("{} does not support {}", e.service, e.operation),
        ErrorKind::Cancelled => format!("Stopped while working on {what}"),
        _ => format!("{} {} failed for {what}", e.service, e.operation),
    }
}

fn detail(e: &BackendError, what: &str) -> String {
    let code = e.code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
    let hint = match e.kind {
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
    format!("{} {}{code}: {}\n\n{hint}", e.service, e.operation, e.message)
}

/// The text of the first `<name>` element in an XML error body (CDATA unwrapped).
fn xml_field(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = start + body[start..].find(&format!("</{name}>"))?;
    let text = body[start..end].trim();
    let text = text.strip_prefix("<![CDATA[").and_then(|t| t.strip_suffix("]]>")).unwrap_or(text);
    (!text.is_empty()).then(|| text.to_string())
}

/// Classifies an AWS SDK error by HTTP status and error code, naming the endpoint it came from.
pub(crate) fn from_aws<E>(
    service: &'static str,
    operation: &'static str,
    endpoint: &str,
    err: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> BackendError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
    let status = err.raw_response().map(|r| r.status().as_u16());
    // Some endpoints answer in an XML shape the SDK does not parse; read code and message there.
    let body = err.raw_response().and_then(|r| r.body().bytes()).map(String::from_utf8_lossy).unwrap_or_default();
    let code = err.code().map(str::to_string).or_else(|| xml_field(&body, "Code"));
    let body_message = xml_field(&body, "Message");
    let kind = match (&err, code.as_deref(), status) {
        (SdkError::TimeoutError(_) | SdkError::DispatchFailure(_), _, _) => ErrorKind::Transient,
        (
            _,
            Some("BucketAlreadyExists" | "BucketAlreadyOwnedByYou" | "EntityAlreadyExists" | "TopicAlreadyExists"),
            _,
        ) => ErrorKind::AlreadyExists,
        (_, Some("PreconditionFailed" | "ConditionalRequestConflict"), _) | (_, _, Some(412)) => ErrorKind::Conflict,
        (_, Some("BucketNotEmpty" | "DeleteConflict"), _) => ErrorKind::NotEmpty,
        (
            _,
            Some(
                "SlowDown"
                | "Throttling"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "ServiceUnavailable"
                | "InternalError",
            ),
            _,
        ) => ErrorKind::Transient,
        (_, Some(c), _) if c.starts_with("NoSuch") || c == "NotFound" => ErrorKind::NotFound,
        (_, _, Some(404)) => ErrorKind::NotFound,
        (
            _,
            Some(
                "InvalidAccessKeyId"
                | "SignatureDoesNotMatch"
                | "AccessDenied"
                | "InvalidClientTokenId"
                | "ExpiredToken",
            ),
            _,
        )
        | (_, _, Some(401 | 403)) => ErrorKind::Auth,
        (_, _, Some(s)) if s >= 500 => ErrorKind::Transient,
        _ => ErrorKind::Other,
    };
    let message = match (&err, err.message()) {
        (SdkError::TimeoutError(_) | SdkError::DispatchFailure(_), _) => {
            format!("cannot reach the {service} endpoint {endpoint}: {}", DisplayErrorContext(&err))
        }
        (_, Some(m)) => m.to_string(),
        (_, None) => match body_message {
            Some(m) => m,
            None => format!("{} (endpoint {endpoint})", DisplayErrorContext(&err)),
        },
    };
    BackendError { kind, service, operation, code, message, after_unanswered_attempt: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_fields_are_read_from_unparsed_xml() {
        let body = "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message><![CDATA[User: x is not authorized]]></Message></Error></Errors></ErrorResponse>";
        assert_eq!(xml_field(body, "Code").as_deref(), Some("AccessDenied"));
        assert_eq!(xml_field(body, "Message").as_deref(), Some("User: x is not authorized"));
        assert_eq!(xml_field("<Code></Code>", "Code"), None);
        assert_eq!(xml_field("garbage", "Code"), None);
    }

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
