//! Helpers every resource file shares: tag merging, plan-time look-ups of known values, and
//! turning backend results into diagnostics.

use crate::backends::Diagnose;
use std::collections::BTreeMap;

use crate::backends::BackendError;
use tfplugin::framework::{AttrPath, Diagnostics, Value};

/// Tag keys under this prefix are set by the provider and may not be set by users.
pub(super) const RESERVED_TAG_PREFIX: &str = "datamesh:";

/// `default_tags`, then the resource's `tags`, then the provider's standard tags (which win).
pub(super) fn tags_all(
    default_tags: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
    standard: &[(&str, String)],
) -> BTreeMap<String, String> {
    let mut all = default_tags.clone();
    all.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    all.extend(standard.iter().map(|(k, v)| (k.to_string(), v.clone())));
    all
}

/// A string attribute's value when known (null counts as known: `Some(None)`).
pub(super) fn known_str<'a>(v: &'a Value, attr: &str) -> Option<Option<&'a str>> {
    let a = v.get(attr);
    if a.is_unknown() {
        None
    } else {
        Some(a.as_str())
    }
}

/// A map-of-strings attribute when wholly known (null is an empty map).
pub(super) fn known_map(v: &Value, attr: &str) -> Option<BTreeMap<String, String>> {
    let a = v.get(attr);
    if !a.is_wholly_known() {
        return None;
    }
    Some(match a {
        Value::Map(m) | Value::Object(m) => {
            m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect()
        }
        _ => BTreeMap::new(),
    })
}

/// Records governance failures; on a resource that already exists (a rule tightened since it
/// was made), each says how to remove it anyway: `terraform destroy` plans the configuration
/// first and meets the same checks (Terraform's behaviour, hashicorp/terraform#33908).
pub(super) fn governance_failures(prior: &Value, checked: Diagnostics, diags: &mut Diagnostics) {
    for mut d in checked.0 {
        if !prior.is_null() && d.severity == tfplugin::framework::Severity::Error {
            d.detail.push_str(
                " This resource exists already: to destroy it regardless of the rule, run \
                 `terraform destroy -refresh=false` (its plan then skips these checks).",
            );
        }
        diags.0.push(d);
    }
}

/// A map of strings as a value.
pub(super) fn map_value(m: &BTreeMap<String, String>) -> Value {
    Value::Map(m.iter().map(|(k, v)| (k.clone(), Value::string(v))).collect())
}

/// Checks user tags: non-empty keys, no reserved prefix, sane lengths and no control characters.
pub(super) fn validate_tags(config: &Value, diags: &mut Diagnostics) {
    let Some(tags) = known_map(config, "tags") else { return };
    for (k, v) in &tags {
        let path = AttrPath::attr("tags").key(k);
        if k.is_empty() || k.len() > 128 {
            diags.attr_error(path, "Invalid tag key", "Tag keys have 1 to 128 characters.");
        } else if k.starts_with(RESERVED_TAG_PREFIX) {
            diags.attr_error(
                path,
                "Reserved tag key",
                format!(
                    "Tag keys starting with {RESERVED_TAG_PREFIX:?} are set by the provider itself. Use another key."
                ),
            );
        } else if v.len() > 256 {
            diags.attr_error(path, "Tag value too long", "Tag values have at most 256 characters. Shorten it.");
        } else if let Some(bad) = k.chars().chain(v.chars()).find(|c| !is_tag_char(*c)) {
            diags.attr_error(
                path,
                "Invalid tag",
                format!(
                    "Tags may hold letters, digits, spaces and _ . : / = + - @ only (the rule S3 and IAM enforce); \
                     {bad:?} is not allowed. Remove it."
                ),
            );
        }
    }
}

/// What S3 and IAM accept in tag keys and values: letters, digits, spaces and `_.:/=+-@`.
pub(super) fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c)
}

/// Checks free text that ends up in a tag value (owner): the tag rule and at most 256 characters.
pub(super) fn validate_tag_text(config: &Value, attr: &str, diags: &mut Diagnostics) {
    let Some(Some(text)) = known_str(config, attr) else { return };
    if text.chars().count() > 256 {
        diags.attr_error(
            AttrPath::attr(attr),
            format!("{attr} too long"),
            format!("{attr} has at most 256 characters (it becomes a tag). Shorten it."),
        );
    } else if let Some(bad) = text.chars().find(|c| !is_tag_char(*c)) {
        diags.attr_error(
            AttrPath::attr(attr),
            format!("Invalid {attr}"),
            format!("{attr} becomes a tag value, which may hold letters, digits, spaces and _ . : / = + - @ only; {bad:?} is not allowed."),
        );
    }
}

/// Checks free text kept in the catalog (description, purpose): no control characters, bounded.
pub(super) fn validate_text(config: &Value, attr: &str, max: usize, diags: &mut Diagnostics) {
    let Some(Some(text)) = known_str(config, attr) else { return };
    if text.chars().count() > max {
        diags.attr_error(
            AttrPath::attr(attr),
            format!("{attr} too long"),
            format!("{attr} has at most {max} characters. Shorten it."),
        );
    } else if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        diags.attr_error(
            AttrPath::attr(attr),
            format!("Invalid {attr}"),
            format!("{attr} may not contain control characters. Remove them."),
        );
    }
}

/// Checks a naming rule on a known string attribute.
pub(super) fn validate_name(config: &Value, attr: &str, rule: fn(&str) -> Result<(), String>, diags: &mut Diagnostics) {
    if let Some(Some(name)) = known_str(config, attr) {
        if let Err(msg) = rule(name) {
            diags.attr_error(AttrPath::attr(attr), format!("Invalid {attr}"), msg);
        }
    }
}

/// Records a backend error as a diagnostic about `what`; returns whether it succeeded.
pub(super) fn ok_or_report<T>(r: Result<T, BackendError>, what: &str, diags: &mut Diagnostics) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            diags.0.push(e.diagnostic(what));
            None
        }
    }
}

/// The current time as RFC 3339, for `created_at`.
pub(super) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Whether two JSON documents are equal after parsing (whitespace and key order ignored).
pub(super) fn json_equivalent(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Keeps the prior value of a JSON-string attribute when the planned one means the same, so
/// reformatting never shows as a change.
pub(super) fn keep_equivalent_json(prior: &Value, planned: &mut Value, attr: &str, same: fn(&str, &str) -> bool) {
    if let (Some(old), Some(new)) = (prior.get(attr).as_str(), planned.get(attr).as_str()) {
        if old != new && same(old, new) {
            let old = old.to_string();
            planned.set(attr, Value::string(old));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn governance_failures_on_existing_resources_say_how_to_destroy_them() {
        let failed = || {
            let mut d = Diagnostics::new();
            d.attr_error(AttrPath::attr("retention_days"), "Retention too long", "Lower it.");
            d.warning("Note", "w");
            d
        };
        let mut created = Diagnostics::new();
        governance_failures(&Value::Null, failed(), &mut created);
        assert_eq!(created.0[0].detail, "Lower it.", "a create has nothing to destroy");
        let mut existing = Diagnostics::new();
        let prior = Value::object([("name", Value::string("orders"))]);
        governance_failures(&prior, failed(), &mut existing);
        assert!(existing.0[0].detail.contains("terraform destroy -refresh=false"), "{:?}", existing.0[0]);
        assert_eq!(existing.0[1].detail, "w", "warnings are left alone");
    }

    #[test]
    fn standard_tags_win_over_user_and_default_tags() {
        let defaults = BTreeMap::from([("team".to_string(), "a".to_string()), ("env".to_string(), "p".to_string())]);
        let tags = BTreeMap::from([("team".to_string(), "b".to_string())]);
        let all = tags_all(&defaults, &tags, &[("datamesh:domain", "sales".to_string())]);
        assert_eq!(all["team"], "b");
        assert_eq!(all["env"], "p");
        assert_eq!(all["datamesh:domain"], "sales");
    }

    #[test]
    fn reserved_and_bad_tags_are_rejected_at_their_key() {
        let mut config = Value::Object(BTreeMap::new());
        config.set(
            "tags",
            Value::Map(BTreeMap::from([
                ("datamesh:domain".to_string(), Value::string("x")),
                ("ok".to_string(), Value::string("fine")),
                ("nl".to_string(), Value::string("a\nb")),
            ])),
        );
        let mut d = Diagnostics::new();
        validate_tags(&config, &mut d);
        let paths: Vec<String> = d.0.iter().map(|x| x.path.as_ref().unwrap().to_string()).collect();
        assert_eq!(paths, vec!["tags[\"datamesh:domain\"]", "tags[\"nl\"]"]);
    }

    #[test]
    fn tag_characters_follow_the_aws_rule() {
        for ok in ['a', 'Z', '0', ' ', '_', '.', ':', '/', '=', '+', '-', '@', 'é'] {
            assert!(is_tag_char(ok), "{ok:?}");
        }
        for bad in ['*', '?', '"', '\'', '\n', '\\', '<', '{', ';', '$'] {
            assert!(!is_tag_char(bad), "{bad:?}");
        }
    }

    #[test]
    fn json_equivalence_ignores_layout() {
        assert!(json_equivalent("{\"a\":1,\"b\":[1,2]}", "{ \"b\": [1, 2], \"a\": 1 }"));
        assert!(!json_equivalent("{\"a\":1}", "{\"a\":2}"));
    }
}
