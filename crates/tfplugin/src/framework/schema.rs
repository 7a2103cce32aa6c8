//! Schemas: what Terraform is told about each resource, plus the framework's own planning hints
//! (defaults, replacement) that never go on the wire.

use std::collections::BTreeMap;

use super::value::{CodecError, Type, Value};

/// A versioned schema of a provider, resource or data source.
#[derive(Debug, Clone)]
pub struct Schema {
    /// Bumped when the stored state's shape changes.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

/// A block: attributes and nested blocks.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// What the block is for (Markdown).
    pub description: String,
    /// Attributes, in the order docs list them.
    pub attributes: Vec<Attribute>,
    /// Nested blocks.
    pub blocks: Vec<NestedBlock>,
}

/// How a nested block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one, e.g. `aws { ... }`.
    Single,
    /// A list of blocks.
    List,
}

/// A nested block, like `kafka { ... }` in the provider configuration.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    /// The block's type name.
    pub name: String,
    /// Its contents.
    pub block: Block,
    /// How it repeats.
    pub nesting: Nesting,
}

/// One attribute and how the framework plans it.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// What it means and which values it takes (Markdown).
    pub description: String,
    /// The user must set it.
    pub required: bool,
    /// The user may set it.
    pub optional: bool,
    /// The provider sets it (when the user doesn't, for optional ones).
    pub computed: bool,
    /// Terraform hides it in output.
    pub sensitive: bool,
    /// Write-only (protocol 6.8, Terraform >= 1.11): the value is in the configuration only,
    /// never in plan or state. The framework nulls it in every planned and new state, and hands
    /// it to create and update inside the planned value.
    pub write_only: bool,
    /// The value planned when the user leaves it unset.
    pub default: Option<Value>,
    /// A change replaces the resource.
    pub requires_replace: bool,
}

impl Attribute {
    fn new(name: &str, ty: Type, description: &str) -> Self {
        Self {
            name: name.into(),
            ty,
            description: description.into(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            default: None,
            requires_replace: false,
        }
    }
    /// A required attribute.
    pub fn required(name: &str, ty: Type, description: &str) -> Self {
        Self { required: true, ..Self::new(name, ty, description) }
    }
    /// An optional attribute.
    pub fn optional(name: &str, ty: Type, description: &str) -> Self {
        Self { optional: true, ..Self::new(name, ty, description) }
    }
    /// A read-only attribute.
    pub fn computed(name: &str, ty: Type, description: &str) -> Self {
        Self { computed: true, ..Self::new(name, ty, description) }
    }
    /// An optional attribute the provider fills when unset.
    pub fn optional_computed(name: &str, ty: Type, description: &str) -> Self {
        Self { optional: true, computed: true, ..Self::new(name, ty, description) }
    }
    /// Planned as `value` when unset (makes the attribute optional + computed).
    pub fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self.optional = true;
        self.computed = true;
        self
    }
    /// Changing it replaces the resource.
    pub fn replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
    /// Hidden in Terraform's output.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Write-only (and sensitive): see [`Attribute::write_only`].
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self.sensitive = true;
        self
    }
}

impl Block {
    /// A block of these attributes.
    pub fn new(description: &str, attributes: Vec<Attribute>) -> Self {
        Self { description: description.into(), attributes, blocks: Vec::new() }
    }
    /// Adds a nested block.
    pub fn with_block(mut self, name: &str, nesting: Nesting, block: Block) -> Self {
        self.blocks.push(NestedBlock { name: name.into(), block, nesting });
        self
    }
    /// The object type of this block's values.
    pub fn ty(&self) -> Type {
        let mut fields: BTreeMap<String, Type> =
            self.attributes.iter().map(|a| (a.name.clone(), a.ty.clone())).collect();
        for b in &self.blocks {
            let inner = b.block.ty();
            let ty = match b.nesting {
                Nesting::Single => inner,
                Nesting::List => Type::List(Box::new(inner)),
            };
            fields.insert(b.name.clone(), ty);
        }
        Type::Object(fields)
    }
    /// The attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

impl Schema {
    /// A version-0 schema.
    pub fn new(block: Block) -> Self {
        Self { version: 0, block }
    }
    /// The object type of values of this schema.
    pub fn ty(&self) -> Type {
        self.block.ty()
    }
}

/// A resource attribute's description without the sentences about setting it (defaults,
/// replacement, limits), which mean nothing on a read-only attribute.
fn read_only_description(description: &str) -> String {
    let about_setting = ["Changing it", "Default", "May only grow", "Changes in place", "Reformatting it"];
    let kept: Vec<&str> = description
        .split_inclusive(". ")
        .filter(|sentence| !about_setting.iter().any(|p| sentence.trim_start().starts_with(p)))
        .collect();
    let text = kept.concat().trim().to_string();
    if text.is_empty() {
        description.to_string()
    } else {
        text
    }
}

impl Schema {
    /// The schema of a data source that reads what a resource manages: every attribute
    /// becomes read-only, except the look-up attributes, which keep the given kind. Write-only
    /// attributes have nothing to read and are left out.
    pub fn for_data_source(resource: &Schema, description: &str, lookups: &[Attribute]) -> Schema {
        let mut attributes: Vec<Attribute> = resource
            .block
            .attributes
            .iter()
            .filter(|a| !a.write_only && !lookups.iter().any(|l| l.name == a.name))
            .map(|a| Attribute {
                description: read_only_description(&a.description),
                required: false,
                optional: false,
                computed: true,
                default: None,
                requires_replace: false,
                ..a.clone()
            })
            .collect();
        attributes.extend(lookups.iter().cloned());
        attributes.sort_by(|a, b| a.name.cmp(&b.name));
        Schema::new(Block::new(description, attributes))
    }
}

/// A schema as JSON, with the framework's planning hints (defaults, replacement) that the
/// protocol never carries: a snapshot of a provider's schemas for tools outside it (the fuzz
/// targets plan values against such snapshots). Descriptions are left out.
impl Schema {
    /// The snapshot of this schema.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "version": self.version, "block": block_to_json(&self.block) })
    }

    /// Reads a snapshot written by [`Schema::to_json`].
    pub fn from_json(json: &serde_json::Value) -> Result<Schema, CodecError> {
        let version = json.get("version").and_then(serde_json::Value::as_i64).unwrap_or(0);
        let block = json.get("block").ok_or_else(|| CodecError::new("a schema needs a \"block\""))?;
        Ok(Schema { version, block: block_from_json(block)? })
    }
}

fn block_to_json(block: &Block) -> serde_json::Value {
    let attributes: Vec<serde_json::Value> = block
        .attributes
        .iter()
        .map(|a| {
            serde_json::json!({
                "name": a.name,
                "type": a.ty.to_json(),
                "required": a.required,
                "optional": a.optional,
                "computed": a.computed,
                "sensitive": a.sensitive,
                "write_only": a.write_only,
                "requires_replace": a.requires_replace,
                "default": a.default.as_ref().map(Value::to_json),
            })
        })
        .collect();
    let blocks: Vec<serde_json::Value> = block
        .blocks
        .iter()
        .map(|b| {
            let nesting = match b.nesting {
                Nesting::Single => "single",
                Nesting::List => "list",
            };
            serde_json::json!({ "name": b.name, "nesting": nesting, "block": block_to_json(&b.block) })
        })
        .collect();
    serde_json::json!({ "attributes": attributes, "blocks": blocks })
}

fn block_from_json(json: &serde_json::Value) -> Result<Block, CodecError> {
    let list = |key: &str| json.get(key).and_then(serde_json::Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut block = Block::default();
    for a in list("attributes") {
        let name = a
            .get("name")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| CodecError::new("an attribute needs a name"))?;
        let ty = Type::from_json(a.get("type").unwrap_or(&serde_json::Value::Null)).map_err(|e| e.within(name))?;
        let flag = |key: &str| a.get(key).and_then(serde_json::Value::as_bool).unwrap_or(false);
        let default = match a.get("default") {
            None | Some(serde_json::Value::Null) => None,
            Some(d) => Some(Value::from_json_typed(d, &ty).map_err(|e| e.within(name))?),
        };
        block.attributes.push(Attribute {
            name: name.to_string(),
            description: String::new(),
            required: flag("required"),
            optional: flag("optional"),
            computed: flag("computed"),
            sensitive: flag("sensitive"),
            write_only: flag("write_only"),
            requires_replace: flag("requires_replace"),
            default,
            ty,
        });
    }
    for b in list("blocks") {
        let name =
            b.get("name").and_then(serde_json::Value::as_str).ok_or_else(|| CodecError::new("a block needs a name"))?;
        let nesting = match b.get("nesting").and_then(serde_json::Value::as_str) {
            Some("single") => Nesting::Single,
            Some("list") => Nesting::List,
            other => return Err(CodecError::new(format!("unknown nesting {other:?}")).within(name)),
        };
        let inner = block_from_json(b.get("block").unwrap_or(&serde_json::Value::Null)).map_err(|e| e.within(name))?;
        block.blocks.push(NestedBlock { name: name.to_string(), block: inner, nesting });
    }
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_keep_types_flags_defaults_and_nested_blocks() {
        let schema = Schema::new(
            Block::new(
                "d",
                vec![
                    Attribute::required("name", Type::String, "n").replace(),
                    Attribute::optional("partitions", Type::Number, "p").default(Value::Number(3.0)),
                    Attribute::computed("secret", Type::String, "s").sensitive(),
                    Attribute::optional("tags", Type::map(Type::String), "t"),
                ],
            )
            .with_block(
                "kafka",
                Nesting::Single,
                Block::new("", vec![Attribute::optional("x", Type::Bool, "")]),
            ),
        );
        let back = Schema::from_json(&schema.to_json()).expect("reads back");
        assert_eq!(back.ty(), schema.ty());
        assert_eq!(back.to_json(), schema.to_json());
        let p = back.block.attribute("partitions").expect("partitions");
        assert_eq!(p.default, Some(Value::Number(3.0)));
        assert!(back.block.attribute("name").is_some_and(|a| a.required && a.requires_replace));
        assert!(Schema::from_json(&serde_json::json!({})).is_err());
    }

    #[test]
    fn block_type_includes_single_nested_blocks_as_objects() {
        let inner = Block::new("", vec![Attribute::optional("region", Type::String, "r")]);
        let b = Block::new("", vec![Attribute::required("name", Type::String, "n")]).with_block(
            "aws",
            Nesting::Single,
            inner,
        );
        let Type::Object(fields) = b.ty() else { panic!("not an object") };
        assert_eq!(fields["name"], Type::String);
        assert!(matches!(fields["aws"], Type::Object(_)));
    }

    #[test]
    fn data_source_schemas_make_everything_but_lookups_read_only() {
        let resource = Schema::new(Block::new(
            "",
            vec![
                Attribute::required("name", Type::String, "n").replace(),
                Attribute::optional("tags", Type::map(Type::String), "t"),
            ],
        ));
        let ds = Schema::for_data_source(&resource, "d", &[Attribute::required("name", Type::String, "n")]);
        let tags = ds.block.attribute("tags").unwrap();
        assert!(tags.computed && !tags.optional && !tags.required);
        assert!(ds.block.attribute("name").unwrap().required);
    }

    #[test]
    fn read_only_descriptions_drop_sentences_about_setting_values() {
        assert_eq!(read_only_description("Partition count. May only grow: no. Default `3`."), "Partition count.");
        assert_eq!(read_only_description("The ID. Changing it replaces the stream."), "The ID.");
        assert_eq!(read_only_description("Default `x`."), "Default `x`.");
    }

    #[test]
    fn defaults_make_attributes_optional_and_computed() {
        let a = Attribute::optional("partitions", Type::Number, "p").default(Value::Number(3.0));
        assert!(a.optional && a.computed && !a.required);
    }
}
