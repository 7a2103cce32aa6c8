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

/// A grant's policy on the consumer's role: list the bucket and read its objects (and write
/// them for `read_write`); with an expiry, IAM itself ends access at that time.
pub fn grant_policy(bucket: &str, read_write: bool, expires_at: Option<&str>) -> String {
    let arn = bucket_arn(bucket);
    let mut actions = vec!["s3:GetObject"];
    if read_write {
        actions.extend(["s3:PutObject", "s3:DeleteObject"]);
    }
    actions.sort();
    let mut list = json!({ "Sid": "ListBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": arn });
    let mut objects = json!({ "Sid": "Objects", "Effect": "Allow", "Action": actions, "Resource": format!("{arn}/*") });
    if let Some(at) = expires_at {
        let condition = json!({ "DateLessThan": { "aws:CurrentTime": at } });
        list["Condition"] = condition.clone();
        objects["Condition"] = condition;
    }
    json!({ "Version": "2012-10-17", "Statement": [list, objects] }).to_string()
}

/// What a grant policy allows: (read_write, expiry), if it looks like one.
pub fn grant_policy_facts(document: &str) -> (bool, Option<String>) {
    let Ok(doc) = serde_json::from_str::<Json>(document) else { return (false, None) };
    let stmts = statements(&doc);
    let read_write = stmts.iter().flat_map(|s| one_or_many(&s["Action"])).any(|a| a == "s3:PutObject");
    let expiry = stmts
        .iter()
        .find_map(|s| s.pointer("/Condition/DateLessThan/aws:CurrentTime").and_then(Json::as_str).map(str::to_string));
    (read_write, expiry)
}

/// Every `Resource` in a policy document, for checks that nothing is granted too widely.
pub fn resources(document: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Json>(document) else { return Vec::new() };
    statements(&doc).iter().flat_map(|s| one_or_many(&s["Resource"])).collect()
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
    fn read_grants_only_read_and_list() {
        let doc = grant_policy("acme-sales-orders", false, None);
        let parsed: Json = serde_json::from_str(&doc).unwrap();
        let actions: Vec<String> = statements(&parsed).iter().flat_map(|s| one_or_many(&s["Action"])).collect();
        assert_eq!(actions, vec!["s3:ListBucket", "s3:GetObject"]);
        assert_eq!(grant_policy_facts(&doc), (false, None));
    }

    #[test]
    fn read_write_grants_also_put_and_delete() {
        let doc = grant_policy("b", true, None);
        assert!(doc.contains("s3:PutObject") && doc.contains("s3:DeleteObject"));
        assert!(grant_policy_facts(&doc).0);
    }

    #[test]
    fn expiry_becomes_an_iam_condition_on_every_statement() {
        let doc = grant_policy("b", false, Some("2030-01-01T00:00:00Z"));
        let parsed: Json = serde_json::from_str(&doc).unwrap();
        for s in statements(&parsed) {
            assert_eq!(s.pointer("/Condition/DateLessThan/aws:CurrentTime").unwrap(), "2030-01-01T00:00:00Z");
        }
        assert_eq!(grant_policy_facts(&doc).1.as_deref(), Some("2030-01-01T00:00:00Z"));
    }

    #[test]
    fn generated_policies_never_grant_a_wildcard_beyond_the_bucket_objects() {
        for doc in
            [owner_policy("acme-sales-orders"), grant_policy("acme-sales-orders", true, Some("2030-01-01T00:00:00Z"))]
        {
            for r in resources(&doc) {
                assert!(
                    r == "arn:aws:s3:::acme-sales-orders" || r == "arn:aws:s3:::acme-sales-orders/*",
                    "unexpected resource {r}"
                );
            }
        }
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
