//! Governance rules, checked at plan time so a pull request shows the error at the offending
//! attribute before anything is touched. Pure functions, unit-tested.

use std::collections::BTreeMap;

use crate::framework::{AttrPath, Diagnostics};
use crate::provider::config::Governance;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Governance {
        Governance { required_tags: vec!["cost_center".into()], max_retention_days: Some(365), ..Governance::default() }
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.0.iter().map(|x| x.path.as_ref().map(|p| p.to_string()).unwrap_or_default()).collect()
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
