//! Pure conversions between the generated protocol types and the framework's types.

use crate::framework::diag::PathStep;
use crate::framework::function::Function;
use crate::framework::{
    AttrPath, Attribute, Block, Diagnostic, Diagnostics, MoveSource, Nesting, Schema, Severity, Type, Value,
};

use super::dynamic_value::{decode_json, decode_msgpack, encode_msgpack};
use super::tfplugin6 as pb;

/// A framework schema as Terraform sees it.
pub(super) fn schema_to_proto(schema: &Schema) -> pb::Schema {
    pb::Schema { version: schema.version, block: Some(block_to_proto(&schema.block)) }
}

fn block_to_proto(block: &Block) -> pb::schema::Block {
    pb::schema::Block {
        version: 0,
        attributes: block.attributes.iter().map(attribute_to_proto).collect(),
        block_types: block
            .blocks
            .iter()
            .map(|b| pb::schema::NestedBlock {
                type_name: b.name.clone(),
                block: Some(block_to_proto(&b.block)),
                nesting: match b.nesting {
                    Nesting::Single => pb::schema::nested_block::NestingMode::Single,
                    Nesting::List => pb::schema::nested_block::NestingMode::List,
                } as i32,
                // Terraform requires MinItems == MaxItems for NestingSingle (0 and 0 for an
                // optional block, as terraform-plugin-framework sends); a list is unbounded.
                min_items: 0,
                max_items: 0,
            })
            .collect(),
        description: block.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: false,
        deprecation_message: String::new(),
    }
}

fn attribute_to_proto(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: a.ty.to_json().to_string().into_bytes(),
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        write_only: a.write_only,
        description_kind: pb::StringKind::Markdown as i32,
        ..Default::default()
    }
}

/// A function's signature as Terraform sees it: string parameters, a string result.
pub(super) fn function_to_proto(f: &Function) -> pb::Function {
    let string = Type::String.to_json().to_string().into_bytes();
    pb::Function {
        parameters: f
            .parameters
            .iter()
            .map(|(name, description)| pb::function::Parameter {
                name: name.to_string(),
                r#type: string.clone(),
                allow_null_value: false,
                allow_unknown_values: false,
                description: description.to_string(),
                description_kind: pb::StringKind::Markdown as i32,
            })
            .collect(),
        variadic_parameter: None,
        r#return: Some(pb::function::Return { r#type: string }),
        summary: f.summary.to_string(),
        description: f.description.to_string(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: String::new(),
    }
}

/// Diagnostics as Terraform sees them.
pub(super) fn diagnostics_to_proto(diags: &Diagnostics) -> Vec<pb::Diagnostic> {
    diags.0.iter().map(diagnostic_to_proto).collect()
}

fn diagnostic_to_proto(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.path.as_ref().map(path_to_proto),
    }
}

/// An attribute path as Terraform sees it.
pub(super) fn path_to_proto(path: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .0
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attr(a) => Selector::AttributeName(a.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

/// What a MoveResourceState request moves: the source's state and identity as stored (JSON;
/// the flatmap form predates the call and is refused), with where they come from.
pub(super) fn move_source_from_proto(req: &pb::move_resource_state::Request) -> Result<MoveSource, Diagnostic> {
    let raw = |raw: Option<&pb::RawState>, what: &str| -> Result<Option<serde_json::Value>, Diagnostic> {
        let Some(raw) = raw.filter(|r| !r.json.is_empty() || !r.flatmap.is_empty()) else { return Ok(None) };
        if raw.json.is_empty() {
            return Err(Diagnostic::error(
                "Cannot read the moved state",
                format!("Terraform sent the moved resource's {what} in the legacy flatmap form, which moves never use. Upgrade Terraform to 1.8 or later."),
            ));
        }
        serde_json::from_slice(&raw.json).map(Some).map_err(|e| {
            Diagnostic::error(
                "Cannot read the moved state",
                format!("The moved resource's {what} sent by Terraform is not JSON ({e}). Check the state of {} with `terraform state show`.", req.source_type_name),
            )
        })
    };
    let state = raw(req.source_state.as_ref(), "state")?.ok_or_else(|| {
        Diagnostic::error(
            "Cannot read the moved state",
            format!(
                "Terraform sent no state for the moved {}. Check that it is in state (`terraform state list`).",
                req.source_type_name
            ),
        )
    })?;
    Ok(MoveSource {
        provider_address: req.source_provider_address.clone(),
        type_name: req.source_type_name.clone(),
        schema_version: req.source_schema_version,
        state,
        private: req.source_private.clone(),
        identity: raw(req.source_identity.as_ref(), "identity")?,
        identity_schema_version: req.source_identity_schema_version,
    })
}

/// Decodes a DynamicValue of a known type; an absent value is null.
pub(super) fn decode(value: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostic> {
    let Some(v) = value else { return Ok(Value::Null) };
    capture(what, v);
    let decoded = if !v.msgpack.is_empty() {
        decode_msgpack(&v.msgpack, ty)
    } else if !v.json.is_empty() {
        decode_json(&v.json, ty)
    } else {
        return Ok(Value::Null);
    };
    decoded.map_err(|e| {
        Diagnostic::error(
            "Cannot decode a value from Terraform",
            format!("The {what} sent by Terraform does not match the provider's schema: {e}. Check that Terraform and the provider versions are compatible."),
        )
    })
}

/// With `TFPLUGIN_CAPTURE_DIR` set, keeps every value Terraform sends as a file there: the
/// fuzzers' seed corpus comes from real requests this way. Never set in normal use.
fn capture(what: &str, v: &pb::DynamicValue) {
    static DIR: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let Some(dir) = DIR.get_or_init(|| std::env::var_os("TFPLUGIN_CAPTURE_DIR").map(Into::into)) else { return };
    let (bytes, ext) = if v.msgpack.is_empty() { (&v.json, "json") } else { (&v.msgpack, "msgpack") };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(bytes, &mut hasher);
    let name = format!("{}-{:016x}.{ext}", what.replace(' ', "_"), std::hash::Hasher::finish(&hasher));
    let _ = std::fs::write(dir.join(name), bytes);
}

/// Encodes a value of a known type as msgpack.
pub(super) fn encode(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostic> {
    encode_msgpack(value, ty).map(|msgpack| pb::DynamicValue { msgpack, json: Vec::new() }).map_err(|e| {
        Diagnostic::error(
            "Cannot encode a value for Terraform",
            format!("{e}. This is a bug in the provider; please report it."),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_protocol_steps() {
        use pb::attribute_path::step::Selector;
        let p = path_to_proto(&AttrPath::attr("tags").key("team"));
        let steps: Vec<_> = p.steps.into_iter().map(|s| s.selector).collect();
        assert_eq!(
            steps,
            vec![Some(Selector::AttributeName("tags".into())), Some(Selector::ElementKeyString("team".into()))]
        );
    }

    #[test]
    fn errors_keep_their_severity_summary_and_path() {
        let mut d = Diagnostics::new();
        d.attr_error(AttrPath::attr("name"), "Invalid name", "Use lowercase.");
        let pbd = diagnostics_to_proto(&d);
        assert_eq!(pbd[0].severity, pb::diagnostic::Severity::Error as i32);
        assert_eq!(pbd[0].summary, "Invalid name");
        assert!(pbd[0].attribute.is_some());
    }

    #[test]
    fn schema_types_are_cty_json() {
        let s = Schema::new(Block::new("d", vec![Attribute::optional("tags", Type::map(Type::String), "t")]));
        let pbs = schema_to_proto(&s);
        let attr = &pbs.block.unwrap().attributes[0];
        assert_eq!(String::from_utf8(attr.r#type.clone()).unwrap(), r#"["map","string"]"#);
        assert!(attr.optional && !attr.required);
    }

    #[test]
    fn single_nested_blocks_have_equal_min_and_max_items() {
        // Regression: Terraform refused the schema of a resource with a single nested block
        // ("MinItems and MaxItems must match in NestingSingle mode") when MaxItems was 1.
        let s = Schema::new(Block::new("d", vec![]).with_block("q", Nesting::Single, Block::new("", vec![])));
        let block = schema_to_proto(&s).block.unwrap();
        let nested = &block.block_types[0];
        assert_eq!(nested.nesting, pb::schema::nested_block::NestingMode::Single as i32);
        assert_eq!((nested.min_items, nested.max_items), (0, 0));
    }

    fn move_request(state: &str, identity: Option<&str>) -> pb::move_resource_state::Request {
        let raw = |json: &str| pb::RawState { json: json.as_bytes().to_vec(), flatmap: Default::default() };
        pb::move_resource_state::Request {
            source_provider_address: "registry.terraform.io/acme/widgets".into(),
            source_type_name: "widgets_widget".into(),
            source_schema_version: 2,
            source_state: Some(raw(state)),
            target_type_name: "example_thing".into(),
            source_private: b"opaque".to_vec(),
            source_identity: identity.map(raw),
            source_identity_schema_version: 1,
        }
    }

    #[test]
    fn a_moved_state_keeps_where_it_came_from_and_its_json() {
        let source = move_request(r#"{"id":"w-1","size":3}"#, Some(r#"{"id":"w-1"}"#));
        let moved = move_source_from_proto(&source).unwrap();
        assert_eq!(moved.provider_address, "registry.terraform.io/acme/widgets");
        assert_eq!(moved.type_name, "widgets_widget");
        assert_eq!(moved.schema_version, 2);
        assert_eq!(moved.state, serde_json::json!({"id": "w-1", "size": 3}));
        assert_eq!(moved.private, b"opaque");
        assert_eq!(moved.identity, Some(serde_json::json!({"id": "w-1"})));
        assert_eq!(moved.identity_schema_version, 1);
    }

    #[test]
    fn a_moved_state_without_identity_has_none() {
        assert_eq!(move_source_from_proto(&move_request("{}", None)).unwrap().identity, None);
        assert_eq!(move_source_from_proto(&move_request("{}", Some(""))).unwrap().identity, None);
    }

    #[test]
    fn a_moved_state_that_is_missing_flatmap_or_not_json_is_an_error() {
        let mut none = move_request("{}", None);
        none.source_state = None;
        assert!(move_source_from_proto(&none).unwrap_err().detail.contains("no state for the moved widgets_widget"));
        let mut flat = move_request("", None);
        flat.source_state = Some(pb::RawState { json: vec![], flatmap: [("id".into(), "w-1".into())].into() });
        assert!(move_source_from_proto(&flat).unwrap_err().detail.contains("flatmap"));
        let bad = move_source_from_proto(&move_request("{\"id\":", None)).unwrap_err();
        assert_eq!(bad.summary, "Cannot read the moved state");
        assert!(bad.detail.contains("not JSON"), "{}", bad.detail);
        let bad_identity = move_source_from_proto(&move_request("{}", Some("[1,"))).unwrap_err();
        assert!(bad_identity.detail.contains("identity"), "{}", bad_identity.detail);
    }

    #[test]
    fn absent_values_decode_as_null() {
        assert_eq!(decode(None, &Type::String, "config").unwrap(), Value::Null);
        let bad = pb::DynamicValue { msgpack: vec![0x92, 0x01], json: vec![] };
        let err = decode(Some(&bad), &Type::String, "config").unwrap_err();
        assert!(err.detail.contains("config"));
    }
}
