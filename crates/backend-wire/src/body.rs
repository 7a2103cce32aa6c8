//! What every answer parser shares: a body parsed into its type, and the bounded excerpt of a
//! body (or any server text) an error message quotes.

use crate::error::{BackendError, ErrorKind};

/// The most characters of a body an error message quotes (then `...`), and of what the JSON
/// parser says about it.
pub const EXCERPT_CHARS: usize = 200;

/// The most characters of one text of a server's own (a message, a cause, a name) kept in an
/// error or a status: enough for a cause, not a whole trace.
pub const MAX_SERVER_TEXT: usize = 1000;

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
            // serde's message quotes the value it could not take, however long: clipped too.
            format!(
                "{server} answer is not what {op} returns ({}): {}",
                clip(&e.to_string(), EXCERPT_CHARS),
                excerpt(body)
            ),
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

    #[test]
    fn a_parse_error_is_bounded_whatever_the_value_it_quotes() {
        // Found by the answer fuzz targets' bound on messages (on an input written by hand:
        // the runs did not grow strings this long): serde's message quoted a mistyped string
        // whole, so a server could make the error as long as its answer.
        #[derive(Debug, serde::Deserialize)]
        struct Answer {
            #[allow(dead_code)]
            n: i64,
        }
        let body = format!(r#"{{"n": "{}"}}"#, "x".repeat(5000));
        let e = parse::<Answer>("Flink", "GetJob", "the JobManager's", &body).unwrap_err();
        assert!(
            e.message.starts_with("the JobManager's answer is not what GetJob returns (invalid type: string"),
            "{e}"
        );
        assert!(e.message.chars().count() < 600, "{} characters", e.message.chars().count());
    }
}
