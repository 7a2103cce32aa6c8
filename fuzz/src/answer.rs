//! What the targets of the backends' answer parsers (`webhdfs_answers`, `flink_answers`,
//! `spark_answers`) share: how an input becomes the HTTP answer it stands for, and what every
//! error and every message made from a server's text must be, whatever the server sent.

use backend_wire::{BackendError, ErrorKind};

/// The most characters a message made from a server's answer may have beyond the text the
/// provider put in (the path, the user): room for the template, an excerpt of the body and one
/// clipped server text. A server must not be able to make a diagnostic as long as its answer.
pub const MAX_MESSAGE_CHARS: usize = 1300;

/// An input as an HTTP answer: the first line is the status (digits; anything else, or a
/// number over 65535, reads as 0, a status no server sends, tried too), the rest is the body
/// as the client hands it on (invalid UTF-8 replaced, as `reqwest`'s `text()` does).
pub fn status_and_body(data: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(data);
    let (first, body) = text.split_once('\n').unwrap_or((&text, ""));
    (first.trim().parse().unwrap_or(0), body.to_string())
}

/// Checks what every error of `service`'s `op` must be: it names both, its message starts with
/// `prefix` (what the provider says the call was about: a path, or `HTTP <status>: `) and is
/// bounded, and its code (the server's name for the failure) is bounded too.
pub fn check_error(e: &BackendError, service: &str, op: &str, prefix: &str) {
    assert_eq!(e.service, service, "the error names another service: {e:?}");
    assert_eq!(e.operation, op, "the error names another operation: {e:?}");
    assert!(e.message.starts_with(prefix), "the message does not start with {prefix:?}: {e:?}");
    assert_bounded("the message", &e.message, prefix.chars().count());
    if let Some(code) = &e.code {
        assert_bounded("the code", code, 0);
    }
}

/// The most characters of the error of an answer that did not parse, beyond its prefix: the
/// template, what the JSON parser says and an excerpt of the body, each clipped.
pub const MAX_PARSE_ERROR_CHARS: usize = 600;

/// Checks the error of an answer that did not parse as `op`'s: kind Other, no code, a message
/// of at most [`MAX_PARSE_ERROR_CHARS`] beyond its prefix, and what [`check_error`] checks.
pub fn check_parse_error(e: &BackendError, service: &str, op: &str, prefix: &str) {
    assert_eq!(e.kind, ErrorKind::Other, "an unparsable answer is not a {:?}: {e:?}", e.kind);
    assert_eq!(e.code, None, "{e:?}");
    check_error(e, service, op, prefix);
    let n = e.message.chars().count();
    assert!(n <= prefix.chars().count() + MAX_PARSE_ERROR_CHARS, "a parse error of {n} characters: {e:?}");
}

/// Asserts that `text` (`what`, made from a server's answer) has at most
/// [`MAX_MESSAGE_CHARS`] characters beyond the `own` characters the provider put in.
pub fn assert_bounded(what: &str, text: &str, own: usize) {
    let n = text.chars().count();
    assert!(
        n <= own + MAX_MESSAGE_CHARS,
        "{what} has {n} characters, more than {own} + {MAX_MESSAGE_CHARS}: {:?}...",
        text.chars().take(300).collect::<String>()
    );
}

/// The kind a failed answer's HTTP status gives where the body names no failure of its own:
/// what Flink and Spark errors always take (Flink's 404 and 409 have kinds of their own).
pub fn kind_of_status(status: u16, own: &[(u16, ErrorKind)]) -> ErrorKind {
    if let Some((_, kind)) = own.iter().find(|(s, _)| *s == status) {
        return *kind;
    }
    match status {
        401 | 403 => ErrorKind::Auth,
        s if s >= 500 => ErrorKind::Transient,
        _ => ErrorKind::Other,
    }
}

/// Checks the error of a failed answer whose kind comes from its status alone (Flink's,
/// Spark's): `HTTP <status>` as its code and first words, the status's kind, and what
/// [`check_error`] checks.
pub fn check_status_error(e: &BackendError, service: &str, op: &str, status: u16, kind: ErrorKind) {
    check_error(e, service, op, &format!("HTTP {status}: "));
    assert_eq!(e.kind, kind, "a failed answer of HTTP {status} is not a {kind:?}: {e:?}");
    assert_eq!(e.code, Some(format!("HTTP {status}")), "{e:?}");
}

/// Checks a summary of a server's text (a trace, a message): one line, and bounded.
pub fn check_summary(s: &str) {
    assert!(!s.contains('\n'), "a summary of more than one line: {s:?}");
    assert_bounded("a summary", s, 0);
}
