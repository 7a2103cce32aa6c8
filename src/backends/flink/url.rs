//! The one way anything gets into a JobManager URL: job IDs are checked to be what Flink makes
//! (32 hex digits), the IDs of uploaded jars to be one plain path segment, and the name a jar
//! is uploaded under is reduced to characters that need no quoting anywhere. What fails a check
//! never reaches a URL.

/// `id` when it is a Flink job ID (a `JobID`: 32 hex digits); None for anything else, which no
/// JobManager can know.
pub(super) fn job_id(id: &str) -> Option<&str> {
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

/// `id` when it is one plain path segment (letters, digits, `.`, `_`, `-`; not only dots, which
/// the URL parser would resolve); the jar IDs the JobManager makes are of this shape.
pub(super) fn segment(id: &str) -> Option<&str> {
    let plain = !id.is_empty()
        && id.len() <= 255
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !id.bytes().all(|b| b == b'.');
    plain.then_some(id)
}

/// The file name a jar is uploaded as: `name` with every character but letters, digits, `.`,
/// `_` and `-` replaced by `_`, ending in `.jar` (the JobManager refuses other uploads, and
/// makes the jar's ID from this name).
pub(super) fn jar_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut clean: String = base
        .chars()
        .take(100)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect();
    if !clean.to_ascii_lowercase().ends_with(".jar") {
        clean.push_str(".jar");
    }
    if clean.starts_with('.') {
        clean.insert(0, '_');
    }
    clean
}

/// A new random ID of Flink's shape (32 hex digits): the job ID a run asks for, and the trigger
/// ID that makes a savepoint or stop request safe to send again.
pub(super) fn new_id() -> String {
    format!("{:032x}", fastrand::u128(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_32_hex_digits() {
        assert_eq!(job_id("a714697148551baa7c293d150601962c"), Some("a714697148551baa7c293d150601962c"));
        assert!(job_id("A714697148551BAA7C293D150601962C").is_some());
        for bad in [
            "",
            "nothex",
            "a714697148551baa7c293d150601962",
            "a714697148551baa7c293d150601962c0",
            "../../jars/a714697148551baa7c29",
            "a714697148551baa7c293d15060196?c",
            "a714697148551baa7c293d1506019/2c",
            "a714697148551baa7c293d150601962\n",
            "ä714697148551baa7c293d150601962",
        ] {
            assert_eq!(job_id(bad), None, "{bad:?}");
        }
        let id = new_id();
        assert_eq!(job_id(&id), Some(id.as_str()));
        assert_ne!(new_id(), new_id());
    }

    #[test]
    fn segments_cannot_move_or_add_to_a_path() {
        assert!(segment("94d6f9d2-641d-4166-b4ff-05e8bdba81ce_smoke.jar").is_some());
        for bad in ["", ".", "..", "...", "a/b", "a?b", "a#b", "a%2Fb", "a b", "a\r\nHost: x", "ü.jar"] {
            assert_eq!(segment(bad), None, "{bad:?}");
        }
        assert_eq!(segment(&"a".repeat(256)), None);
    }

    #[test]
    fn jar_file_names_are_plain() {
        assert_eq!(jar_file_name("orders-1.2.jar"), "orders-1.2.jar");
        assert_eq!(jar_file_name("/srv/jobs/orders.JAR"), "orders.JAR");
        assert_eq!(jar_file_name("orders"), "orders.jar");
        assert_eq!(jar_file_name("a\"; filename=\"x.sh\r\n.jar"), "a___filename__x.sh__.jar");
        assert_eq!(jar_file_name("..\\..\\evil.jar"), "evil.jar");
        assert_eq!(jar_file_name(".jar"), "_.jar");
        assert_eq!(jar_file_name(""), "_.jar");
        for name in ["ü.jar", "../x", "a b", "\u{0}"] {
            let clean = jar_file_name(name);
            assert!(segment(&clean).is_some() && clean.ends_with(".jar"), "{name:?} -> {clean:?}");
        }
    }
}
