//! Schemas: what Terraform is told about each resource, plus the framework's own planning hints
//! (defaults, replacement) that never go on the wire.

use std::collections::BTreeMap;

use super::value::{Type, Value};

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
    /// becomes read-only, except the look-up attributes, which keep the given kind.
    pub fn for_data_source(resource: &Schema, description: &str, lookups: &[Attribute]) -> Schema {
        let mut attributes: Vec<Attribute> = resource
            .block
            .attributes
            .iter()
            .filter(|a| !lookups.iter().any(|l| l.name == a.name))
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

#[cfg(test)]
mod tests {
    use super::*;

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
