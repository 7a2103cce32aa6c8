//! What every answer parser shares: a body parsed into its type, and the bounded excerpt of a
//! body (or any server text) an error message quotes.

use crate::error::{BackendError, ErrorKind};

/// The most characters of a body an error message quotes (then `...`).
pub const EXCERPT_CHARS: usize = 200;

/// Parses a successful answer of `op` from `service`; `server` says whose answer it is in the
/// error ("the JobManager's").
pub fn parse<T: serde::de::DeserializeOwned>(
    service: &'static str,
    op: &'static str,
    server: &str,
    body: &str,
) -> Result<T, BackendError> {
    serde_json::from_str(body).map_err(|e| {
        BackendError::new(
            ErrorKind::Other,
            service,
            op,
            format!("{server} answer is not what {op} returns ({e}): {}", excerpt(body)),
        )
    })
}

/// At most `max` characters of `text`, with `...` when it was cut.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// The start of an answer's body ([`EXCERPT_CHARS`] characters at most), for an error message.
pub fn excerpt(body: &str) -> String {
    match body.trim() {
        "" => "(empty body)".into(),
        body => clip(body, EXCERPT_CHARS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_at_a_character_boundary() {
        assert_eq!(clip("äöü", 2), "äö...");
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(excerpt("  \n"), "(empty body)");
        assert_eq!(excerpt(&"x".repeat(250)).len(), 203);
    }
}
