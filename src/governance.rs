//! Governance rules, checked at plan time so a pull request shows the error at the offending
//! attribute before anything is touched. Pure functions, unit-tested.

use std::collections::BTreeMap;

use crate::provider::config::Governance;
use tfplugin::framework::{AttrPath, Diagnostics};

/// A data product's governed attributes; `None` where the value is not known yet.
#[derive(Debug, Default)]
pub struct ProductFacts<'a> {
    /// `classification`.
    pub classification: Option<&'a str>,
    /// `contains_pii`.
    pub contains_pii: Option<bool>,
    /// `retention_days`, when set.
    pub retention_days: Option<i64>,
    /// `tags`, when known.
    pub tags: Option<&'a BTreeMap<String, String>>,
}

/// The shortest stay in S3 Standard before objects may move to `STANDARD_IA` (S3's own rule).
pub const MIN_INFREQUENT_ACCESS_DAYS: i64 = 30;

/// Checks the S3 port's cost tiers: `infrequent_access_after_days` at least 30,
/// `archive_after_days` after it, both before `retention_days` (objects would expire first).
/// `None` where a value is unset or not known yet.
pub fn check_storage_tiers(
    ia: Option<i64>,
    archive: Option<i64>,
    retention_days: Option<i64>,
    diags: &mut Diagnostics,
) {
    let at = |name: &str| AttrPath::attr("s3").then(name);
    if let Some(ia) = ia {
        if ia < MIN_INFREQUENT_ACCESS_DAYS {
            diags.attr_error(at("infrequent_access_after_days"), "Too early for infrequent access", format!("infrequent_access_after_days is {ia}, but S3 moves objects to STANDARD_IA no earlier than {MIN_INFREQUENT_ACCESS_DAYS} days after creation. Set {MIN_INFREQUENT_ACCESS_DAYS} or more."));
        }
    }
    if let Some(archive) = archive {
        if archive < 1 {
            diags.attr_error(
                at("archive_after_days"),
                "Invalid archive_after_days",
                format!("archive_after_days must be at least 1, but it is {archive}."),
            );
        } else if let Some(ia) = ia.filter(|ia| archive <= *ia) {
            diags.attr_error(at("archive_after_days"), "Archive before infrequent access", format!("archive_after_days ({archive}) must be later than infrequent_access_after_days ({ia}): objects move to infrequent access first, then to the archive. Raise it above {ia}, or remove infrequent_access_after_days."));
        }
    }
    if let Some(days) = retention_days {
        for (name, v) in [("infrequent_access_after_days", ia), ("archive_after_days", archive)] {
            if let Some(v) = v.filter(|v| *v >= days) {
                diags.attr_error(at(name), "Transition after expiry", format!("{name} is {v}, but objects expire after retention_days = {days}, so they would never move. Set it below {days}, or raise retention_days."));
            }
        }
    }
}

/// Checks a data product against the rules; problems go to `diags` at their attribute.
pub fn check_data_product(
    rules: &Governance,
    default_tags: &BTreeMap<String, String>,
    p: &ProductFacts<'_>,
    diags: &mut Diagnostics,
) {
    let allowed = rules.allowed_classifications.join(", ");
    if let Some(c) = p.classification {
        if rules.rank(c).is_none() {
            diags.attr_error(
                AttrPath::attr("classification"),
                "Classification not allowed",
                format!("{c:?} is not an allowed classification. Use one of: {allowed} (governance.allowed_classifications)."),
            );
        }
    }
    if let (Some(true), Some(c)) = (p.contains_pii, p.classification) {
        if let (Some(rank), Some(min)) = (rules.rank(c), rules.rank(&rules.pii_min_classification)) {
            if rank < min {
                let ok: Vec<&str> = rules.allowed_classifications[min..].iter().map(String::as_str).collect();
                diags.attr_error(
                    AttrPath::attr("classification"),
                    "Classification too low for personal data",
                    format!(
                        "A data product with contains_pii = true needs a classification of at least {:?} \
                         (governance.pii_min_classification), but it is {c:?}. Use one of: {}, or set contains_pii = false \
                         if it holds no personal data.",
                        rules.pii_min_classification,
                        ok.join(", ")
                    ),
                );
            }
        }
    }
    if let Some(days) = p.retention_days {
        if days < 1 {
            diags.attr_error(
                AttrPath::attr("retention_days"),
                "Invalid retention_days",
                format!("retention_days must be at least 1, but it is {days}. Remove it to keep data forever."),
            );
        } else if let Some(max) = rules.max_retention_days {
            if days > max {
                diags.attr_error(
                    AttrPath::attr("retention_days"),
                    "Retention too long",
                    format!("retention_days is {days}, but governance allows at most {max} days (governance.max_retention_days). Lower it to {max} or less."),
                );
            }
        }
    }
    if let Some(tags) = p.tags {
        let missing: Vec<&str> = rules
            .required_tags
            .iter()
            .filter(|k| !tags.contains_key(*k) && !default_tags.contains_key(*k))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            diags.attr_error(
                AttrPath::attr("tags"),
                "Missing required tags",
                format!(
                    "Governance requires the tag(s) {} on every data product (governance.required_tags). Add them to tags, \
                     or to the provider's default_tags.",
                    missing.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
}

/// A grant's governed facts; `None` where not known yet.
#[derive(Debug, Default)]
pub struct GrantFacts<'a> {
    /// `consumer_domain`.
    pub consumer_domain: Option<&'a str>,
    /// The domain owning the granted product.
    pub product_domain: Option<&'a str>,
    /// `expires_at`: `Some(None)` when known to be unset.
    pub expires_at: Option<Option<&'a str>>,
    /// The granted product's classification, when it is in the catalog already.
    pub classification: Option<&'a str>,
}

/// Parses an RFC 3339 timestamp, with a sentence that says how to write one.
pub fn parse_expiry(value: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(value).map(|t| t.with_timezone(&chrono::Utc)).map_err(|e| {
        format!("{value:?} is not an RFC 3339 timestamp ({e}). Write it like \"2027-01-31T00:00:00Z\", or use timeadd(timestamp(), \"720h\") with a lifecycle ignore.")
    })
}

/// Checks a grant against the rules, at `now`.
pub fn check_grant(
    rules: &Governance,
    g: &GrantFacts<'_>,
    now: chrono::DateTime<chrono::Utc>,
    diags: &mut Diagnostics,
) {
    if let (Some(consumer), Some(owner)) = (g.consumer_domain, g.product_domain) {
        if consumer == owner {
            diags.attr_error(
                AttrPath::attr("consumer_domain"),
                "A domain cannot be granted its own product",
                format!("Domain {consumer:?} owns this data product and already has full access through its owner policy. Grant it to another domain."),
            );
        }
    }
    match g.expires_at {
        Some(Some(at)) => match parse_expiry(at) {
            Ok(t) if t <= now => diags.attr_error(
                AttrPath::attr("expires_at"),
                "Expiry in the past",
                format!(
                    "expires_at {at:?} is not in the future (now is {}). Set a later time, or remove the grant.",
                    now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            ),
            Ok(_) => {}
            Err(msg) => diags.attr_error(AttrPath::attr("expires_at"), "Invalid expires_at", msg),
        },
        Some(None) => {
            let most_sensitive = rules.allowed_classifications.last().map(String::as_str);
            if rules.restricted_grants_require_expiry
                && g.classification.is_some()
                && g.classification == most_sensitive
            {
                diags.attr_error(
                    AttrPath::attr("expires_at"),
                    "Grant needs an expiry",
                    format!(
                        "The data product is classified {:?}, the most sensitive level, and governance requires grants on it to expire \
                         (governance.restricted_grants_require_expiry). Set expires_at to an RFC 3339 time, like \"2027-01-31T00:00:00Z\".",
                        g.classification.unwrap_or_default()
                    ),
                );
            }
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier_errors(ia: Option<i64>, archive: Option<i64>, retention: Option<i64>) -> Vec<String> {
        let mut d = Diagnostics::new();
        check_storage_tiers(ia, archive, retention, &mut d);
        d.0.iter().filter_map(|x| x.path.as_ref().map(|p| p.to_string())).collect()
    }

    #[test]
    fn storage_tiers_go_standard_then_infrequent_then_archive_before_expiry() {
        assert!(tier_errors(Some(30), Some(90), Some(365)).is_empty());
        assert!(tier_errors(None, Some(1), None).is_empty(), "archive alone may be early");
        assert_eq!(tier_errors(Some(29), None, None), vec!["s3.infrequent_access_after_days"]);
        assert_eq!(tier_errors(Some(60), Some(60), None), vec!["s3.archive_after_days"]);
        assert_eq!(tier_errors(Some(30), Some(90), Some(90)), vec!["s3.archive_after_days"]);
        assert_eq!(tier_errors(Some(30), None, Some(30)), vec!["s3.infrequent_access_after_days"]);
        assert_eq!(tier_errors(None, Some(0), None), vec!["s3.archive_after_days"]);
    }

    fn rules() -> Governance {
        Governance { required_tags: vec!["cost_center".into()], max_retention_days: Some(365), ..Governance::default() }
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.0.iter().map(|x| x.path.as_ref().map(|p| p.to_string()).unwrap_or_default()).collect()
    }

    fn now() -> chrono::DateTime<chrono::Utc> {
        parse_expiry("2026-06-01T00:00:00Z").unwrap()
    }

    #[test]
    fn a_domain_cannot_be_granted_its_own_product() {
        let mut d = Diagnostics::new();
        check_grant(
            &rules(),
            &GrantFacts { consumer_domain: Some("sales"), product_domain: Some("sales"), ..Default::default() },
            now(),
            &mut d,
        );
        assert_eq!(paths(&d), vec!["consumer_domain"]);
    }

    #[test]
    fn expiry_must_be_a_future_rfc3339_time() {
        for (at, ok) in [
            ("2027-01-01T00:00:00Z", true),
            ("2026-01-01T00:00:00Z", false),
            ("next week", false),
            ("2027-01-01T00:00:00+02:00", true),
        ] {
            let mut d = Diagnostics::new();
            check_grant(&rules(), &GrantFacts { expires_at: Some(Some(at)), ..Default::default() }, now(), &mut d);
            assert_eq!(d.is_empty(), ok, "{at}: {d:?}");
            if !ok {
                assert_eq!(paths(&d), vec!["expires_at"]);
            }
        }
    }

    #[test]
    fn grants_on_the_most_sensitive_products_need_an_expiry() {
        let g = GrantFacts { expires_at: Some(None), classification: Some("restricted"), ..Default::default() };
        let mut d = Diagnostics::new();
        check_grant(&rules(), &g, now(), &mut d);
        assert_eq!(paths(&d), vec!["expires_at"]);
        let relaxed = Governance { restricted_grants_require_expiry: false, ..rules() };
        let mut d = Diagnostics::new();
        check_grant(&relaxed, &g, now(), &mut d);
        assert!(d.is_empty());
        let mut d = Diagnostics::new();
        check_grant(&rules(), &GrantFacts { classification: Some("confidential"), ..g }, now(), &mut d);
        assert!(d.is_empty());
    }

    #[test]
    fn a_compliant_product_passes() {
        let tags = BTreeMap::from([("cost_center".to_string(), "42".to_string())]);
        let mut d = Diagnostics::new();
        let p = ProductFacts {
            classification: Some("confidential"),
            contains_pii: Some(true),
            retention_days: Some(30),
            tags: Some(&tags),
        };
        check_data_product(&rules(), &BTreeMap::new(), &p, &mut d);
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn unknown_classification_is_rejected() {
        let mut d = Diagnostics::new();
        check_data_product(
            &rules(),
            &BTreeMap::new(),
            &ProductFacts { classification: Some("secret"), ..Default::default() },
            &mut d,
        );
        assert_eq!(paths(&d), vec!["classification"]);
        assert!(d.0[0].detail.contains("public, internal, confidential, restricted"));
    }

    #[test]
    fn pii_needs_the_minimum_classification() {
        let mut d = Diagnostics::new();
        let p = ProductFacts { classification: Some("internal"), contains_pii: Some(true), ..Default::default() };
        check_data_product(&rules(), &BTreeMap::new(), &p, &mut d);
        assert_eq!(paths(&d), vec!["classification"]);
        assert!(d.0[0].detail.contains("confidential, restricted"));
        let mut d = Diagnostics::new();
        let p = ProductFacts { classification: Some("internal"), contains_pii: Some(false), ..Default::default() };
        check_data_product(&rules(), &BTreeMap::new(), &p, &mut d);
        assert!(d.is_empty());
    }

    #[test]
    fn retention_is_bounded() {
        for (days, bad) in [(0, true), (-1, true), (1, false), (365, false), (366, true)] {
            let mut d = Diagnostics::new();
            check_data_product(
                &rules(),
                &BTreeMap::new(),
                &ProductFacts { retention_days: Some(days), ..Default::default() },
                &mut d,
            );
            assert_eq!(d.has_errors(), bad, "retention {days}");
        }
    }

    #[test]
    fn required_tags_may_come_from_default_tags() {
        let none = BTreeMap::new();
        let mut d = Diagnostics::new();
        check_data_product(&rules(), &none, &ProductFacts { tags: Some(&none), ..Default::default() }, &mut d);
        assert_eq!(paths(&d), vec!["tags"]);
        let defaults = BTreeMap::from([("cost_center".to_string(), "1".to_string())]);
        let mut d = Diagnostics::new();
        check_data_product(&rules(), &defaults, &ProductFacts { tags: Some(&none), ..Default::default() }, &mut d);
        assert!(d.is_empty());
    }
}
