//! One error type for every backend and the one place that turns it into a diagnostic: both
//! live in [`backend_wire::error`] (the answer parsers there make them too) and are re-exported
//! here. What stays is the AWS SDK's errors turned into it.

pub use backend_wire::error::{BackendError, ErrorKind};

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
}
