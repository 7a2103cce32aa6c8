//! Client quotas on a user, in the Kafka protocol's own terms: DescribeClientQuotas (API key
//! 48) and AlterClientQuotas (API key 49), both v0, encoded and parsed here without I/O (the
//! requests travel through `wire`). librdkafka has no client-quota API.

use super::wire::{Reader, WireError, Writer};
use crate::backends::streaming::Quota;

/// DescribeClientQuotas.
pub(super) const DESCRIBE_KEY: i16 = 48;
/// AlterClientQuotas.
pub(super) const ALTER_KEY: i16 = 49;

/// The entity type of a user quota.
const USER: &str = "user";
/// DescribeClientQuotas match type: the entity name given exactly.
const MATCH_EXACT: i8 = 0;

/// The quota keys we manage, in the order of [`Quota`]'s fields.
pub(super) const KEYS: [&str; 3] = ["producer_byte_rate", "consumer_byte_rate", "request_percentage"];

/// Why an answer gives no result.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Refusal {
    /// Not a valid answer to the request (truncated, inconsistent).
    Malformed(String),
    /// The broker answered with an error code, and maybe a message.
    Broker { code: i16, message: Option<String> },
}

fn truncated(what: &str) -> Refusal {
    Refusal::Malformed(format!("the {what} answer is truncated"))
}

fn values(q: &Quota) -> [Option<f64>; 3] {
    [q.producer_byte_rate, q.consumer_byte_rate, q.request_percentage]
}

fn user_entity(w: &mut Writer, user: &str) {
    w.count(1);
    w.string(USER);
    w.nullable_string(Some(user));
}

/// The DescribeClientQuotas v0 body: the quota of exactly user `user` (strict: not of
/// user-and-client-id pairs).
pub(super) fn describe_request(user: &str) -> Result<Vec<u8>, WireError> {
    let mut w = Writer::default();
    w.count(1);
    w.string(USER);
    w.i8(MATCH_EXACT);
    w.nullable_string(Some(user));
    w.bool(true);
    w.finish()
}

/// Reads an entity (its components, as type and name).
fn entity(r: &mut Reader<'_>, what: &str) -> Result<Vec<(String, Option<String>)>, Refusal> {
    let n = r.count(4).ok_or_else(|| truncated(what))?;
    let mut parts = Vec::with_capacity(n);
    for _ in 0..n {
        let ty = r.string().ok_or_else(|| truncated(what))?;
        let name = r.nullable_string().ok_or_else(|| truncated(what))?;
        parts.push((ty, name));
    }
    Ok(parts)
}

fn is_user(parts: &[(String, Option<String>)], user: &str) -> bool {
    matches!(parts, [(ty, Some(name))] if ty == USER && name == user)
}

/// Parses a DescribeClientQuotas v0 response body: the managed keys set on user `user`, or
/// None when none is. Keys we do not manage are skipped; bytes after the entries are ignored.
pub(super) fn parse_describe(body: &[u8], user: &str) -> Result<Option<Quota>, Refusal> {
    const WHAT: &str = "DescribeClientQuotas";
    let mut r = Reader::new(body);
    let _throttle = r.i32().ok_or_else(|| truncated(WHAT))?;
    let code = r.i16().ok_or_else(|| truncated(WHAT))?;
    let message = r.nullable_string().ok_or_else(|| truncated(WHAT))?;
    if code != 0 {
        return Err(Refusal::Broker { code, message });
    }
    let entries = r.count(8).ok_or_else(|| truncated(WHAT))?;
    let mut quota = Quota::default();
    for _ in 0..entries {
        let parts = entity(&mut r, WHAT)?;
        let n = r.count(10).ok_or_else(|| truncated(WHAT))?;
        for _ in 0..n {
            let key = r.string().ok_or_else(|| truncated(WHAT))?;
            let value = r.f64().ok_or_else(|| truncated(WHAT))?;
            if !is_user(&parts, user) {
                continue;
            }
            let slot = match key.as_str() {
                "producer_byte_rate" => &mut quota.producer_byte_rate,
                "consumer_byte_rate" => &mut quota.consumer_byte_rate,
                "request_percentage" => &mut quota.request_percentage,
                _ => continue,
            };
            if !value.is_finite() {
                return Err(Refusal::Malformed(format!("the broker reports {key} = {value} for user {user:?}")));
            }
            *slot = Some(value);
        }
    }
    Ok((!quota.is_empty()).then_some(quota))
}

/// The AlterClientQuotas v0 body that makes user `user`'s managed keys exactly `quota`: each
/// set key is set, every other managed key removed (None removes them all).
pub(super) fn alter_request(user: &str, quota: Option<&Quota>) -> Result<Vec<u8>, WireError> {
    let wanted = quota.map(values).unwrap_or_default();
    let mut w = Writer::default();
    w.count(1);
    user_entity(&mut w, user);
    w.count(KEYS.len());
    for (key, value) in KEYS.iter().zip(wanted) {
        w.string(key);
        w.f64(value.unwrap_or(0.0));
        w.bool(value.is_none());
    }
    w.bool(false);
    w.finish()
}

/// Parses an AlterClientQuotas v0 response body: Ok when user `user`'s entry has no error.
pub(super) fn parse_alter(body: &[u8], user: &str) -> Result<(), Refusal> {
    const WHAT: &str = "AlterClientQuotas";
    let mut r = Reader::new(body);
    let _throttle = r.i32().ok_or_else(|| truncated(WHAT))?;
    let entries = r.count(8).ok_or_else(|| truncated(WHAT))?;
    let mut answered = false;
    for _ in 0..entries {
        let code = r.i16().ok_or_else(|| truncated(WHAT))?;
        let message = r.nullable_string().ok_or_else(|| truncated(WHAT))?;
        let parts = entity(&mut r, WHAT)?;
        if code != 0 {
            return Err(Refusal::Broker { code, message });
        }
        answered |= is_user(&parts, user);
    }
    if !answered {
        return Err(Refusal::Malformed(format!("the AlterClientQuotas answer does not mention user {user:?}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(b: &mut Vec<u8>, v: &str) {
        b.extend_from_slice(&(v.len() as i16).to_be_bytes());
        b.extend_from_slice(v.as_bytes());
    }

    fn ent(b: &mut Vec<u8>, parts: &[(&str, &str)]) {
        b.extend_from_slice(&(parts.len() as i32).to_be_bytes());
        for (ty, name) in parts {
            s(b, ty);
            s(b, name);
        }
    }

    /// An entity's components and its quota values, as a test answer lists them.
    type Entry<'a> = (&'a [(&'a str, &'a str)], &'a [(&'a str, f64)]);

    /// A DescribeClientQuotas v0 answer with these entries.
    fn described(entries: &[Entry<'_>]) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0, 0, 0, 0xff, 0xff];
        b.extend_from_slice(&(entries.len() as i32).to_be_bytes());
        for (parts, values) in entries {
            ent(&mut b, parts);
            b.extend_from_slice(&(values.len() as i32).to_be_bytes());
            for (k, v) in *values {
                s(&mut b, k);
                b.extend_from_slice(&v.to_be_bytes());
            }
        }
        b
    }

    #[test]
    fn the_describe_request_matches_exactly_one_user_strictly() {
        let mut want = vec![0, 0, 0, 1, 0, 4];
        want.extend_from_slice(b"user");
        want.push(0);
        want.extend_from_slice(&[0, 5]);
        want.extend_from_slice(b"sales");
        want.push(1);
        assert_eq!(describe_request("sales"), Ok(want));
    }

    #[test]
    fn the_alter_request_sets_the_given_keys_and_removes_the_others() {
        let q = Quota { producer_byte_rate: Some(1024.0), request_percentage: Some(50.0), ..Default::default() };
        let Ok(body) = alter_request("sales", Some(&q)) else { panic!("encodes") };
        let mut want = vec![0, 0, 0, 1];
        ent(&mut want, &[("user", "sales")]);
        want.extend_from_slice(&3i32.to_be_bytes());
        for (k, v, remove) in
            [("producer_byte_rate", 1024.0, 0u8), ("consumer_byte_rate", 0.0, 1), ("request_percentage", 50.0, 0)]
        {
            s(&mut want, k);
            want.extend_from_slice(&f64::to_be_bytes(v));
            want.push(remove);
        }
        want.push(0);
        assert_eq!(body, want);
        let Ok(none) = alter_request("sales", None) else { panic!("encodes") };
        let mut want = vec![0, 0, 0, 1];
        ent(&mut want, &[("user", "sales")]);
        want.extend_from_slice(&3i32.to_be_bytes());
        for k in KEYS {
            s(&mut want, k);
            want.extend_from_slice(&f64::to_be_bytes(0.0));
            want.push(1);
        }
        want.push(0);
        assert_eq!(none, want);
    }

    #[test]
    fn the_users_own_keys_are_read_and_others_ignored() {
        let body = described(&[
            (&[("user", "sales")], &[("producer_byte_rate", 1024.0), ("controller_mutation_rate", 5.0)]),
            (&[("user", "sales"), ("client-id", "x")], &[("consumer_byte_rate", 9.0)]),
            (&[("user", "other")], &[("request_percentage", 9.0)]),
        ]);
        let got = parse_describe(&body, "sales");
        assert_eq!(got, Ok(Some(Quota { producer_byte_rate: Some(1024.0), ..Default::default() })));
        assert_eq!(parse_describe(&body, "nobody"), Ok(None));
        assert_eq!(parse_describe(&described(&[]), "sales"), Ok(None));
        let mut null_entries = vec![0, 0, 0, 0, 0, 0, 0xff, 0xff];
        null_entries.extend_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(parse_describe(&null_entries, "sales"), Ok(None));
    }

    #[test]
    fn a_truncated_describe_answer_is_an_error_not_a_panic() {
        let body = described(&[(&[("user", "sales")], &[("producer_byte_rate", 1024.0)])]);
        for len in 0..body.len() {
            assert!(matches!(parse_describe(&body[..len], "sales"), Err(Refusal::Malformed(_))), "length {len}");
        }
    }

    #[test]
    fn hostile_counts_and_values_are_refused() {
        let mut huge = vec![0, 0, 0, 0, 0, 0, 0xff, 0xff];
        huge.extend_from_slice(&i32::MAX.to_be_bytes());
        assert!(matches!(parse_describe(&huge, "sales"), Err(Refusal::Malformed(_))));
        let nan = described(&[(&[("user", "sales")], &[("producer_byte_rate", f64::NAN)])]);
        assert!(
            matches!(parse_describe(&nan, "sales"), Err(Refusal::Malformed(m)) if m.contains("producer_byte_rate"))
        );
    }

    #[test]
    fn broker_errors_carry_code_and_message() {
        let mut b = vec![0, 0, 0, 0, 0, 31];
        s(&mut b, "Cluster authorization failed.");
        b.extend_from_slice(&0i32.to_be_bytes());
        assert_eq!(
            parse_describe(&b, "sales"),
            Err(Refusal::Broker { code: 31, message: Some("Cluster authorization failed.".into()) })
        );
    }

    fn altered(code: i16, message: Option<&str>, user: &str) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0, 0, 0, 0, 1];
        b.extend_from_slice(&code.to_be_bytes());
        match message {
            Some(m) => s(&mut b, m),
            None => b.extend_from_slice(&[0xff, 0xff]),
        }
        ent(&mut b, &[("user", user)]);
        b
    }

    #[test]
    fn alter_answers_are_checked_for_the_user_and_its_error() {
        assert_eq!(parse_alter(&altered(0, None, "sales"), "sales"), Ok(()));
        assert!(matches!(parse_alter(&altered(0, None, "other"), "sales"), Err(Refusal::Malformed(_))));
        assert_eq!(
            parse_alter(&altered(42, Some("Invalid quota value"), "sales"), "sales"),
            Err(Refusal::Broker { code: 42, message: Some("Invalid quota value".into()) })
        );
        let body = altered(0, None, "sales");
        for len in 0..body.len() {
            assert!(parse_alter(&body[..len], "sales").is_err(), "length {len}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_answers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_describe(&bytes, "sales");
            let _ = parse_alter(&bytes, "sales");
        }

        #[test]
        fn quotas_round_trip(p in proptest::option::of(1.0f64..1e12), c in proptest::option::of(1.0f64..1e12), r in proptest::option::of(0.1f64..1e4)) {
            let q = Quota { producer_byte_rate: p, consumer_byte_rate: c, request_percentage: r };
            let pairs: Vec<(&str, f64)> = KEYS.iter().zip(values(&q)).filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
            let body = described(&[(&[("user", "sales")], &pairs)]);
            prop_assert_eq!(parse_describe(&body, "sales"), Ok((!q.is_empty()).then_some(q)));
        }
    }
}
