//! IAM policy documents: built from names alone, and compared semantically (IAM returns them
//! URL-encoded, reordered and with single values unwrapped). Pure functions, unit-tested.

use serde_json::{json, Value as Json};

/// The ARN of a bucket.
pub fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

/// The trust policy that lets `principals` assume a domain's role.
pub fn trust_policy(principals: &[String]) -> String {
    let mut principals: Vec<&String> = principals.iter().collect();
    principals.sort();
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": principals },
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// The principals a trust policy lets assume the role.
pub fn trusted_principals(trust_policy: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Json>(trust_policy) else { return Vec::new() };
    let mut out: Vec<String> = statements(&doc)
        .iter()
        .filter(|s| s.get("Effect").and_then(Json::as_str) == Some("Allow"))
        .filter_map(|s| s.get("Principal").and_then(|p| p.get("AWS")))
        .flat_map(one_or_many)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The owner policy: read and write on the product's bucket for its own domain.
pub fn owner_policy(bucket: &str) -> String {
    let arn = bucket_arn(bucket);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            { "Sid": "ListBucket", "Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:ListBucket"], "Resource": arn },
            { "Sid": "ReadWriteObjects", "Effect": "Allow", "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], "Resource": format!("{arn}/*") }
        ]
    })
    .to_string()
}

fn statements(doc: &Json) -> Vec<Json> {
    match doc.get("Statement") {
        Some(Json::Array(items)) => items.clone(),
        Some(single @ Json::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    }
}

fn one_or_many(v: &Json) -> Vec<String> {
    match v {
        Json::String(s) => vec![s.clone()],
        Json::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// A policy in canonical form: single values become one-element sets, lists are sorted,
/// statements are sorted, so equal meaning gives equal JSON.
fn canonical(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, val) in m {
                let c = canonical(val);
                let c = match (k.as_str(), c) {
                    (
                        "Action" | "NotAction" | "Resource" | "NotResource" | "AWS" | "Service" | "Federated",
                        Json::String(s),
                    ) => Json::Array(vec![Json::String(s)]),
                    ("Statement", obj @ Json::Object(_)) => Json::Array(vec![obj]),
                    (_, other) => other,
                };
                out.insert(k.clone(), c);
            }
            Json::Object(out)
        }
        Json::Array(items) => {
            let mut items: Vec<Json> = items.iter().map(canonical).collect();
            items.sort_by_key(|i| i.to_string());
            items.dedup();
            Json::Array(items)
        }
        other => other.clone(),
    }
}

/// Whether two policy documents mean the same.
pub fn equivalent(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<Json>(a), serde_json::from_str::<Json>(b)) {
        (Ok(a), Ok(b)) => canonical(&a) == canonical(&b),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_policy_grants_read_write_on_its_bucket_only() {
        let doc: Json = serde_json::from_str(&owner_policy("acme-sales-orders")).unwrap();
        let resources: Vec<String> = statements(&doc).iter().flat_map(|s| one_or_many(&s["Resource"])).collect();
        assert_eq!(resources, vec!["arn:aws:s3:::acme-sales-orders", "arn:aws:s3:::acme-sales-orders/*"]);
        assert!(!owner_policy("b").contains("\"*\""), "no wildcard resource");
    }

    #[test]
    fn policies_compare_by_meaning() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*"}]}"#;
        let b = r#"{"Statement":{"Resource":["arn:aws:s3:::b/*"],"Action":["s3:PutObject","s3:GetObject"],"Effect":"Allow"},"Version":"2012-10-17"}"#;
        assert!(equivalent(a, b));
        let c = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert!(!equivalent(a, c));
    }

    #[test]
    fn trust_policy_round_trips_its_principals() {
        let p = vec!["arn:aws:iam::123456789012:root".to_string(), "arn:aws:iam::1:role/x".to_string()];
        let doc = trust_policy(&p);
        let mut expected = p.clone();
        expected.sort();
        assert_eq!(trusted_principals(&doc), expected);
        let single =
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"sts:AssumeRole"}]}"#;
        assert_eq!(trusted_principals(single), vec!["arn:aws:iam::1:root"]);
    }
}
