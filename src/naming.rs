//! Naming: every backend name is derived from the domain, product and stream names by the
//! rules in the design, never typed by hand. Pure functions, unit-tested.

/// Checks `name` against `^[a-z][first_rest]{min,max}$` where the rest allows `extra` besides
/// lowercase letters and digits; returns a sentence that says how to fix it.
fn check(kind: &str, name: &str, extra: &[char], min_rest: usize, max_rest: usize) -> Result<(), String> {
    let allowed_extra: String = extra.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ");
    let rule = format!(
        "A {kind} starts with a lowercase letter, followed by {min_rest} to {max_rest} lowercase letters, digits or {allowed_extra} ({} to {} characters in all).",
        min_rest + 1,
        max_rest + 1
    );
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err(format!("The {kind} is empty. {rule}"));
    };
    if !first.is_ascii_lowercase() {
        return Err(format!("{name:?} does not start with a lowercase letter. {rule}"));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(c))) {
        return Err(format!("{name:?} contains {bad:?}, which is not allowed. {rule}"));
    }
    let rest = name.chars().count() - 1;
    if rest < min_rest || rest > max_rest {
        return Err(format!("{name:?} is {} characters long. {rule}", rest + 1));
    }
    Ok(())
}

/// `^[a-z][a-z0-9-]{1,30}$`
pub fn check_domain(name: &str) -> Result<(), String> {
    check("domain name", name, &['-'], 1, 30)
}

/// `^[a-z][a-z0-9-]{1,40}$`
pub fn check_data_product(name: &str) -> Result<(), String> {
    check("data product name", name, &['-'], 1, 40)
}

/// `^[a-z][a-z0-9-]{1,40}$`
pub fn check_pipeline(name: &str) -> Result<(), String> {
    check("pipeline name", name, &['-'], 1, 40)
}

/// The ID of a pipeline: `<domain>/<pipeline>`.
pub fn pipeline_id(domain: &str, pipeline: &str) -> String {
    format!("{domain}/{pipeline}")
}

/// Splits a pipeline ID `<domain>/<pipeline>`, checking both names.
pub fn parse_pipeline_id(id: &str) -> Result<(String, String), String> {
    let Some((domain, name)) = id.split_once('/') else {
        return Err(format!(
            "{id:?} is not a pipeline ID. Write it as \"<domain>/<pipeline>\", like \"sales/daily-orders\"."
        ));
    };
    check_domain(domain)?;
    check_pipeline(name)?;
    Ok((domain.to_string(), name.to_string()))
}

/// `^[a-z][a-z0-9_-]{0,48}$`
pub fn check_stream(name: &str) -> Result<(), String> {
    check("stream name", name, &['_', '-'], 0, 48)
}

/// `[a-z][a-z0-9-]{1,15}`
pub fn check_name_prefix(prefix: &str) -> Result<(), String> {
    check("name_prefix", prefix, &['-'], 1, 15)
}

/// The domain's IAM role: `<name_prefix>-domain-<domain>`.
pub fn role_name(prefix: &str, domain: &str) -> String {
    format!("{prefix}-domain-{domain}")
}

/// The IAM path of every role this provider creates.
pub const ROLE_PATH: &str = "/datamesh/";

/// The data product's bucket: `<name_prefix>-<domain>-<product>`.
pub fn bucket_name(prefix: &str, domain: &str, product: &str) -> String {
    format!("{prefix}-{domain}-{product}")
}

/// Checks that a derived bucket name is a valid S3 bucket name; says how to fix it if not.
pub fn check_bucket_name(bucket: &str) -> Result<(), String> {
    let fix = "Shorten the name_prefix, domain or data product name, or avoid a trailing '-'.";
    if bucket.len() < 3 || bucket.len() > 63 {
        return Err(format!(
            "The derived bucket name {bucket:?} is {} characters long, but S3 bucket names have 3 to 63 characters. {fix}",
            bucket.len()
        ));
    }
    if !bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.') {
        return Err(format!("The derived bucket name {bucket:?} has characters S3 does not allow. {fix}"));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(bucket.chars().next()) || !edge_ok(bucket.chars().last()) {
        return Err(format!("The derived bucket name {bucket:?} must begin and end with a letter or digit. {fix}"));
    }
    if bucket.starts_with("xn--")
        || bucket.starts_with("sthree-")
        || bucket.ends_with("-s3alias")
        || bucket.ends_with("--ol-s3")
    {
        return Err(format!("The derived bucket name {bucket:?} uses a prefix or suffix S3 reserves. {fix}"));
    }
    Ok(())
}

/// The stream's topic: `<domain>.<product>.<stream>`.
pub fn topic_name(domain: &str, product: &str, stream: &str) -> String {
    format!("{domain}.{product}.{stream}")
}

/// A data product's ID: `<domain>/<product>`.
pub fn data_product_id(domain: &str, product: &str) -> String {
    format!("{domain}/{product}")
}

/// Splits a data product ID into domain and product, checking both names.
pub fn parse_data_product_id(id: &str) -> Result<(String, String), String> {
    let Some((domain, product)) = id.split_once('/') else {
        return Err(format!(
            "{id:?} is not a data product ID. Use \"<domain>/<product>\", for example \"sales/orders\"."
        ));
    };
    check_domain(domain)?;
    check_data_product(product)?;
    Ok((domain.to_string(), product.to_string()))
}

/// Splits a topic name into domain, product and stream, checking all three.
pub fn parse_topic(topic: &str) -> Result<(String, String, String), String> {
    let parts: Vec<&str> = topic.splitn(3, '.').collect();
    let [domain, product, stream] = parts.as_slice() else {
        return Err(format!("{topic:?} is not a stream's topic. Use \"<domain>.<product>.<stream>\", for example \"sales.orders.order-events\"."));
    };
    check_domain(domain)?;
    check_data_product(product)?;
    check_stream(stream)?;
    Ok((domain.to_string(), product.to_string(), stream.to_string()))
}

/// The domain's default Kafka principal: `User:<domain>`.
pub fn default_principal(domain: &str) -> String {
    format!("User:{domain}")
}

/// The owner policy a data product puts on its domain's role.
pub fn owner_policy_name(product: &str) -> String {
    format!("datamesh-owner-{product}")
}

/// The longest keyspace name Cassandra accepts.
pub const MAX_KEYSPACE_LEN: usize = 48;

/// A product's Cassandra keyspace: `<domain>__<product>` with each `-` written `_` (unquoted
/// CQL identifiers hold letters, digits and `_` only).
pub fn keyspace_name(domain: &str, product: &str) -> String {
    format!("{}__{}", domain.replace('-', "_"), product.replace('-', "_"))
}

/// Checks that a product can have a keyspace: no `--` in either name (it would read as the
/// `__` between them, so two products could share a keyspace) and at most 48 characters.
pub fn check_keyspace(domain: &str, product: &str) -> Result<(), String> {
    for (kind, name) in [("domain", domain), ("data product", product)] {
        if name.contains("--") {
            return Err(format!(
                "The {kind} name {name:?} holds \"--\", which a Cassandra keyspace name cannot tell apart from the \"__\" \
                 between domain and product. Use single hyphens, or remove the cassandra port."
            ));
        }
    }
    let keyspace = keyspace_name(domain, product);
    if keyspace.len() > MAX_KEYSPACE_LEN {
        return Err(format!(
            "The keyspace {keyspace:?} would be {} characters long; Cassandra allows at most {MAX_KEYSPACE_LEN}. \
             Shorten the data product's name (or the domain's) by {}, or remove the cassandra port.",
            keyspace.len(),
            keyspace.len() - MAX_KEYSPACE_LEN
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyspaces_write_hyphens_as_underscores_and_stay_within_48_characters() {
        assert_eq!(keyspace_name("sales", "orders"), "sales__orders");
        assert_eq!(keyspace_name("web-shop", "click-stream"), "web_shop__click_stream");
        assert!(check_keyspace("sales", "orders").is_ok());
        let e = check_keyspace("sales", "a--b").unwrap_err();
        assert!(e.contains("--") && e.contains("single hyphens"), "{e}");
        assert!(check_keyspace("a--b", "orders").is_err());
        // 20 + 2 + 26 = 48 fits; one more does not.
        let (d, p) = ("d".repeat(20), "p".repeat(26));
        assert!(check_keyspace(&d, &p).is_ok());
        let e = check_keyspace(&d, &format!("{p}x")).unwrap_err();
        assert!(e.contains("49 characters") && e.contains("by 1"), "{e}");
    }

    #[test]
    fn domain_names_follow_the_rule() {
        assert!(check_domain("sales").is_ok());
        assert!(check_domain("s1-x").is_ok());
        assert!(check_domain("a").is_err(), "too short");
        assert!(check_domain(&"a".repeat(31)).is_ok());
        assert!(check_domain(&"a".repeat(32)).is_err(), "too long");
        assert!(check_domain("Sales").is_err());
        assert!(check_domain("1sales").is_err());
        assert!(check_domain("sa_les").is_err());
        assert!(check_domain("sa*").is_err());
        assert!(check_domain("").is_err());
        let msg = check_domain("Sales").unwrap_err();
        assert!(msg.contains("starts with a lowercase letter"), "{msg}");
    }

    #[test]
    fn product_and_stream_names_follow_their_rules() {
        assert!(check_data_product("orders").is_ok());
        assert!(check_data_product(&"o".repeat(41)).is_ok());
        assert!(check_data_product(&"o".repeat(42)).is_err());
        assert!(check_data_product("or_ders").is_err());
        assert!(check_stream("e").is_ok(), "one character is enough for a stream");
        assert!(check_stream("order_events-v2").is_ok());
        assert!(check_stream(&"e".repeat(49)).is_ok());
        assert!(check_stream(&"e".repeat(50)).is_err());
        assert!(check_stream("events.v2").is_err());
        assert!(check_stream("ёvents").is_err(), "look-alike letters are rejected");
    }

    #[test]
    fn derived_names_follow_the_design() {
        assert_eq!(role_name("acme", "sales"), "acme-domain-sales");
        assert_eq!(bucket_name("acme", "sales", "orders"), "acme-sales-orders");
        assert_eq!(topic_name("sales", "orders", "order-events"), "sales.orders.order-events");
        assert_eq!(default_principal("sales"), "User:sales");
        assert_eq!(data_product_id("sales", "orders"), "sales/orders");
        assert_eq!(owner_policy_name("orders"), "datamesh-owner-orders");
    }

    #[test]
    fn bucket_names_must_be_valid_s3_names() {
        assert!(check_bucket_name("acme-sales-orders").is_ok());
        assert!(check_bucket_name(&format!("acme-{}-{}", "d".repeat(20), "p".repeat(37))).is_ok());
        let long = bucket_name("acme", &"d".repeat(31), &"p".repeat(41));
        assert!(check_bucket_name(&long).unwrap_err().contains("63"));
        assert!(check_bucket_name("acme-sales-orders-").is_err());
        assert!(check_bucket_name("acme-sales-x-s3alias").is_err());
    }

    #[test]
    fn ids_parse_back_into_names() {
        assert_eq!(parse_data_product_id("sales/orders").unwrap(), ("sales".into(), "orders".into()));
        assert!(parse_data_product_id("sales").is_err());
        assert!(parse_data_product_id("sales/orders/x").is_err());
        assert!(parse_data_product_id("../orders").is_err());
        assert_eq!(parse_topic("sales.orders.ev_1").unwrap(), ("sales".into(), "orders".into(), "ev_1".into()));
        assert!(parse_topic("sales.orders").is_err());
        assert!(parse_topic("sales.orders.a.b").is_err());
    }
}
