//! Pure conversions between the generated protocol types and the framework's types.

use crate::framework::diag::PathStep;
use crate::framework::function::Function;
use crate::framework::{AttrPath, Attribute, Block, Diagnostic, Diagnostics, Nesting, Schema, Severity, Type, Value};

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

    #[test]
    fn absent_values_decode_as_null() {
        assert_eq!(decode(None, &Type::String, "config").unwrap(), Value::Null);
        let bad = pb::DynamicValue { msgpack: vec![0x92, 0x01], json: vec![] };
        let err = decode(Some(&bad), &Type::String, "config").unwrap_err();
        assert!(err.detail.contains("config"));
    }
}
