//! A conformance check of Open Data Product Standard v1.1.0 documents, written here from the
//! standard's JSON schema (bitol-io/open-data-product-standard, `schema/odps-json-schema-v1.1.0.json`):
//! the required fields, the closed sets of keys (`additionalProperties: false`), each field's
//! type, the enums, and the `date-time` timestamp, for every part a `datamesh_odps` document
//! uses or could use. No registry package ships that schema, so the rules are restated here
//! rather than copied.

use serde_json::Value as Json;

/// What a field holds.
enum Kind {
    Str,
    Bool,
    /// Any JSON value (a custom property's `value`).
    Any,
    /// A list of strings (`Tags`).
    Strs,
    Obj(&'static Spec),
    Objs(&'static Spec),
}

/// An object's rules: the keys it must have, and every key it may have with its kind.
struct Spec {
    name: &'static str,
    required: &'static [&'static str],
    fields: &'static [(&'static str, Kind)],
}

const CUSTOM_PROPERTY: Spec = Spec {
    name: "CustomProperty",
    required: &["property", "value"],
    fields: &[("id", Kind::Str), ("property", Kind::Str), ("value", Kind::Any), ("description", Kind::Str)],
};

const AUTHORITATIVE_DEFINITION: Spec = Spec {
    name: "AuthoritativeDefinition",
    required: &["type", "url"],
    fields: &[("id", Kind::Str), ("type", Kind::Str), ("url", Kind::Str), ("description", Kind::Str)],
};

const DESCRIPTION: Spec = Spec {
    name: "Description",
    required: &[],
    fields: &[
        ("purpose", Kind::Str),
        ("limitations", Kind::Str),
        ("usage", Kind::Str),
        ("authoritativeDefinitions", Kind::Objs(&AUTHORITATIVE_DEFINITION)),
        ("customProperties", Kind::Objs(&CUSTOM_PROPERTY)),
    ],
};

const INPUT_PORT: Spec = Spec {
    name: "InputPort",
    required: &["name"],
    fields: &[
        ("deprecated", Kind::Bool),
        ("id", Kind::Str),
        ("name", Kind::Str),
        ("version", Kind::Str),
        ("contractId", Kind::Str),
        ("tags", Kind::Strs),
        ("customProperties", Kind::Objs(&CUSTOM_PROPERTY)),
        ("authoritativeDefinitions", Kind::Objs(&AUTHORITATIVE_DEFINITION)),
    ],
};

const INPUT_CONTRACT: Spec =
    Spec { name: "InputContract", required: &["id", "version"], fields: &[("id", Kind::Str), ("version", Kind::Str)] };

const SBOM: Spec =
    Spec { name: "SBOM", required: &[], fields: &[("id", Kind::Str), ("type", Kind::Str), ("url", Kind::Str)] };

const OUTPUT_PORT: Spec = Spec {
    name: "OutputPort",
    required: &["name"],
    fields: &[
        ("deprecated", Kind::Bool),
        ("id", Kind::Str),
        ("name", Kind::Str),
        ("description", Kind::Str),
        ("type", Kind::Str),
        ("version", Kind::Str),
        ("contractId", Kind::Str),
        ("sbom", Kind::Objs(&SBOM)),
        ("inputContracts", Kind::Objs(&INPUT_CONTRACT)),
        ("tags", Kind::Strs),
        ("customProperties", Kind::Objs(&CUSTOM_PROPERTY)),
        ("authoritativeDefinitions", Kind::Objs(&AUTHORITATIVE_DEFINITION)),
    ],
};

const TEAM_MEMBER: Spec = Spec {
    name: "TeamMember",
    required: &["username"],
    fields: &[
        ("id", Kind::Str),
        ("username", Kind::Str),
        ("name", Kind::Str),
        ("description", Kind::Str),
        ("role", Kind::Str),
        ("dateIn", Kind::Str),
        ("dateOut", Kind::Str),
        ("replacedByUsername", Kind::Str),
        ("tags", Kind::Strs),
        ("customProperties", Kind::Objs(&CUSTOM_PROPERTY)),
        ("authoritativeDefinitions", Kind::Objs(&AUTHORITATIVE_DEFINITION)),
    ],
};

const TEAM: Spec = Spec {
    name: "Team",
    required: &[],
    fields: &[
        ("name", Kind::Str),
        ("description", Kind::Str),
        ("members", Kind::Objs(&TEAM_MEMBER)),
        ("tags", Kind::Strs),
        ("customProperties", Kind::Objs(&CUSTOM_PROPERTY)),
        ("authoritativeDefinitions", Kind::Objs(&AUTHORITATIVE_DEFINITION)),
    ],
};

const SUPPORT: Spec = Spec {
    name: "Support",
    required: &["channel", "url"],
    fields: &[
        ("id", Kind::Str),
        ("channel", Kind::Str),
        ("url", Kind::Str),
        ("description", Kind::Str),
        ("tool", Kind::Str),
        ("scope", Kind::Str),
        ("invitationUrl", Kind::Str),
        ("tags", Kind::Strs),
        ("customProperties", Kind::Objs(&CUSTOM_PROPERTY)),
        ("authoritativeDefinitions", Kind::Objs(&AUTHORITATIVE_DEFINITION)),
    ],
};

/// The document itself. (`synonyms`, `context` and `managementPorts` are in the standard but
/// never written by the provider: a document carrying them fails here, which is what we want
/// to hear about.)
const DATA_PRODUCT: Spec = Spec {
    name: "DataProduct",
    required: &["apiVersion", "kind", "id"],
    fields: &[
        ("apiVersion", Kind::Str),
        ("kind", Kind::Str),
        ("id", Kind::Str),
        ("name", Kind::Str),
        ("deprecated", Kind::Bool),
        ("version", Kind::Str),
        ("status", Kind::Str),
        ("domain", Kind::Str),
        ("type", Kind::Str),
        ("tenant", Kind::Str),
        ("authoritativeDefinitions", Kind::Objs(&AUTHORITATIVE_DEFINITION)),
        ("description", Kind::Obj(&DESCRIPTION)),
        ("customProperties", Kind::Objs(&CUSTOM_PROPERTY)),
        ("tags", Kind::Strs),
        ("inputPorts", Kind::Objs(&INPUT_PORT)),
        ("outputPorts", Kind::Objs(&OUTPUT_PORT)),
        ("support", Kind::Objs(&SUPPORT)),
        ("team", Kind::Obj(&TEAM)),
        ("productCreatedTs", Kind::Str),
    ],
};

/// Every way `doc` breaks the standard, each at its JSON path; empty when it conforms.
pub fn violations(doc: &Json) -> Vec<String> {
    let mut out = Vec::new();
    check(&DATA_PRODUCT, doc, "$", &mut out);
    if !matches!(doc["apiVersion"].as_str(), Some("v1.1.0" | "v1.0.0" | "v0.9.0")) {
        out.push(format!("$.apiVersion: {} is none of v1.1.0, v1.0.0, v0.9.0", doc["apiVersion"]));
    }
    if doc["kind"] != "DataProduct" {
        out.push(format!("$.kind: {} is not DataProduct", doc["kind"]));
    }
    if let Some(ts) = doc.get("productCreatedTs").and_then(Json::as_str) {
        if !is_date_time(ts) {
            out.push(format!("$.productCreatedTs: {ts:?} is not an RFC 3339 date-time"));
        }
    }
    out
}

/// Asserts that `doc` conforms, listing every violation otherwise.
pub fn assert_conforms(doc: &Json) {
    let found = violations(doc);
    assert!(found.is_empty(), "not an ODPS v1.1.0 document:\n  {}\n{doc:#}", found.join("\n  "));
}

fn check(spec: &Spec, value: &Json, at: &str, out: &mut Vec<String>) {
    let Some(obj) = value.as_object() else {
        out.push(format!("{at}: a {} must be an object, found {value}", spec.name));
        return;
    };
    for key in spec.required {
        if !obj.contains_key(*key) {
            out.push(format!("{at}: the {} lacks required {key:?}", spec.name));
        }
    }
    for (key, v) in obj {
        let path = format!("{at}.{key}");
        match spec.fields.iter().find(|(name, _)| name == key) {
            None => {
                out.push(format!("{path}: {:?} is not a property of {} (additionalProperties: false)", key, spec.name))
            }
            Some((_, kind)) => check_kind(kind, v, &path, out),
        }
    }
}

fn check_kind(kind: &Kind, v: &Json, path: &str, out: &mut Vec<String>) {
    match kind {
        Kind::Any => {}
        Kind::Str if !v.is_string() => out.push(format!("{path}: must be a string, found {v}")),
        Kind::Bool if !v.is_boolean() => out.push(format!("{path}: must be a boolean, found {v}")),
        Kind::Str | Kind::Bool => {}
        Kind::Strs => match v.as_array() {
            Some(items) if items.iter().all(Json::is_string) => {}
            _ => out.push(format!("{path}: must be a list of strings, found {v}")),
        },
        Kind::Obj(spec) => check(spec, v, path, out),
        Kind::Objs(spec) => match v.as_array() {
            Some(items) => {
                items.iter().enumerate().for_each(|(i, item)| check(spec, item, &format!("{path}[{i}]"), out))
            }
            None => out.push(format!("{path}: must be a list of {} objects, found {v}", spec.name)),
        },
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 20 || !digits(0..4) || b[4] != b'-' || !digits(5..7) || b[7] != b'-' || !digits(8..10) {
        return false;
    }
    if !matches!(b[10], b'T' | b't') || !digits(11..13) || b[13] != b':' || !digits(14..16) || b[16] != b':' {
        return false;
    }
    if !digits(17..19) {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    matches!(rest, "Z" | "z") || (rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_check_finds_what_breaks_the_standard() {
        let good = json!({
            "apiVersion": "v1.1.0", "kind": "DataProduct", "id": "a/b",
            "outputPorts": [{ "name": "s3", "customProperties": [{ "property": "x", "value": 1 }] }],
            "productCreatedTs": "2026-12-02T10:00:00.123Z"
        });
        assert!(violations(&good).is_empty(), "{:?}", violations(&good));
        let bad = json!({
            "apiVersion": "v2", "kind": "Product",
            "outputPorts": [{ "type": "s3", "extra": true }],
            "customProperties": [{ "property": "x" }],
            "tags": ["ok", 1],
            "productCreatedTs": "yesterday"
        });
        let found = violations(&bad).join("\n");
        for want in [
            "lacks required \"id\"",
            "$.outputPorts[0]: the OutputPort lacks required \"name\"",
            "\"extra\" is not a property of OutputPort",
            "$.customProperties[0]: the CustomProperty lacks required \"value\"",
            "$.tags: must be a list of strings",
            "$.apiVersion",
            "$.kind",
            "$.productCreatedTs",
        ] {
            assert!(found.contains(want), "{want:?} missing from:\n{found}");
        }
    }
}
